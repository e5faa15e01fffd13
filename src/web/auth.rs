//! Supervisor sessions: a PIN (argon2 hash in the config) gives an HttpOnly, SameSite=Strict
//! cookie (`Secure` when the station serves HTTPS). PIN checks go through one station-wide queue
//! with a growing delay after repeated wrong PINs (see [`super::login`]). A session ends after
//! `idle_lock_seconds` without a request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use rand::RngExt;

pub use super::login::Login;
use super::login::{Throttle, FREE_TRIES};
use super::{ApiError, WebState};
use crate::config::SupervisorConfig;

pub const COOKIE: &str = "scanstation_session";

#[derive(Debug, Clone)]
struct Session {
    supervisor: String,
    hmis_user_id: Option<String>,
    last_seen: Instant,
}

#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    /// The PIN check queue.
    pub throttle: Throttle,
}

/// A logged-in supervisor: the extractor that guards supervisor routes.
#[derive(Debug, Clone)]
pub struct Supervisor {
    pub name: String,
    pub hmis_user_id: Option<String>,
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// Check a PIN against every supervisor through the station-wide queue.
    pub async fn login(&self, pin: String, supervisors: &[SupervisorConfig]) -> Login {
        match self.throttle.attempt(pin, supervisors.to_vec()).await {
            Err(retry_after) => Login::Delayed { retry_after },
            Ok((None, failures)) => Login::Wrong {
                tries_left: FREE_TRIES.saturating_sub(failures),
                failures,
            },
            Ok((Some(s), _)) => {
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
                            supervisor: s.name,
                            hmis_user_id: s.hmis_user_id,
                            last_seen: Instant::now(),
                        },
                    );
                Login::Ok { token, supervisor }
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

/// The session cookie; `secure` (HTTPS) keeps the browser from ever sending it in clear.
pub fn set_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
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
    use crate::pin::{hash_pin, pin_matches_in};
    use argon2::Argon2;

    fn sup(name: &str, pin: &str) -> SupervisorConfig {
        SupervisorConfig {
            name: name.into(),
            pin_hash: hash_pin(pin).unwrap(),
            hmis_user_id: None,
        }
    }

    #[test]
    fn reused_memory_verifies_like_argon2_itself() {
        use argon2::PasswordVerifier;
        let hash = hash_pin("4821").unwrap();
        let mut memory = Vec::new();
        for pin in ["4821", "4822", "", "48210"] {
            let theirs = Argon2::default()
                .verify_password(pin.as_bytes(), hash.as_str())
                .is_ok();
            assert_eq!(pin_matches_in(pin, &hash, &mut memory), theirs, "{pin:?}");
        }
        assert!(pin_matches_in("4821", &hash, &mut memory));
        assert!(!pin_matches_in("4821", "not a hash", &mut memory));
    }

    #[tokio::test]
    async fn pin_identifies_the_supervisor_and_a_wait_after_five() {
        let sups = vec![sup("Maria", "1234"), sup("Ana", "9876")];
        let s = Sessions::default();
        match s.login("9876".into(), &sups).await {
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
            other => panic!("right PIN refused: {other:?}"),
        }
        for left in (0..5).rev() {
            match s.login("0000".into(), &sups).await {
                Login::Wrong { tries_left, .. } => assert_eq!(tries_left, left),
                other => panic!("wrong PIN gave {other:?}"),
            }
        }
        // A wait runs now, even for the right PIN, and no PIN is checked during it.
        let checks = s.throttle.checks();
        assert!(matches!(
            s.login("1234".into(), &sups).await,
            Login::Delayed { .. }
        ));
        assert_eq!(s.throttle.checks(), checks);
    }
}
