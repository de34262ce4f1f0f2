//! The `roadie` binary: `roadie daemon` runs the service; every other subcommand is
//! a client of the running daemon. This crate parses arguments and prints; the work
//! happens in the library crates.

mod bench;
mod cli;
mod commands;
mod endpoint;
mod exit;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli.command {
        cli::Command::Daemon => commands::daemon::run(&cli.global),
        cli::Command::Bench(ref args) => bench::run(&cli.global, args),
        ref other => client_command(&cli.global, other),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = exit::code_for(&error);
            eprintln!("roadie: {}", exit::one_line(&error));
            ExitCode::from(code)
        }
    }
}

fn client_command(global: &cli::Global, command: &cli::Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match command {
            cli::Command::Status => commands::status::run(global).await,
            cli::Command::Events(args) => commands::events::run(global, args).await,
            cli::Command::Secrets(args) => commands::secrets::run(global, args).await,
            cli::Command::Auth(args) => commands::auth::run(global, args).await,
            cli::Command::Chat(args) => commands::chat::run(global, args).await,
            cli::Command::Commands(args) => commands::automation::commands(global, args).await,
            cli::Command::Scripts(args) => commands::automation::scripts(global, args).await,
            cli::Command::Points(args) => commands::automation::points(global, args).await,
            cli::Command::Actions(args) => commands::automation::actions(global, args).await,
            cli::Command::Obs(args) => commands::obs::run(global, args).await,
            cli::Command::Tts(args) => commands::tts::run(global, args).await,
            cli::Command::Daemon | cli::Command::Bench(_) => Ok(()),
        }
    })
}
