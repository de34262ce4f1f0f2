//! `roadie chat send [--platform P] TEXT`.

use crate::cli::{ChatAction, ChatArgs, Global};
use crate::endpoint;

pub async fn run(global: &Global, args: &ChatArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    match &args.action {
        ChatAction::Send { platform, text } => {
            let sent = client.chat_send(platform.as_deref(), text).await?;
            if global.json {
                println!("{}", serde_json::to_string(&sent)?);
            } else {
                println!(
                    "sent to {} ({} message{})",
                    sent.platform,
                    sent.message_ids.len(),
                    if sent.message_ids.len() == 1 { "" } else { "s" }
                );
            }
        }
    }
    Ok(())
}
