//! OAuth flows against the fake provider (Twitch's endpoints and error bodies on
//! 127.0.0.1:0): authorization code with PKCE through the real callback page, state
//! checks, device flow through pending and slow_down, refresh rotation, revoke.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use roadie_core::Secret;
use roadie_oauth::{
    CallbackServer, Client, ClientCredentials, DeviceFlavor, OAuthError, Pkce, authorize_url,
    new_state,
};
use roadie_test_support::fake_oauth::FakeOAuth;

fn client() -> Client {
    Client::new(ClientCredentials {
        client_id: "fake-client".into(),
        client_secret: Some(Secret::new("fake-secret")),
    })
}

async fn validate(fake: &FakeOAuth, token: &Secret) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/validate", fake.base_url()))
        .header("authorization", format!("OAuth {}", token.expose_secret()))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Runs the browser part: opens the authorize URL and follows the redirect to the
/// callback page, returning that page's status and text.
async fn browse(url: &str) -> (u16, String) {
    let response = reqwest::Client::new().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn authorization_code_with_pkce_through_the_callback_page() {
    let fake = FakeOAuth::start().await;
    let state = new_state();
    let pkce = Pkce::generate();
    let callback = CallbackServer::start(state.clone(), "127.0.0.1", "/callback")
        .await
        .unwrap();
    let redirect_uri = callback.redirect_uri().to_owned();
    assert!(redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"));
    let url = authorize_url(
        &format!("{}/authorize", fake.base_url()),
        "fake-client",
        &redirect_uri,
        &["user:read:chat", "bits:read"],
        &state,
        &pkce.challenge,
        &[],
    )
    .unwrap();

    let (status, page) = browse(&url).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Connected") && page.contains("close this tab"),
        "{page}"
    );
    let authorized = callback.wait(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        authorized.scope.as_deref(),
        Some("user:read:chat bits:read")
    );

    let tokens = client()
        .exchange_code(
            &format!("{}/token", fake.base_url()),
            authorized.code.expose_secret(),
            &redirect_uri,
            &pkce.verifier,
        )
        .await
        .unwrap();
    assert_eq!(tokens.scopes, vec!["user:read:chat", "bits:read"]);
    assert!(tokens.refresh_token.is_some() && tokens.expires_at.is_some());
    assert_eq!(validate(&fake, &tokens.access_token).await, 200);
}

#[tokio::test]
async fn the_fake_checks_the_pkce_verifier() {
    let fake = FakeOAuth::start().await;
    let state = new_state();
    let pkce = Pkce::generate();
    let callback = CallbackServer::start(state.clone(), "127.0.0.1", "/callback")
        .await
        .unwrap();
    let redirect_uri = callback.redirect_uri().to_owned();
    let url = authorize_url(
        &format!("{}/authorize", fake.base_url()),
        "fake-client",
        &redirect_uri,
        &["user:read:chat"],
        &state,
        &pkce.challenge,
        &[],
    )
    .unwrap();
    browse(&url).await;
    let code = callback.wait(Duration::from_secs(5)).await.unwrap().code;
    let other = Pkce::generate();
    let error = client()
        .exchange_code(
            &format!("{}/token", fake.base_url()),
            code.expose_secret(),
            &redirect_uri,
            &other.verifier,
        )
        .await
        .unwrap_err();
    assert_eq!(
        error,
        OAuthError::Provider {
            status: 400,
            code: "invalid code verifier".into()
        }
    );
}

#[tokio::test]
async fn a_wrong_or_missing_state_is_rejected_and_the_page_says_so() {
    for query in ["code=stolen&state=forged", "code=stolen"] {
        let callback = CallbackServer::start("the-real-state".into(), "127.0.0.1", "/callback")
            .await
            .unwrap();
        let (status, page) = browse(&format!("{}?{query}", callback.redirect_uri())).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            page.contains("state") && page.contains("Nothing was stored"),
            "{page}"
        );
        match callback.wait(Duration::from_secs(5)).await {
            Err(OAuthError::StateMismatch(_)) => {}
            other => panic!("{query}: {other:?}"),
        }
    }
    // A declined sign-in is reported as such.
    let callback = CallbackServer::start("s".into(), "localhost", "/callback")
        .await
        .unwrap();
    assert!(callback.redirect_uri().starts_with("http://localhost:"));
    let address = callback.redirect_uri().replace("localhost", "127.0.0.1");
    let (_, page) = browse(&format!(
        "{address}?error=access_denied&error_description=The+user+denied&state=s"
    ))
    .await;
    assert!(page.contains("not completed"), "{page}");
    assert!(matches!(
        callback.wait(Duration::from_secs(5)).await,
        Err(OAuthError::Denied(_))
    ));
}

#[tokio::test]
async fn the_device_flow_rides_out_pending_and_slow_down() {
    let fake = FakeOAuth::start().await;
    fake.script_device(&[
        "authorization_pending",
        "slow_down",
        "authorization_pending",
    ]);
    let client = client();
    let scopes = ["user:read:chat", "bits:read"];
    let authorization = client
        .device_start(
            &format!("{}/device", fake.base_url()),
            DeviceFlavor::Twitch,
            &scopes,
        )
        .await
        .unwrap();
    assert_eq!(authorization.user_code, "ABCDEFGH");
    assert_eq!(
        fake.state.lock().unwrap().device_scopes.as_deref(),
        Some("user:read:chat bits:read"),
        "Twitch's `scopes` parameter"
    );
    let mut poller = client.device_poller(
        &format!("{}/token", fake.base_url()),
        DeviceFlavor::Twitch,
        &scopes,
    );
    // RFC 8628 adds 5 s per slow_down; 1 s keeps this test short, the rule is the same.
    poller.slow_down_step = Duration::from_secs(1);
    let mut waits = Vec::new();
    let tokens = poller
        .poll(&authorization, |interval| waits.push(interval))
        .await
        .unwrap();
    assert_eq!(tokens.scopes, vec!["user:read:chat", "bits:read"]);
    assert_eq!(waits, vec![Duration::from_secs(1), Duration::from_secs(2)]);
    let polls = fake.state.lock().unwrap().device_polls.clone();
    assert_eq!(polls.len(), 4);
    let gaps: Vec<Duration> = polls.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(
        gaps[0] >= Duration::from_millis(950),
        "polled faster than the interval: {gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(1950) && gaps[2] >= Duration::from_millis(1950),
        "slow_down was not honoured: {gaps:?}"
    );
}

#[tokio::test]
async fn a_declined_or_expired_device_code_ends_the_wait() {
    let fake = FakeOAuth::start().await;
    fake.script_device(&["access_denied"]);
    let client = client();
    let authorization = client
        .device_start(
            &format!("{}/device", fake.base_url()),
            DeviceFlavor::Twitch,
            &["user:read:chat"],
        )
        .await
        .unwrap();
    let poller = client.device_poller(
        &format!("{}/token", fake.base_url()),
        DeviceFlavor::Twitch,
        &["user:read:chat"],
    );
    assert!(matches!(
        poller.poll(&authorization, |_| {}).await,
        Err(OAuthError::Denied(_))
    ));
    fake.script_device(&["invalid device code"]);
    assert!(matches!(
        poller.poll(&authorization, |_| {}).await,
        Err(OAuthError::Expired(_))
    ));
}

#[tokio::test]
async fn refresh_rotates_and_retires_the_old_refresh_token_and_revoke_ends_a_token() {
    let fake = FakeOAuth::start().await;
    fake.script_device(&[]);
    let client = client();
    let authorization = client
        .device_start(
            &format!("{}/device", fake.base_url()),
            DeviceFlavor::Twitch,
            &["user:read:chat"],
        )
        .await
        .unwrap();
    let token_url = format!("{}/token", fake.base_url());
    let first = client
        .device_poller(&token_url, DeviceFlavor::Twitch, &["user:read:chat"])
        .poll(&authorization, |_| {})
        .await
        .unwrap();
    let old_refresh = first.refresh_token.clone().unwrap();

    let second = client.refresh(&token_url, &old_refresh).await.unwrap();
    let new_refresh = second.refresh_token.clone().unwrap();
    assert_ne!(
        new_refresh, old_refresh,
        "the refresh token was not rotated"
    );
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(
        client.refresh(&token_url, &old_refresh).await.unwrap_err(),
        OAuthError::Provider {
            status: 400,
            code: "Invalid refresh token".into()
        }
    );
    assert!(client.refresh(&token_url, &new_refresh).await.is_ok());

    assert_eq!(validate(&fake, &second.access_token).await, 200);
    client
        .revoke(&format!("{}/revoke", fake.base_url()), &second.access_token)
        .await
        .unwrap();
    assert_eq!(validate(&fake, &second.access_token).await, 401);
    assert!(
        fake.state
            .lock()
            .unwrap()
            .revoked
            .contains(&second.access_token.expose_secret().to_owned())
    );
}
