//! The loopback callback server of the authorization-code flow: listens on
//! 127.0.0.1 at an ephemeral port, checks `state`, and shows a small page: "Connected,
//! you can close this tab", or what went wrong. The first answer ends the wait.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use roadie_core::Secret;
use tokio::sync::oneshot;

use crate::OAuthError;

/// What the browser brought back.
#[derive(Debug)]
pub struct Authorized {
    /// The authorization code, to exchange with the PKCE verifier.
    pub code: Secret,
    /// The `scope` parameter, when the provider adds one.
    pub scope: Option<String>,
}

type Outcome = Result<Authorized, OAuthError>;

#[derive(Clone)]
struct Shared {
    expected_state: Arc<String>,
    outcome: Arc<Mutex<Option<oneshot::Sender<Outcome>>>>,
}

/// A running callback server; it stops when the wait ends or when dropped.
#[derive(Debug)]
pub struct CallbackServer {
    redirect_uri: String,
    outcome: oneshot::Receiver<Outcome>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for CallbackServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn page(status: StatusCode, title: &str, detail: &str) -> Response {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Roadie: {title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#222}}\
         h1{{font-size:1.4em}}</style></head><body><h1>{title}</h1><p>{detail}</p></body></html>",
        title = escape(title),
        detail = escape(detail)
    );
    (status, [("cache-control", "no-store")], Html(body)).into_response()
}

async fn callback(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut scope = None;
    let query = query.unwrap_or_default();
    for (key, value) in reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|url| url.query_pairs().into_owned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        match key.as_str() {
            "code" => code = Some(value),
            "state" => state = Some(value),
            "error" => error = Some(value),
            "error_description" if error.is_some() => {
                error = Some(format!("{}: {value}", error.unwrap_or_default()))
            }
            "scope" => scope = Some(value),
            _ => {}
        }
    }
    let Some(sender) = shared.outcome.lock().ok().and_then(|mut slot| slot.take()) else {
        return page(
            StatusCode::GONE,
            "This sign-in is already finished",
            "Go back to Roadie; start a new sign-in there if you need one.",
        );
    };
    let (outcome, response) = match (state, error, code) {
        (None, _, _) => (
            Err(OAuthError::StateMismatch("the answer has no state".into())),
            page(
                StatusCode::BAD_REQUEST,
                "Sign-in rejected",
                "The answer carries no state value, so it cannot be matched to the sign-in Roadie started. Nothing was stored. Start the sign-in again from Roadie.",
            ),
        ),
        (Some(state), _, _) if state != *shared.expected_state => (
            Err(OAuthError::StateMismatch(
                "the answer's state is different".into(),
            )),
            page(
                StatusCode::BAD_REQUEST,
                "Sign-in rejected",
                "The answer's state value does not match the sign-in Roadie started (a forged or stale link?). Nothing was stored. Start the sign-in again from Roadie.",
            ),
        ),
        (Some(_), Some(error), _) => (
            Err(OAuthError::Denied(error.clone())),
            page(
                StatusCode::OK,
                "Sign-in was not completed",
                &format!(
                    "The service answered: {error}. Nothing was stored; you can close this tab."
                ),
            ),
        ),
        (Some(_), None, None) => (
            Err(OAuthError::Malformed("the answer has no code".into())),
            page(
                StatusCode::BAD_REQUEST,
                "Sign-in failed",
                "The answer carries no authorization code. Start the sign-in again from Roadie.",
            ),
        ),
        (Some(_), None, Some(code)) => (
            Ok(Authorized {
                code: Secret::new(code),
                scope,
            }),
            page(
                StatusCode::OK,
                "Connected",
                "Roadie is connected. You can close this tab.",
            ),
        ),
    };
    let _ = sender.send(outcome);
    response
}

impl CallbackServer {
    /// Starts listening on 127.0.0.1 at an ephemeral port. `redirect_host` is the host
    /// written in the redirect URI (`127.0.0.1`, or `localhost` for providers that
    /// insist on it); `path` is e.g. `/callback`.
    pub async fn start(
        expected_state: String,
        redirect_host: &str,
        path: &str,
    ) -> Result<CallbackServer, OAuthError> {
        CallbackServer::start_on(expected_state, redirect_host, path, 0).await
    }

    /// Like [`CallbackServer::start`] on a fixed `port` (0: ephemeral), for providers
    /// that match the registered redirect URI port and all.
    pub async fn start_on(
        expected_state: String,
        redirect_host: &str,
        path: &str,
        port: u16,
    ) -> Result<CallbackServer, OAuthError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|error| {
                OAuthError::Callback(format!("cannot listen on 127.0.0.1:{port}: {error}"))
            })?;
        let port = listener
            .local_addr()
            .map_err(|error| OAuthError::Callback(error.to_string()))?
            .port();
        let (sender, outcome) = oneshot::channel();
        let shared = Shared {
            expected_state: Arc::new(expected_state),
            outcome: Arc::new(Mutex::new(Some(sender))),
        };
        let app = Router::new().route(path, get(callback)).with_state(shared);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(CallbackServer {
            redirect_uri: format!("http://{redirect_host}:{port}{path}"),
            outcome,
            server,
        })
    }

    /// The redirect URI to register and send.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser's answer, at most `limit`.
    pub async fn wait(mut self, limit: Duration) -> Result<Authorized, OAuthError> {
        let outcome = tokio::time::timeout(limit, &mut self.outcome)
            .await
            .map_err(|_| {
                OAuthError::Expired(format!(
                    "no answer from the browser within {} s",
                    limit.as_secs()
                ))
            })?
            .map_err(|_| OAuthError::Callback("the callback server stopped".into()))?;
        // Let the page reach the browser before the server stops.
        tokio::time::sleep(Duration::from_millis(100)).await;
        outcome
    }
}
