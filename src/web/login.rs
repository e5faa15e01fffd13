//! `POST /api/v1/session`: a supervisor PIN for a session cookie, with guessing made slow.
//!
//! Why it looks like this: the Supervisor button is on the public screen, so anyone may type
//! PINs, and a 4-digit PIN is found by trying. Three things keep guessing slow without letting a
//! passer-by lock the supervisors out:
//! - **One PIN check at a time, station-wide.** Every attempt takes one async mutex (fair, FIFO)
//!   and holds it through the argon2 verify. The failure is counted *before* the verify starts
//!   and the mutex is released only after the outcome is recorded, so N parallel guesses are
//!   checked exactly as N guesses in a row would be: parallelism gains nothing. It also bounds
//!   memory: one argon2 verify (19 MiB with the default parameters) runs at a time, always on the
//!   same thread, however many requests wait, and a waiting request holds only its (at most
//!   1 KiB) body.
//! - **A growing delay instead of a lock.** The first [`FREE_TRIES`] wrong PINs cost nothing;
//!   each one after that makes the next check wait twice as long as the last (2 s, 4 s, ...),
//!   never more than [`MAX_DELAY`]. A prankster can make the real supervisor wait at most a minute
//!   after they stop; a guesser gets about 60 tries an hour. A right PIN, or
//!   [`FORGET_AFTER`] without a wrong one, starts the count again.
//! - **Tries left are told.** A 401 says how many wrong PINs remain before a delay starts
//!   (`tries_left`); a 429 says how long to wait (`retry_after_seconds`, `Retry-After`).
//!
//! Every wrong PIN is logged (never the PIN) with the count and the peer address.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::{self, Supervisor};
use super::WebState;
use crate::config::SupervisorConfig;

/// Wrong PINs in a row that cost no wait.
pub const FREE_TRIES: u32 = 5;
/// The wait after the first wrong PIN past the free ones; it doubles with each further one.
pub const FIRST_DELAY: Duration = Duration::from_secs(2);
/// The longest wait between two PIN checks.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run of wrong PINs is forgotten after this long without another attempt.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// A PIN body is a few bytes; anything longer is refused before it is parsed.
const MAX_BODY: usize = 1024;
/// argon2's working memory is freed after this long without a PIN check.
const RELEASE_AFTER: Duration = Duration::from_secs(60);

/// The wait a run of `failures` wrong PINs imposes before the next check.
pub fn delay_after(failures: u32) -> Duration {
    if failures < FREE_TRIES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_TRIES).min(16);
    (FIRST_DELAY * 2u32.pow(doublings)).min(MAX_DELAY)
}

#[derive(Debug, Default)]
struct Attempts {
    /// Wrong PINs in a row (a check in progress counts as wrong until it succeeds).
    failures: u32,
    /// When the last check ended.
    last: Option<Instant>,
}

/// The station-wide PIN check queue and its counters.
#[derive(Debug, Default)]
pub struct Throttle {
    attempts: tokio::sync::Mutex<Attempts>,
    /// PIN checks run since start (argon2 verifies against the supervisor list).
    checks: AtomicU64,
    in_flight: AtomicUsize,
    /// The most checks ever seen running at once (1 while the queue works).
    max_in_flight: AtomicUsize,
    checker: Checker,
}

type CheckJob = (
    String,
    Vec<SupervisorConfig>,
    tokio::sync::oneshot::Sender<Option<SupervisorConfig>>,
);

/// One long-lived thread that runs every argon2 verify in one reused working memory (19 MiB with
/// the default parameters, allocated at the first check, freed after [`RELEASE_AFTER`] idle). Allocating it per verify, as
/// `verify_password` does, left the allocator holding more after each check (measured: five
/// wrong PINs in a row, two supervisors, 124 MiB resident).
#[derive(Debug, Default)]
struct Checker(std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<CheckJob>>>);

impl Checker {
    async fn check(
        &self,
        pin: String,
        supervisors: Vec<SupervisorConfig>,
    ) -> Option<SupervisorConfig> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sender = self.0.get_or_init(|| {
            let (jobs, queue) = std::sync::mpsc::channel::<CheckJob>();
            let started = std::thread::Builder::new()
                .name("pin-check".into())
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        match queue.recv_timeout(RELEASE_AFTER) {
                            Ok((pin, supervisors, answer)) => {
                                let found = find_supervisor(&pin, &supervisors, &mut memory);
                                let _ = answer.send(found);
                            }
                            // Nobody logging in: give the working memory back.
                            Err(RecvTimeoutError::Timeout) => memory = Vec::new(),
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                });
            if let Err(e) = started {
                log::error!("cannot start the PIN check thread: {e}");
            }
            std::sync::Mutex::new(jobs)
        });
        let sent = sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send((pin, supervisors, tx));
        // No thread (it could not start, or stopped): no supervisor matches, the attempt counts.
        if sent.is_err() {
            log::error!("the PIN check thread is not running: no PIN can be checked");
            return None;
        }
        rx.await.unwrap_or(None)
    }
}

/// Outcome of a PIN attempt.
#[derive(Debug)]
pub enum Login {
    Ok {
        token: String,
        supervisor: Supervisor,
    },
    /// Wrong PIN; `tries_left` more wrong ones before a wait starts.
    Wrong { tries_left: u32, failures: u32 },
    /// A wait is running: no check was made.
    Delayed { retry_after: Duration },
}

impl Throttle {
    /// PIN checks run so far.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::SeqCst)
    }

    /// The most PIN checks that ever ran at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Check `pin` against `supervisors`, one attempt at a time station-wide: the supervisor it
    /// belongs to (if any) and the wrong PINs in a row after it, or the wait still to run. The
    /// verify runs on a blocking thread (argon2 is slow on purpose).
    pub async fn attempt(
        &self,
        pin: String,
        supervisors: Vec<SupervisorConfig>,
    ) -> Result<(Option<SupervisorConfig>, u32), Duration> {
        let mut attempts = self.attempts.lock().await;
        let now = Instant::now();
        if let Some(last) = attempts.last {
            if now.duration_since(last) >= FORGET_AFTER {
                attempts.failures = 0;
            }
            let wait = delay_after(attempts.failures);
            let ready_at = last + wait;
            if now < ready_at {
                return Err(ready_at - now);
            }
        }
        // Counted before the check, so the outcome can only lower the count.
        attempts.failures += 1;
        attempts.last = Some(now);
        self.checks.fetch_add(1, Ordering::SeqCst);
        let running = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(running, Ordering::SeqCst);
        let found = self.checker.check(pin, supervisors).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if found.is_some() {
            attempts.failures = 0;
        }
        attempts.last = Some(Instant::now());
        Ok((found, attempts.failures))
    }
}

fn find_supervisor(
    pin: &str,
    supervisors: &[SupervisorConfig],
    memory: &mut Vec<argon2::Block>,
) -> Option<SupervisorConfig> {
    if pin.is_empty() || pin.len() > 64 {
        return None;
    }
    supervisors
        .iter()
        .find(|s| crate::pin::pin_matches_in(pin, &s.pin_hash, memory))
        .cloned()
}

/// A refused login, said as `{"error", "code", ...}`.
#[derive(Debug)]
pub enum Refusal {
    Wrong {
        tries_left: u32,
    },
    Delayed {
        retry_after: Duration,
    },
    BadBody(String),
    TooLarge,
    /// The check could not run (its task or thread stopped); logged.
    Internal,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Wrong { tries_left } => {
                let error = if tries_left == 0 {
                    "wrong PIN; the next try must wait".to_string()
                } else {
                    format!("wrong PIN; {tries_left} more tries before a wait")
                };
                (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({ "error": error, "code": "wrong_pin", "tries_left": tries_left })),
                )
                    .into_response()
            }
            Refusal::Delayed { retry_after } => {
                // Round up: answering "0 seconds" would send the kiosk straight back.
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let secs = secs.max(1);
                let mut resp = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({
                        "error": format!("too many wrong PINs: wait {secs} s before the next try"),
                        "code": "login_delayed",
                        "retry_after_seconds": secs,
                    })),
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp
            }
            Refusal::BadBody(m) => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": m, "code": "bad_request" })),
            )
                .into_response(),
            Refusal::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "the PIN check could not run", "code": "internal" })),
            )
                .into_response(),
            Refusal::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({ "error": "a PIN body is at most 1 KiB", "code": "too_large" })),
            )
                .into_response(),
        }
    }
}

#[derive(Deserialize)]
struct PinBody {
    pin: String,
}

/// `POST /session {"pin": "..."}`: 200 with the session and its cookie, 401 wrong PIN (with
/// `tries_left`), 429 while a wait runs.
pub async fn login(State(state): State<WebState>, req: Request) -> Result<Response, Refusal> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<super::tls::Peer>>()
        .map(|c| c.0 .0.ip().to_string())
        .unwrap_or_else(|| "-".into());
    let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let PinBody { pin } = serde_json::from_slice(&body)
        .map_err(|e| Refusal::BadBody(format!("bad JSON body: {e}")))?;
    // The attempt runs in its own task: a client that hangs up cannot cancel it half-way.
    let attempt = tokio::spawn({
        let state = state.clone();
        async move {
            state
                .sessions
                .login(pin, &state.app.settings.supervisors)
                .await
        }
    });
    let outcome = attempt.await.map_err(|e| {
        log::error!("the PIN check task stopped: {e}");
        Refusal::Internal
    })?;
    match outcome {
        Login::Ok { token, supervisor } => {
            log::info!(target: "scanstation::login", peer; "supervisor session opened from {peer}");
            let secure = state.app.settings.web.https();
            let mut resp = Json(super::session::session_json(&state, &supervisor)).into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, auth::set_cookie(&token, secure));
            Ok(resp)
        }
        Login::Wrong {
            tries_left,
            failures,
        } => {
            log::warn!(
                target: "scanstation::login", peer, failures;
                "wrong supervisor PIN from {peer} ({failures} in a row, {tries_left} before a wait)"
            );
            Err(Refusal::Wrong { tries_left })
        }
        Login::Delayed { retry_after } => Err(Refusal::Delayed { retry_after }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_from_the_sixth_try_and_stays_short() {
        let waits: Vec<u64> = (0..12).map(|n| delay_after(n).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }
}
