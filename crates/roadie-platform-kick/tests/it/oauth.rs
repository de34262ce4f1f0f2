//! The sign-in helpers against the fake id.kick.com and API: code exchange with PKCE
//! and the client secret (and a string `expires_in`), revocation in the query string,
//! introspection, and the current user.

use roadie_core::Secret;
use roadie_oauth::{OAuthError, Pkce};
use roadie_platform_kick::KickError;
use roadie_platform_kick::oauth::{
    self, REDIRECT_HOST, TokenHint, current_user, exchange_code, introspect, revoke,
};
use roadie_test_support::fake_kick::FakeKick;

use crate::{SCOPES, settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_exchange_proves_the_verifier_and_sends_the_secret() {
    let fake = FakeKick::start().await;
    let settings = settings(&fake);
    let http = reqwest::Client::new();
    let redirect = format!("http://{REDIRECT_HOST}:5555/callback");
    let start = oauth::start_sign_in(&settings, &redirect).unwrap();
    assert!(
        start
            .url
            .starts_with(&format!("{}/oauth/authorize?", fake.auth_url()))
    );
    assert!(start.url.contains("code_challenge_method=S256"));

    fake.register_code("code-1", &start.pkce.challenge, &redirect, SCOPES);
    let tokens = exchange_code(
        &http,
        &settings,
        &Secret::new("code-1"),
        &redirect,
        &start.pkce.verifier,
    )
    .await
    .unwrap();
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.expires_at.is_some());
    assert_eq!(tokens.scopes, SCOPES);

    // A verifier that does not match the challenge is refused.
    fake.register_code("code-2", &start.pkce.challenge, &redirect, SCOPES);
    let wrong = Pkce::generate();
    match exchange_code(
        &http,
        &settings,
        &Secret::new("code-2"),
        &redirect,
        &wrong.verifier,
    )
    .await
    {
        Err(OAuthError::Provider { status: 400, code }) => assert_eq!(code, "invalid_grant"),
        other => panic!("{other:?}"),
    }

    // The docs' string `expires_in` is read.
    fake.with(|state| state.expires_in_as_string = true);
    fake.register_code("code-3", &start.pkce.challenge, &redirect, SCOPES);
    let tokens = exchange_code(
        &http,
        &settings,
        &Secret::new("code-3"),
        &redirect,
        &start.pkce.verifier,
    )
    .await
    .unwrap();
    assert!(tokens.expires_at.is_some());

    // Without the right secret Kick refuses.
    let mut no_secret = settings.clone();
    no_secret.client_secret = Secret::new("wrong");
    fake.register_code("code-4", &start.pkce.challenge, &redirect, SCOPES);
    assert!(matches!(
        exchange_code(
            &http,
            &no_secret,
            &Secret::new("code-4"),
            &redirect,
            &start.pkce.verifier
        )
        .await,
        Err(OAuthError::Provider { status: 401, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_user_and_revocation() {
    let fake = FakeKick::start().await;
    let settings = settings(&fake);
    let http = reqwest::Client::new();
    let (access, refresh) = fake.mint_tokens(SCOPES);
    let access = Secret::new(access);
    let refresh = Secret::new(refresh);

    let found = introspect(&http, &settings, &access).await.unwrap();
    assert!(found.active);
    assert_eq!(found.scopes, SCOPES);
    assert_eq!(found.token_type.as_deref(), Some("user"));
    assert!(found.expires_at_unix.is_some_and(|exp| exp > 1_700_000_000));

    let user = current_user(&http, &settings.api_url, &access)
        .await
        .unwrap();
    assert_eq!(user.id, fake.options().user_id.to_string());
    assert_eq!(user.name, fake.options().slug);

    revoke(&http, &settings, &access, TokenHint::AccessToken)
        .await
        .unwrap();
    revoke(&http, &settings, &refresh, TokenHint::RefreshToken)
        .await
        .unwrap();
    assert_eq!(
        fake.revocations(),
        [
            (access.expose_secret().to_owned(), "access_token".to_owned()),
            (
                refresh.expose_secret().to_owned(),
                "refresh_token".to_owned()
            ),
        ]
    );
    assert!(!introspect(&http, &settings, &access).await.unwrap().active);
    assert!(matches!(
        current_user(&http, &settings.api_url, &access).await,
        Err(KickError::AuthRequired(_))
    ));
}
