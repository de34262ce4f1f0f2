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
    // The queue as it was, to say what the control did (the API answers 204 only).
    let before = if global.json {
        None
    } else {
        client.tts_queue().await.ok()
    };
    client.tts_control(control).await?;
    if !global.json {
        match before {
            Some(queue) => println!("{}", what_it_did(control, &queue)),
            None => println!("{control}: done"),
        }
    }
    Ok(())
}

/// One line on what `control` did to `queue` (the queue just before it).
fn what_it_did(control: &str, queue: &roadie_protocol::TtsQueueInfo) -> String {
    let waiting = queue.pending.len();
    match (control, &queue.current) {
        ("skip", Some(item)) => format!("skipped #{}: {}", item.id, item.text),
        ("skip", None) => "nothing was being spoken".to_owned(),
        ("clear", current) => match usize::from(current.is_some()) + waiting {
            0 => "the queue was already empty".to_owned(),
            cleared => format!("cleared {cleared} item(s)"),
        },
        ("pause", _) if queue.paused => "already paused".to_owned(),
        ("pause", _) => format!(
            "paused: what is being spoken finishes; {waiting} waiting item(s) and new ones wait for `roadie tts resume`"
        ),
        ("resume", _) if !queue.paused => "not paused".to_owned(),
        ("resume", _) => format!("resumed: {waiting} waiting item(s) go on"),
        (other, _) => format!("{other}: done"),
    }
}
