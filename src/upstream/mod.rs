//! Delivery of posted services to the HMIS (the outbox worker), the scheduled enrollment pull,
//! and the supervisor's delivery routes.
//!
//! The post queues one outbox row per delivery in its own transaction. [`run`] sends every due
//! row: `http-json` as `POST {url}/services` with a fixed `Idempotency-Key`, `clienttrack-csv` as a
//! file dropped into a folder. A row stays `queued` until acknowledged, so nothing is lost: after a
//! crash the same row (same key, same services) is simply sent again. 408/429/5xx, network and TLS
//! errors are retried with exponential backoff and jitter (or the server's `Retry-After`) without
//! end; any other 4xx parks the row as `failed` with the reason until a supervisor retries it.

pub mod filedrop;
pub mod http;
pub mod pull;
pub mod retry_after;
pub mod tls;

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::app::App;
use crate::app::AppError;
use crate::config::UpstreamKind;
use crate::store::outbox::{self, Attempt, Delivery, DeliveryKind};

pub use crate::backoff::Backoff;
use http::Outcome;

/// The outbox worker (and the scheduled enrollment pull), until `shutdown` turns true.
pub async fn run(app: App, shutdown: watch::Receiver<bool>) {
    run_with(app, shutdown, Backoff::default()).await
}

/// [`run`] with a chosen retry timing (tests use a short one).
pub async fn run_with(app: App, mut shutdown: watch::Receiver<bool>, backoff: Backoff) {
    let pull = if app.settings.pull.is_some() {
        Some(tokio::spawn(pull::run(app.clone(), shutdown.clone())))
    } else {
        None
    };
    let worker = Worker::new(app.clone(), backoff);
    worker.record_setup().await;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let next = tokio::select! {
            r = worker.pass() => r,
            _ = shutdown.changed() => break,
        };
        let wait = match next {
            Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or(Duration::ZERO),
            Ok(None) => Duration::from_secs(3600),
            Err(e) => {
                log::error!("upstream: outbox: {e}");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = app.outbox_notify.notified() => {}
            _ = shutdown.changed() => break,
        }
    }
    if let Some(p) = pull {
        let _ = p.await;
    }
}

/// The worker's errors: the store failed (the pass is tried again shortly).
pub type WorkerError = AppError;

/// How many deliveries are sent at once.
pub const PARALLEL: usize = 4;
/// How many due deliveries a pass takes at a time (their results share one disk flush).
pub const CHUNK: usize = 128;

/// Sends due deliveries, oldest first, a few at a time.
pub struct Worker {
    app: App,
    /// The HTTP client, or why there is none (bad URL, unreadable CA file).
    client: Result<reqwest::Client, String>,
    backoff: Backoff,
}

impl Worker {
    pub fn new(app: App, backoff: Backoff) -> Worker {
        let up = &app.settings.upstream;
        let client = if up.url.is_empty() {
            Err("upstream.url is not set".to_string())
        } else {
            tls::http_client(
                &up.url,
                up.ca_file.as_deref(),
                tls::Timeouts {
                    connect: up.connect_timeout,
                    request: Some(up.request_timeout),
                    read: None,
                },
            )
            .map_err(|e| e.to_string())
        };
        Worker {
            app,
            client,
            backoff,
        }
    }

    /// Note a setup problem of the configured kind for `/status` (and the log).
    async fn record_setup(&self) {
        let problem = match (&self.client, self.app.settings.upstream.kind) {
            (Err(e), UpstreamKind::HttpJson) => Some(e.clone()),
            _ => None,
        };
        if let Some(p) = &problem {
            log::error!("upstream: {p}; deliveries stay queued");
        }
        if let Err(e) = self.app.record_upstream_setup(problem).await {
            log::error!("upstream: cannot record the setup state: {e}");
        }
    }

    /// Send every delivery due now; returns when the next queued one is due (None: none queued).
    ///
    /// Due deliveries are taken [`CHUNK`] at a time and sent [`PARALLEL`] at once. While a chunk
    /// is being sent, the results of the one before are recorded in one transaction (one disk
    /// flush) and the next one is read, so the store costs no sending time. A crash before a
    /// result is recorded only means the delivery is sent again, with the same idempotency key
    /// and the same services.
    pub async fn pass(&self) -> Result<Option<DateTime<Utc>>, WorkerError> {
        let mut sent: Vec<(Delivery, Outcome)> = Vec::new();
        let mut due = self.app.due_deliveries(0, CHUNK).await?;
        while let Some((last, _)) = due.last() {
            let after = last.id;
            // The token file is read once a chunk: a new token takes effect at the next one.
            let token = match due.iter().any(|(d, _)| d.kind == DeliveryKind::HttpJson) {
                true => Some(read_token(self.app.settings.upstream.token_file.as_deref()).await),
                false => None,
            };
            // Futures do nothing until polled: `buffered` runs PARALLEL of them at a time.
            let attempts: Vec<_> = due
                .iter()
                .map(|(d, s)| self.attempt(d, s, token.as_ref()))
                .collect();
            let sending = futures_util::stream::iter(attempts)
                .buffered(PARALLEL)
                .collect::<Vec<Outcome>>();
            let previous = std::mem::take(&mut sent);
            let store_work = async {
                let recorded = self.record(previous).await;
                (recorded, self.app.due_deliveries(after, CHUNK).await)
            };
            let (outcomes, (recorded, next)) = tokio::join!(sending, store_work);
            sent = due.into_iter().map(|(d, _)| d).zip(outcomes).collect();
            // A result not recorded means that delivery is sent again, with the same key.
            recorded?;
            due = match next {
                Ok(next) => next,
                Err(e) => {
                    self.record(sent).await?;
                    return Err(e);
                }
            };
        }
        self.record(sent).await?;
        self.app.next_delivery_due().await
    }

    /// One attempt of one delivery (`token`: the bearer token, read for this chunk).
    async fn attempt(
        &self,
        d: &Delivery,
        services: &Result<Vec<outbox::PostedService>, String>,
        token: Option<&Result<String, String>>,
    ) -> Outcome {
        match services {
            Err(missing) => Outcome::Park {
                log: "a service is missing".into(),
                reason: missing.clone(),
            },
            Ok(services) => match d.kind {
                DeliveryKind::HttpJson => self.send_http(d, services, token).await,
                DeliveryKind::ClientTrackCsv => self.write_file(d, services).await,
            },
        }
    }

    /// Log the outcomes (counts and ids, no names) and record them in one transaction.
    async fn record(&self, records: Vec<(Delivery, Outcome)>) -> Result<(), WorkerError> {
        if records.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let mut writes = Vec::with_capacity(records.len());
        for (d, outcome) in &records {
            let n = d.service_ids.len();
            let attempt = d.attempts + 1;
            let id = d.id;
            let write = match outcome {
                Outcome::Delivered => {
                    log::info!(
                        "upstream: delivered {n} services of batch {} (delivery {id}, attempt {attempt})",
                        d.batch_id
                    );
                    Attempt::Delivered(now)
                }
                Outcome::Retry { reason, log, after } => {
                    let wait = after.unwrap_or_else(|| self.backoff.delay_random(attempt as u32));
                    log::warn!(
                        "upstream: delivery {id} of batch {} ({n} services) attempt {attempt} failed: \
                         {log}; retrying in {}s",
                        d.batch_id,
                        wait.as_secs()
                    );
                    let next = now
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                    Attempt::Retry(next, reason.clone())
                }
                Outcome::Park { reason, log } => {
                    log::error!(
                        "upstream: delivery {id} of batch {} ({n} services) refused: {log}; parked \
                         until a supervisor retries it",
                        d.batch_id
                    );
                    Attempt::Failed(reason.clone())
                }
            };
            writes.push((d.clone(), write));
        }
        self.app.record_attempts(writes).await
    }

    async fn send_http(
        &self,
        d: &Delivery,
        services: &[outbox::PostedService],
        token: Option<&Result<String, String>>,
    ) -> Outcome {
        let client = match &self.client {
            Ok(c) => c,
            Err(e) => {
                return Outcome::Retry {
                    reason: e.clone(),
                    log: e.clone(),
                    after: None,
                }
            }
        };
        let up = &self.app.settings.upstream;
        let token = match token {
            Some(Ok(t)) => t.clone(),
            Some(Err(e)) => {
                return Outcome::Retry {
                    reason: e.clone(),
                    log: e.clone(),
                    after: None,
                }
            }
            None => {
                let e = "upstream.token_file was not read".to_string();
                return Outcome::Retry {
                    reason: e.clone(),
                    log: e,
                    after: None,
                };
            }
        };
        let body = http::body_json(self.app.settings.station_id(), d, services);
        http::send(
            client,
            &http::services_url(&up.url),
            &token,
            &d.idempotency_key,
            body,
        )
        .await
    }

    async fn write_file(&self, d: &Delivery, services: &[outbox::PostedService]) -> Outcome {
        let Some(folder) = self.app.settings.upstream.folder.clone() else {
            let e = "upstream.folder is not set".to_string();
            return Outcome::Retry {
                reason: e.clone(),
                log: e,
                after: None,
            };
        };
        let settings = self.app.settings.clone();
        let d = d.clone();
        let services = services.to_vec();
        let r =
            tokio::task::spawn_blocking(move || filedrop::write(&folder, &settings, &d, &services))
                .await;
        match r {
            Ok(Ok(_)) => Outcome::Delivered,
            Ok(Err(e)) => {
                let msg = format!("{e:#}");
                Outcome::Retry {
                    reason: msg.clone(),
                    log: msg,
                    after: None,
                }
            }
            Err(e) => Outcome::Retry {
                reason: e.to_string(),
                log: e.to_string(),
                after: None,
            },
        }
    }
}

/// The bearer token (first line of the token file, trimmed); read for every chunk of deliveries so
/// a new token takes effect without a restart.
async fn read_token(path: Option<&std::path::Path>) -> Result<String, String> {
    let Some(path) = path else {
        return Err("upstream.token_file is not set".into());
    };
    match tokio::fs::read_to_string(path).await {
        Ok(text) => {
            let t = text.lines().next().unwrap_or("").trim().to_string();
            if t.is_empty() {
                Err(format!("token file {} is empty", path.display()))
            } else {
                Ok(t)
            }
        }
        Err(e) => Err(format!("cannot read token file {}: {e}", path.display())),
    }
}
