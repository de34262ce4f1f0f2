//! Google sign-in against the fake: the loopback flow with PKCE asks for offline
//! access with consent and gets a refresh token; the device flow rides out
//! `authorization_pending` and `slow_down` through `roadie_oauth` and reads Google's
//! `verification_url`; refresh keeps Google's refresh token; revoke ends the grant;
//! the account's channel is read for display.

use std::time::Duration;

use roadie_core::Secret;
use roadie_oauth::{CallbackServer, DeviceFlavor, OAuthError, Pkce, new_state};
use roadie_platform_youtube::{YoutubeError, oauth};
use roadie_test_support::fake_youtube::{FakeYoutube, OWNER_CHANNEL_ID, OWNER_TITLE};

use crate::settings_for;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_sign_in_refresh_channel_and_revoke() {
    let fake = FakeYoutube::start().await;
    let settings = settings_for(&fake);
    let state = new_state();
    let pkce = Pkce::generate();
    let callback = CallbackServer::start(state.clone(), "127.0.0.1", "/callback")
        .await
        .unwrap();
    let redirect = callback.redirect_uri().to_owned();
    let url = oauth::authorize_url(&settings, &redirect, &state, &pkce.challenge).unwrap();
    // The "browser": follows the fake's redirect to the callback page.
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Connected"));
    let authorized = callback.wait(Duration::from_secs(5)).await.unwrap();
    let asked = fake.with(|state| state.authorize_requests[0].clone());
    assert_eq!(asked["access_type"], "offline");
    assert_eq!(asked["prompt"], "consent");
    assert_eq!(asked["scope"], oauth::SCOPE);
    assert_eq!(asked["code_challenge_method"], "S256");

    // A wrong verifier is refused; the right one gets a refresh token.
    let wrong = oauth::exchange_code(
        &settings,
        &authorized.code,
        &redirect,
        &Secret::new("not-the-verifier"),
    )
    .await;
    assert!(matches!(
        wrong,
        Err(YoutubeError::OAuth(OAuthError::Provider { .. }))
    ));
    // The fake spends a code on any attempt, as Google does: sign in again.
    let state = new_state();
    let pkce = Pkce::generate();
    let callback = CallbackServer::start(state.clone(), "127.0.0.1", "/callback")
        .await
        .unwrap();
    let redirect = callback.redirect_uri().to_owned();
    let url = oauth::authorize_url(&settings, &redirect, &state, &pkce.challenge).unwrap();
    reqwest::get(&url).await.unwrap();
    let authorized = callback.wait(Duration::from_secs(5)).await.unwrap();
    let tokens = oauth::exchange_code(&settings, &authorized.code, &redirect, &pkce.verifier)
        .await
        .unwrap();
    let refresh = tokens.refresh_token.clone().expect("a refresh token");
    assert_eq!(tokens.scopes, vec![oauth::SCOPE.to_owned()]);

    let http = reqwest::Client::new();
    let channel = oauth::my_channel(&http, &settings.api_url, &tokens.access_token)
        .await
        .unwrap();
    assert_eq!(channel, (OWNER_CHANNEL_ID.into(), OWNER_TITLE.into()));
    assert!(
        fake.with(|state| state.requests.clone())
            .contains(&"GET /channels?part=snippet&mine=true".to_owned())
    );

    // Google keeps the refresh token on refresh.
    let refreshed = oauth::refresh(&settings, &refresh).await.unwrap();
    assert_ne!(refreshed.access_token, tokens.access_token);
    assert_eq!(refreshed.refresh_token, Some(refresh.clone()));

    assert_eq!(
        oauth::revoke_url(&settings.token_url),
        fake.revoke_url(),
        "derived from the token URL"
    );
    oauth::revoke(&settings, &refresh).await.unwrap();
    assert_eq!(
        fake.with(|state| state.revoked.clone()),
        vec![refresh.expose_secret().to_owned()]
    );
    // The whole grant is gone.
    assert!(matches!(
        oauth::my_channel(&http, &settings.api_url, &refreshed.access_token).await,
        Err(YoutubeError::AuthRequired(_))
    ));
    assert!(oauth::refresh(&settings, &refresh).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_flow_rides_out_pending_and_slow_down() {
    let fake = FakeYoutube::start().await;
    let settings = settings_for(&fake);
    fake.script_device(&["authorization_pending", "slow_down"]);
    let authorization = oauth::device_start(&settings).await.unwrap();
    assert_eq!(
        authorization.verification_uri,
        "https://www.google.com/device"
    );
    assert_eq!(authorization.interval, 1);
    assert_eq!(
        fake.with(|state| state.device_scope.clone()).as_deref(),
        Some(oauth::SCOPE)
    );
    let mut poller = oauth::device_poller(&settings);
    // RFC 8628 adds 5 s on slow_down; a shorter step keeps the test short.
    poller.slow_down_step = Duration::from_millis(300);
    let mut intervals = Vec::new();
    let tokens = poller
        .poll(&authorization, |interval| intervals.push(interval))
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    assert_eq!(
        intervals,
        vec![Duration::from_secs(1), Duration::from_millis(1300)]
    );
    let polls = fake.device_polls();
    assert_eq!(polls.len(), 3);
    assert!(polls[1] - polls[0] >= Duration::from_secs(1));
    assert!(polls[2] - polls[1] >= Duration::from_millis(1300));
    let channel = oauth::my_channel(
        &reqwest::Client::new(),
        &settings.api_url,
        &tokens.access_token,
    )
    .await
    .unwrap();
    assert_eq!(channel.0, OWNER_CHANNEL_ID);

    // Google's device flow refuses `youtube.force-ssl`.
    let refused = oauth::client(&settings)
        .device_start(
            &settings.device_url,
            DeviceFlavor::Standard,
            &["https://www.googleapis.com/auth/youtube.force-ssl"],
        )
        .await;
    assert!(
        matches!(&refused, Err(OAuthError::Provider { code, .. }) if code == "invalid_scope"),
        "{refused:?}"
    );
    assert_eq!(oauth::DEVICE_SCOPES, &[oauth::SCOPE]);
}
