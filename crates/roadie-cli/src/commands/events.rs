//! `roadie events`: stored events, or the live stream with `--follow`. A follower
//! cut off for being slow resumes from the last event it printed.

use roadie_client::ClientError;
use roadie_protocol::EventEnvelope;

use crate::cli::{EventsArgs, Global};
use crate::endpoint;

pub async fn run(global: &Global, args: &EventsArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    if !args.follow {
        let history = client
            .history(&args.types, args.since.as_deref(), Some(args.limit))
            .await?;
        for event in &history.events {
            print_event(global.json, event)?;
        }
        return Ok(());
    }
    let mut since = args.since.clone();
    loop {
        let mut stream = client.subscribe(&args.types, since.as_deref()).await?;
        loop {
            match stream.next_event().await {
                Some(Ok(event)) => {
                    since = Some(event.id.clone());
                    print_event(global.json, &event)?;
                }
                Some(Err(ClientError::StreamClosed { code: 1008, reason })) => {
                    eprintln!("roadie: {reason}; resuming");
                    break;
                }
                Some(Err(error)) => return Err(error.into()),
                None => {
                    eprintln!("roadie: the daemon closed the stream");
                    return Ok(());
                }
            }
        }
    }
}

fn print_event(json: bool, event: &EventEnvelope) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(event)?);
    } else {
        println!(
            "{} {} {:<8} {:<18} {}",
            event.id, event.at, event.platform, event.kind, event.data
        );
    }
    Ok(())
}
