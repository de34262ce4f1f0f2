//! `roadie auth login|import|status|logout`. Sign-in runs through the daemon, which
//! holds the client secret, the keystore and the platform connections: the browser
//! flow's callback page runs here (on this machine), the code exchange there.

use std::io::Read;
use std::time::Duration;

use anyhow::Context;
use roadie_oauth::{CallbackServer, Pkce, new_state};
use roadie_protocol::{Account, AuthorizeRequest, CodeExchange};

use crate::cli::{AuthAction, AuthArgs, Global};
use crate::endpoint;
use crate::exit::UsageError;

/// How long the browser sign-in may take.
const BROWSER_WAIT: Duration = Duration::from_secs(300);

/// The browser flow's callback port for Twitch and Kick, which compare the redirect
/// URL's port with the registered one: the app registers
/// `http://localhost:17563/callback`.
pub const FIXED_CALLBACK_PORT: u16 = 17563;

/// The callback port: `--port`, else the fixed one where the platform matches ports,
/// else any free one (Google allows any loopback port, as RFC 8252 asks).
fn callback_port(platform: &str, chosen: Option<u16>) -> u16 {
    chosen.unwrap_or(match platform {
        "youtube" => 0,
        _ => FIXED_CALLBACK_PORT,
    })
}

pub async fn run(global: &Global, args: &AuthArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    match &args.action {
        AuthAction::Status => {
            let status = client.auth_status().await?;
            if global.json {
                println!("{}", serde_json::to_string(&status)?);
                return Ok(());
            }
            for platform in &status.platforms {
                let account = platform
                    .account
                    .as_ref()
                    .map(|account| format!(" as {} ({})", account.login, account.account_id))
                    .unwrap_or_default();
                println!(
                    "{:<8} {:<13} {}{account}",
                    platform.platform, platform.state, platform.detail
                );
                if let Some(account) = &platform.account {
                    println!("         scopes: {}", account.scopes.join(" "));
                }
                if let Some(flow) = &platform.device_flow {
                    println!("         device sign-in: {flow}");
                }
            }
        }
        AuthAction::Import { platform } => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .context("reading the token JSON from stdin")?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Err(UsageError(
                    "no token JSON on stdin (pipe the platform's token answer in)".into(),
                )
                .into());
            }
            let account = client.auth_import(platform, body).await?;
            print_account(global.json, &account)?;
        }
        AuthAction::Logout { platform } => {
            let out = client.auth_logout(platform).await?;
            if global.json {
                println!("{}", serde_json::to_string(&out)?);
            } else {
                match &out.account {
                    Some(login) if out.revoked => println!(
                        "{}: signed out {login}; the tokens are revoked and deleted",
                        out.platform
                    ),
                    Some(login) => println!(
                        "{}: signed out {login}; the tokens are deleted (the platform did not confirm the revocation)",
                        out.platform
                    ),
                    None => println!("{}: nobody was signed in", out.platform),
                }
            }
        }
        AuthAction::Login {
            platform,
            device: true,
            ..
        } => {
            let instructions = client.auth_device(platform).await?;
            eprintln!(
                "Go to {} and enter the code {} (it expires in {} minutes).",
                instructions.verification_uri,
                instructions.user_code,
                instructions.expires_in / 60
            );
            let deadline =
                tokio::time::Instant::now() + Duration::from_secs(instructions.expires_in);
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let status = client.auth_status().await?;
                let entry = status
                    .platforms
                    .into_iter()
                    .find(|entry| entry.platform == *platform);
                let flow = entry
                    .as_ref()
                    .and_then(|entry| entry.device_flow.clone())
                    .unwrap_or_default();
                if let Some(reason) = flow.strip_prefix("failed: ") {
                    anyhow::bail!("sign-in failed: {reason}");
                }
                if flow.starts_with("signed in")
                    && let Some(account) = entry.and_then(|entry| entry.account)
                {
                    print_account(global.json, &account)?;
                    return Ok(());
                }
                if tokio::time::Instant::now() > deadline {
                    anyhow::bail!("the code expired before it was entered; run the command again");
                }
            }
        }
        AuthAction::Login {
            platform,
            device: false,
            port,
        } => {
            let state = new_state();
            let pkce = Pkce::generate();
            let port = callback_port(platform, *port);
            let callback = CallbackServer::start_on(state.clone(), "localhost", "/callback", port)
                .await
                .with_context(|| {
                    format!(
                        "the sign-in page needs port {port} on this machine (the redirect URL registered \
                         with the app); free it, or pass --port N and register http://localhost:N/callback"
                    )
                })?;
            let redirect_uri = callback.redirect_uri().to_owned();
            let request = AuthorizeRequest {
                redirect_uri: redirect_uri.clone(),
                state,
                code_challenge: pkce.challenge.clone(),
            };
            let url = client.auth_authorize(platform, &request).await?.url;
            eprintln!(
                "Open this page to sign in (waiting {} minutes):\n\n  {url}\n",
                BROWSER_WAIT.as_secs() / 60
            );
            open_browser(&url);
            let authorized = callback.wait(BROWSER_WAIT).await?;
            let exchange = CodeExchange {
                code: authorized.code.expose_secret().to_owned(),
                redirect_uri,
                code_verifier: pkce.verifier.expose_secret().to_owned(),
            };
            let account = client.auth_exchange(platform, &exchange).await?;
            print_account(global.json, &account)?;
        }
    }
    Ok(())
}

fn print_account(json: bool, account: &Account) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(account)?);
    } else {
        println!(
            "{}: signed in as {} ({}); scopes: {}",
            account.platform,
            account.login,
            account.account_id,
            account.scopes.join(" ")
        );
    }
    Ok(())
}

/// Best effort: the URL is printed either way.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twitch_and_kick_get_the_registered_port_youtube_any() {
        assert_eq!(callback_port("twitch", None), FIXED_CALLBACK_PORT);
        assert_eq!(callback_port("kick", None), FIXED_CALLBACK_PORT);
        assert_eq!(callback_port("youtube", None), 0);
        assert_eq!(callback_port("kick", Some(8080)), 8080);
    }
}
