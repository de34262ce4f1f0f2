//! Benchmark: what automation costs per chat line and per script.
//!
//! 1. Commands: 500 commands defined (each with an alias, templates using `$(user)`,
//!    `$(touser)`, `$(args)`, `$(count)`, `$(points)`, `$(uptime)`, `$(random A B)`,
//!    some with role gates, cooldowns and platform limits), then chat lines (half of
//!    them commands, named or by alias, half ordinary chat) each timed from the line to
//!    the decided reply: matched, gated, cooldowns checked, template rendered, counter
//!    and cooldowns recorded (`Dispatcher::evaluate`, what the daemon runs per line).
//! 2. Scripts: a trivial script (`reply("hi " + user.name)`) run again and again in the
//!    sandbox the daemon uses (`roadie_scripts::run`: a fresh QuickJS engine with the
//!    default limits on its own thread, as every script run gets).
//!
//! 3. The same through the release daemon: the 500 commands imported with `roadie
//!    commands import`, a chat line sent on the fake Kick's Pusher feed, and the time
//!    until the reply reaches the fake's `POST /chat` (Pusher frame parsed, normalised,
//!    stored, decided, and the HTTP send), one line at a time. The fake is polled
//!    every 50 µs, so figures carry up to that much extra.
//!
//! Budgets (the automation issue): under 1 ms each, the p99 of line to decided reply
//! and the (mean) cost of a trivial script run; the script runs' p99 is printed too.
//!
//! Run: `cargo build --release --bin roadie && cargo bench -p roadie-test-support
//! --bench automation`. Options: `--lines N`, `--script-runs N`, `--daemon-lines N`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::{ms, percentile, roadie_binary, verdict};
use roadie_automation::{
    CommandDef, CommandName, CommandSet, Dispatcher, Environment, FollowAge, Outcome, RoleGate,
    Template,
};
use roadie_core::{Platform, Role, Timestamp, User};
use roadie_scripts::{Limits, RecordingHost, ScriptInput, ScriptUser};
use roadie_test_support::TestEnv;
use roadie_test_support::fake_kick::FakeKick;

const COMMANDS: usize = 500;
const BUDGET: Duration = Duration::from_millis(1);

struct Options {
    lines: usize,
    script_runs: usize,
    daemon_lines: usize,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        lines: 200_000,
        script_runs: 2_000,
        daemon_lines: 1_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--lines" => options.lines = value("--lines")?.max(1),
            "--script-runs" => options.script_runs = value("--script-runs")?.max(1),
            "--daemon-lines" => options.daemon_lines = value("--daemon-lines")?.max(1),
            // cargo bench passes `--bench`; filters do not apply to this harness.
            _ => {}
        }
    }
    Ok(options)
}

/// What the daemon would answer from its store and clock, fixed here.
struct BenchEnv;

impl Environment for BenchEnv {
    fn points(&self, _platform: Platform, _user: &User) -> i64 {
        1_250
    }
    fn uptime(&self, _platform: Platform) -> Option<Duration> {
        Some(Duration::from_secs(5_025))
    }
    fn followage(&self, _platform: Platform, _user: &User) -> FollowAge {
        FollowAge::Since(Duration::from_secs(86_400 * 400))
    }
    fn now(&self) -> Timestamp {
        Timestamp(1_795_000_000_000)
    }
    fn random(&self, low: i64, _high: i64) -> i64 {
        low
    }
}

const TEMPLATES: &[&str] = &[
    "$(user) -> $(touser): $(args)",
    "$(user) has $(points) points (#$(count))",
    "live for $(uptime); roll: $(random 1 6)",
    "$(touser) has followed for $(followage) on $(platform)",
    "thanks $(user)! (used $(count) times, arg 1: $(arg 1))",
];

fn commands() -> CommandSet {
    let mut set = CommandSet::new();
    for index in 0..COMMANDS {
        let name = CommandName::parse(&format!("!cmd{index}")).unwrap();
        let template = Template::parse(TEMPLATES[index % TEMPLATES.len()]).unwrap();
        let mut def = CommandDef::new(name, template);
        def.aliases = vec![CommandName::parse(&format!("!c{index}")).unwrap()];
        match index % 10 {
            0 => def.gate = RoleGate::Moderator,
            1 => def.user_cooldown = Duration::from_secs(30),
            2 => def.global_cooldown = Duration::from_secs(5),
            3 => def.platforms = vec![Platform::Twitch, Platform::Kick],
            _ => {}
        }
        set.insert(def).unwrap();
    }
    set
}

fn viewers() -> Vec<User> {
    (0..200)
        .map(|index| User {
            id: format!("{}", 100_000 + index),
            login: format!("viewer{index}"),
            name: format!("Viewer{index}"),
            roles: match index % 7 {
                0 => vec![Role::Moderator],
                1 => vec![Role::Subscriber],
                _ => Vec::new(),
            },
        })
        .collect()
}

/// A cheap deterministic sequence (xorshift), so runs are comparable.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

struct CommandFigures {
    command_lines: Vec<Duration>,
    chat_lines: Vec<Duration>,
    replies: usize,
    refused: usize,
}

fn bench_commands(options: &Options) -> CommandFigures {
    let mut dispatcher = Dispatcher::new(commands());
    let viewers = viewers();
    let env = BenchEnv;
    let platforms = [Platform::Twitch, Platform::Kick, Platform::Youtube];
    let mut sequence = Sequence(0x9E37_79B9_7F4A_7C15);
    let lines: Vec<(String, usize, Platform)> = (0..options.lines)
        .map(|index| {
            let viewer = sequence.next(viewers.len());
            let platform = platforms[sequence.next(platforms.len())];
            let line = if index % 2 == 0 {
                let command = sequence.next(COMMANDS);
                if sequence.next(2) == 0 {
                    format!("!cmd{command} @viewer{viewer} gg that was clean")
                } else {
                    format!("!c{command} hello there")
                }
            } else {
                format!("gg that was a clean run KEKW {index}")
            };
            (line, viewer, platform)
        })
        .collect();
    let mut figures = CommandFigures {
        command_lines: Vec::with_capacity(options.lines / 2 + 1),
        chat_lines: Vec::with_capacity(options.lines / 2 + 1),
        replies: 0,
        refused: 0,
    };
    let started = Instant::now();
    for (line, viewer, platform) in &lines {
        let at = Instant::now();
        let outcome =
            dispatcher.evaluate(line, &viewers[*viewer], *platform, started.elapsed(), &env);
        let took = at.elapsed();
        match outcome {
            Outcome::NotACommand => figures.chat_lines.push(took),
            Outcome::Reply { text, .. } => {
                std::hint::black_box(text);
                figures.replies += 1;
                figures.command_lines.push(took);
            }
            _ => {
                figures.refused += 1;
                figures.command_lines.push(took);
            }
        }
    }
    figures.command_lines.sort_unstable();
    figures.chat_lines.sort_unstable();
    figures
}

fn bench_script(options: &Options) -> Result<Vec<Duration>, String> {
    let source = r#"reply("hi " + user.name + ", you said " + args.length + " words");"#;
    let limits = Limits::default();
    let input = ScriptInput {
        script_name: "trivial".into(),
        user: ScriptUser {
            id: "100001".into(),
            login: "viewer1".into(),
            name: "Viewer1".into(),
            platform: "twitch".into(),
            roles: Vec::new(),
        },
        args: vec!["gg".into(), "wp".into()],
        vars: serde_json::Map::new(),
    };
    // Warm-up: the first runs fault in the engine's code and the thread stacks.
    for _ in 0..20 {
        let mut host = RecordingHost::new("viewer1");
        roadie_scripts::run(source, input.clone(), &mut host, &limits)
            .map_err(|error| format!("the trivial script failed: {error}"))?;
    }
    let mut runs = Vec::with_capacity(options.script_runs);
    for _ in 0..options.script_runs {
        let mut host = RecordingHost::new("viewer1");
        let at = Instant::now();
        let output = roadie_scripts::run(source, input.clone(), &mut host, &limits)
            .map_err(|error| format!("the trivial script failed: {error}"))?;
        runs.push(at.elapsed());
        if output.replies.len() != 1 {
            return Err(format!("the trivial script replied {:?}", output.replies));
        }
    }
    runs.sort_unstable();
    Ok(runs)
}

/// The 500 commands as the TOML `roadie commands import` reads (no cooldowns or gates,
/// so every line is answered).
fn commands_toml() -> String {
    (0..COMMANDS)
        .map(|index| {
            format!(
                "[[commands]]\nname = \"!cmd{index}\"\naliases = [\"!c{index}\"]\ntemplate = \"{}\"\n\n",
                TEMPLATES[index % TEMPLATES.len()]
            )
        })
        .collect()
}

async fn bench_daemon(options: &Options) -> Result<Vec<Duration>, String> {
    let exe = roadie_binary()?;
    let fake = FakeKick::start().await;
    let env = TestEnv::new(&exe);
    env.write_config(&fake.config_section());
    let _daemon = tokio::task::block_in_place(|| env.spawn_daemon());
    let scopes = ["user:read", "channel:read", "chat:write"];
    let (access, refresh) = fake.mint_tokens(&scopes);
    let token_json = serde_json::json!({
        "access_token": access, "refresh_token": refresh, "expires_in": 3600,
        "scope": scopes.join(" "), "token_type": "Bearer",
    })
    .to_string();
    let file = env.root().join("commands.toml");
    std::fs::write(&file, commands_toml()).map_err(|error| error.to_string())?;
    let file = file.to_string_lossy().into_owned();
    for (args, stdin) in [
        (vec!["auth", "import", "kick"], Some(token_json.as_str())),
        (vec!["commands", "import", file.as_str()], None),
    ] {
        let output = tokio::task::block_in_place(|| env.run(&args, stdin));
        if !output.status.success() {
            return Err(format!(
                "roadie {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.subscriptions().len() < 4 {
        if Instant::now() > deadline {
            return Err("the daemon did not subscribe to the fake Pusher feed".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let warmup = 50;
    let mut sequence = Sequence(0x2545_F491_4F6C_DD1D);
    let mut latencies = Vec::with_capacity(options.daemon_lines);
    for index in 0..warmup + options.daemon_lines {
        let before = fake.with(|state| state.chats.len());
        let command = sequence.next(COMMANDS);
        let frame = fake.chat_frame(
            &format!("automation-{index}"),
            &format!("!cmd{command} @viewer{index} gg that was clean"),
        );
        let sent = Instant::now();
        if fake.send_chat_frames(vec![frame]) == 0 {
            return Err("the fake Pusher lost its connection".into());
        }
        let limit = sent + Duration::from_secs(5);
        // A thread sleep: tokio's timer only ticks in milliseconds.
        let answered = tokio::task::block_in_place(|| {
            while fake.with(|state| state.chats.len()) == before {
                if Instant::now() > limit {
                    return false;
                }
                std::thread::sleep(Duration::from_micros(50));
            }
            true
        });
        if !answered {
            return Err(format!("no reply to !cmd{command} within 5 s"));
        }
        if index >= warmup {
            latencies.push(sent.elapsed());
        }
    }
    latencies.sort_unstable();
    Ok(latencies)
}

fn line(label: &str, sorted: &[Duration]) -> String {
    format!(
        "{label}: p50 {:.4} ms, p99 {:.4} ms, max {:.3} ms over {}",
        ms(percentile(sorted, 0.50)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
        sorted.len()
    )
}

fn run() -> Result<bool, String> {
    let options = options()?;
    println!(
        "Automation: {COMMANDS} commands defined, {} chat lines (half commands), {} trivial script runs",
        options.lines, options.script_runs
    );
    let commands = bench_commands(&options);
    let command_p99 = percentile(&commands.command_lines, 0.99);
    println!(
        "commands  {}    budget p99 < 1 ms  {}",
        line("command line to decided reply", &commands.command_lines),
        verdict(command_p99 < BUDGET)
    );
    println!(
        "          {}; {} replies, {} refused (gate, cooldown, platform)",
        line("ordinary chat line (no command)", &commands.chat_lines),
        commands.replies,
        commands.refused
    );
    let script = bench_script(&options)?;
    let mean = script.iter().sum::<Duration>() / script.len().max(1) as u32;
    println!(
        "scripts   cost of a trivial script run: mean {:.3} ms    budget < 1 ms  {}\n          ({}; a fresh sandboxed engine on its own thread per run, default limits)",
        ms(mean),
        verdict(mean < BUDGET),
        line("per run", &script),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let daemon = runtime.block_on(bench_daemon(&options))?;
    let daemon_p99 = percentile(&daemon, 0.99);
    println!(
        "daemon    {}    budget p99 < 1 ms  {}\n          (Kick Pusher frame in, reply at the fake's POST /chat: parse, store, decide and the HTTP send)",
        line("chat line to reply sent", &daemon),
        verdict(daemon_p99 < BUDGET)
    );
    Ok(command_p99 < BUDGET && mean < BUDGET && daemon_p99 < BUDGET)
}

fn main() -> ExitCode {
    match run() {
        // The figures are the result; budgets are read from them, not enforced here.
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("automation benchmark failed: {error}");
            ExitCode::FAILURE
        }
    }
}
