//! `roadie events`: stored events, or the live stream with `--follow`. A follower
//! cut off for being slow resumes from the last event it printed; one whose daemon
//! stops waits for it and resumes too.

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
    // A daemon that stops (a restart, an update) is waited for, like `tail -F`: the
    // follow resumes after the last event it printed once the daemon is back.
    let mut since = args.since.clone();
    let mut client = client;
    let mut waiting = false;
    loop {
        let mut stream = match client.subscribe(&args.types, since.as_deref()).await {
            Ok(stream) => stream,
            // Gone, or still shutting down, or starting: try again.
            Err(_) if waiting => {
                tokio::time::sleep(RETRY_PAUSE).await;
                // It may come back on another address (daemon.json says which).
                client = endpoint::client(&setup);
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        if waiting {
            eprintln!("roadie: the daemon is back; following again");
            waiting = false;
        }
        let gone = loop {
            match stream.next_event().await {
                Some(Ok(event)) => {
                    since = Some(event.id.clone());
                    print_event(global.json, &event)?;
                }
                Some(Err(ClientError::StreamClosed { code: 1008, reason })) => {
                    eprintln!("roadie: {reason}; resuming");
                    break None;
                }
                Some(Err(ClientError::StreamClosed { code: 1001, reason })) => break Some(reason),
                // The connection broke (the daemon was killed) or it closed politely.
                Some(Err(ClientError::Protocol(reason))) if daemon_gone(&client).await => {
                    break Some(reason);
                }
                None if daemon_gone(&client).await => break Some("it closed the stream".into()),
                None => {
                    eprintln!("roadie: the daemon closed the stream");
                    return Ok(());
                }
                Some(Err(error)) => return Err(error.into()),
            }
        };
        if let Some(reason) = gone {
            eprintln!(
                "roadie: the daemon stopped ({reason}); waiting for it to come back (Ctrl-C to quit)"
            );
            waiting = true;
        }
    }
}

/// How often a follower waiting for the daemon tries again.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// True when nothing answers at the daemon's address any more.
async fn daemon_gone(client: &roadie_client::Client) -> bool {
    client
        .status()
        .await
        .is_err_and(|error| error.is_unreachable())
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
