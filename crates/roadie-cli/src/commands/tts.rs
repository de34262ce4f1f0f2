//! `roadie tts say TEXT | skip | pause | resume | clear | queue`.

use crate::cli::{Global, TtsAction, TtsArgs};
use crate::endpoint;

pub async fn run(global: &Global, args: &TtsArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    let control = match &args.action {
        TtsAction::Say { text, voice } => {
            let queued = client.tts_say(text, voice.as_deref()).await?;
            if global.json {
                println!("{}", serde_json::to_string(&queued)?);
            } else {
                println!(
                    "queued #{} ({} ahead): {}",
                    queued.id, queued.ahead, queued.text
                );
            }
            return Ok(());
        }
        TtsAction::Queue => {
            let queue = client.tts_queue().await?;
            if global.json {
                println!("{}", serde_json::to_string(&queue)?);
                return Ok(());
            }
            println!(
                "engine: {}{}",
                queue.engine,
                if queue.paused { " (paused)" } else { "" }
            );
            if let Some(url) = endpoint::overlay_url(&setup) {
                println!(
                    "overlay (add as a browser source in OBS, {} connected): {url}",
                    queue.listeners
                );
            }
            match &queue.current {
                Some(item) => println!("speaking #{}: {}", item.id, item.text),
                None => println!("nothing is being spoken"),
            }
            for item in &queue.pending {
                println!("  #{}: {}", item.id, item.text);
            }
            return Ok(());
        }
        TtsAction::Skip => "skip",
        TtsAction::Pause => "pause",
        TtsAction::Resume => "resume",
        TtsAction::Clear => "clear",
    };
    client.tts_control(control).await?;
    if !global.json {
        println!("{control}: done");
    }
    Ok(())
}
