//! `roadie status`: the running daemon's version, uptime and component health.

use crate::cli::Global;
use crate::endpoint;

pub async fn run(global: &Global) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let status = endpoint::client(&setup).status().await?;
    if global.json {
        println!("{}", serde_json::to_string(&status)?);
        return Ok(());
    }
    println!(
        "roadie {} — up {}, listening on {}",
        status.version,
        human_duration(status.uptime_seconds),
        status.listen
    );
    println!("data dir: {}", status.data_dir);
    println!(
        "keystore: {} ({})",
        status.keystore.backend, status.keystore.reason
    );
    println!("components:");
    for component in &status.components {
        let state = serde_json::to_value(component.state)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "  {:<14} {:<13} {}",
            component.name, state, component.detail
        );
    }
    if let Some(quota) = &status.youtube_quota {
        println!(
            "youtube quota: {} of {} units used today, {} left; chat polled every {:.1}s{}",
            quota.used,
            quota.budget,
            quota.remaining,
            quota.poll_interval_ms as f64 / 1000.0,
            if quota.exhausted {
                " (exhausted: idle until the reset)"
            } else {
                ""
            }
        );
        if let Some(warning) = &quota.warning {
            println!("  warning: {warning}");
        }
    }
    Ok(())
}

fn human_duration(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds}s"),
        60..=3599 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60),
    }
}
