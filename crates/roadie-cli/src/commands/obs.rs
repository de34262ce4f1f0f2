//! `roadie obs status | scene NAME | source SCENE SOURCE on|off|toggle | stream start|stop`.

use roadie_protocol::ObsSourceChange;

use crate::cli::{Global, ObsAction, ObsArgs};
use crate::endpoint;

pub async fn run(global: &Global, args: &ObsArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    match &args.action {
        ObsAction::Status => {
            let info = client.obs().await?;
            if global.json {
                println!("{}", serde_json::to_string(&info)?);
                return Ok(());
            }
            println!("OBS: {} ({})", info.state, info.detail);
            for scene in &info.scenes {
                let marker = if info.current_scene.as_deref() == Some(scene) {
                    "*"
                } else {
                    " "
                };
                println!(" {marker} {scene}");
            }
        }
        ObsAction::Scene { name } => {
            client.obs_scene(name).await?;
            if !global.json {
                println!("switched to {name}");
            }
        }
        ObsAction::Source {
            scene,
            source,
            state,
        } => {
            let shown = client
                .obs_source(&ObsSourceChange {
                    scene: scene.clone(),
                    source: source.clone(),
                    state: state.clone(),
                })
                .await?;
            if global.json {
                println!("{}", serde_json::to_string(&shown)?);
            } else {
                println!(
                    "{source} in {scene} is {}",
                    if shown.enabled { "shown" } else { "hidden" }
                );
            }
        }
        ObsAction::Stream { action } => {
            client.obs_output("stream", action).await?;
            if !global.json {
                println!("stream {action} requested");
            }
        }
        ObsAction::Record { action } => {
            client.obs_output("record", action).await?;
            if !global.json {
                println!("recording {action} requested");
            }
        }
    }
    Ok(())
}
