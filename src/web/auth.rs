//! Supervisor sessions: a PIN (argon2 hash in the config) gives an HttpOnly, SameSite=Strict
//! cookie. Five wrong PINs in a row lock login for five minutes (station-wide: one screen, one
//! queue of people). A session ends after `idle_lock_seconds` without a request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use rand::RngExt;

use super::{ApiError, WebState};
use crate::config::SupervisorConfig;
use crate::pin::pin_matches;

pub const COOKIE: &str = "scanstation_session";
pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
struct Session {
    supervisor: String,
    hmis_user_id: Option<String>,
    last_seen: Instant,
}

#[derive(Debug, Default)]
struct Failures {
    in_a_row: u32,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<Failures>,
}

/// A logged-in supervisor: the extractor that guards supervisor routes.
#[derive(Debug, Clone)]
pub struct Supervisor {
    pub name: String,
    pub hmis_user_id: Option<String>,
}

/// Outcome of a PIN attempt.
pub enum Login {
    Ok {
        token: String,
        supervisor: Supervisor,
    },
    Wrong,
    Locked {
        retry_after: Duration,
    },
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    fn locked(&self, now: Instant) -> Option<Duration> {
        let f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        f.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Check a PIN against every supervisor (blocking: argon2 is slow on purpose).
    pub fn login(&self, pin: &str, supervisors: &[SupervisorConfig]) -> Login {
        let now = Instant::now();
        if let Some(retry_after) = self.locked(now) {
            return Login::Locked { retry_after };
        }
        let found = if pin.is_empty() || pin.len() > 64 {
            None
        } else {
            supervisors.iter().find(|s| pin_matches(pin, &s.pin_hash))
        };
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match found {
            Some(s) => {
                *f = Failures::default();
                drop(f);
                let token = new_token();
                let supervisor = Supervisor {
                    name: s.name.clone(),
                    hmis_user_id: s.hmis_user_id.clone(),
                };
                self.sessions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(
                        token.clone(),
                        Session {
                            supervisor: s.name.clone(),
                            hmis_user_id: s.hmis_user_id.clone(),
                            last_seen: now,
                        },
                    );
                Login::Ok { token, supervisor }
            }
            None => {
                f.in_a_row += 1;
                if f.in_a_row >= MAX_FAILURES {
                    f.in_a_row = 0;
                    f.locked_until = Some(now + LOCKOUT);
                    log::warn!(
                        "{MAX_FAILURES} wrong PINs in a row: login locked for {} s",
                        LOCKOUT.as_secs()
                    );
                }
                Login::Wrong
            }
        }
    }

    /// The supervisor behind a token, if the session is alive; touching it keeps it alive.
    pub fn touch(&self, token: &str, idle: Duration) -> Option<Supervisor> {
        let now = Instant::now();
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| now.duration_since(s.last_seen) < idle);
        map.get_mut(token).map(|s| {
            s.last_seen = now;
            Supervisor {
                name: s.supervisor.clone(),
                hmis_user_id: s.hmis_user_id.clone(),
            }
        })
    }

    pub fn logout(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token);
    }
}

/// The session token from the request's cookies.
pub fn token_from(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

pub fn set_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("scanstation_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

impl FromRequestParts<WebState> for Supervisor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let idle = state.app.settings.web.idle_lock;
        token_from(parts)
            .and_then(|t| state.sessions.touch(&t, idle))
            .ok_or_else(|| {
                log::debug!("supervisor route refused: no live session");
                ApiError::unauthorized()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pin::hash_pin;

    fn sup(name: &str, pin: &str) -> SupervisorConfig {
        SupervisorConfig {
            name: name.into(),
            pin_hash: hash_pin(pin).unwrap(),
            hmis_user_id: None,
        }
    }

    #[test]
    fn pin_identifies_the_supervisor_and_lockout_after_five() {
        let sups = vec![sup("Maria", "1234"), sup("Ana", "9876")];
        let s = Sessions::default();
        match s.login("9876", &sups) {
            Login::Ok { supervisor, token } => {
                assert_eq!(supervisor.name, "Ana");
                assert_eq!(
                    s.touch(&token, Duration::from_secs(60)).unwrap().name,
                    "Ana"
                );
                assert!(
                    s.touch(&token, Duration::ZERO).is_none(),
                    "idle session expires"
                );
            }
            _ => panic!("right PIN refused"),
        }
        for _ in 0..4 {
            assert!(matches!(s.login("0000", &sups), Login::Wrong));
        }
        assert!(matches!(s.login("0000", &sups), Login::Wrong));
        // Locked now, even for the right PIN.
        assert!(matches!(s.login("1234", &sups), Login::Locked { .. }));
    }
}
