//! Actions: names, step and trigger checks, trigger matching (every kind, thresholds at
//! the boundary, platforms, redemptions by id and title and only when unfulfilled),
//! exact decimal comparison, the run queue under each concurrency policy, the error
//! policy and rendering step templates.

use crate::support::{Env, name, user, viewer};
use roadie_automation::action::{MAX_QUEUED, MAX_WAIT};
use roadie_automation::{
    ActionDef, ActionError, ActionName, ActionNameError, Admission, Concurrency, Decimal,
    DecimalError, MediaAction, Next, OnError, Refusal, RewardMatch, RoleGate, RunId, RunQueue,
    SourceState, Step, StepError, StepReport, Template, Trigger, TriggerContext, TriggerError,
    TriggerKind, VariableSet, next_after, triggered,
};
use roadie_core::{CheerUnit, EventKind, Platform, RedemptionStatus, Reward, Role, User};
use std::cmp::Ordering;
use std::time::Duration;

// ---- events ----

fn chat(text: &str, from: User) -> EventKind {
    EventKind::ChatMessage {
        message_id: "m1".into(),
        user: from,
        text: text.into(),
        reply_to: None,
    }
}

fn redemption(id: &str, title: &str, status: RedemptionStatus) -> EventKind {
    EventKind::Redemption {
        redemption_id: "r1".into(),
        user: viewer("1"),
        reward: Reward {
            id: id.into(),
            title: title.into(),
            cost: 500,
        },
        input: Some("with ice".into()),
        status,
    }
}

fn follow() -> EventKind {
    EventKind::Follow { user: viewer("1") }
}

fn sub(months: Option<u32>) -> EventKind {
    EventKind::Subscription {
        user: viewer("1"),
        tier: "1000".into(),
        months,
        message: Some("love it".into()),
    }
}

fn gift(count: u32) -> EventKind {
    EventKind::SubscriptionGift {
        gifter: Some(viewer("1")),
        count,
        tier: "1000".into(),
    }
}

fn cheer(amount: u64) -> EventKind {
    EventKind::Cheer {
        user: Some(viewer("1")),
        amount,
        unit: CheerUnit::Bits,
        message: Some("pog".into()),
    }
}

fn raid(viewers: u64) -> EventKind {
    EventKind::Raid {
        from: viewer("1"),
        viewers,
    }
}

fn tip(amount: &str, currency: &str) -> EventKind {
    EventKind::Tip {
        user: viewer("1"),
        amount: amount.into(),
        currency: currency.into(),
        message: Some("hi".into()),
    }
}

// ---- triggers ----

fn command(word: &str, role: RoleGate) -> Trigger {
    Trigger::new(TriggerKind::Command {
        name: name(word),
        role,
    })
}

fn by_title(title: &str) -> Trigger {
    Trigger::new(TriggerKind::Redemption {
        reward: RewardMatch::Title(title.into()),
    })
}

fn by_id(id: &str) -> Trigger {
    Trigger::new(TriggerKind::Redemption {
        reward: RewardMatch::Id(id.into()),
    })
}

fn tip_at_least(amount: &str, currency: Option<&str>) -> Trigger {
    Trigger::new(TriggerKind::Tip {
        min_amount: Decimal::parse(amount).unwrap(),
        currency: currency.map(str::to_owned),
    })
}

fn dec(text: &str) -> Decimal {
    Decimal::parse(text).unwrap()
}

#[test]
fn trigger_matching_table() {
    use RedemptionStatus::{Canceled, Fulfilled, Unfulfilled};
    let moderator = user("2", "Mod", &[Role::Moderator]);
    let subs = |min_months| Trigger::new(TriggerKind::Subscription { min_months });
    let gifts = |min_count| Trigger::new(TriggerKind::Gift { min_count });
    let cheers = |min_amount| Trigger::new(TriggerKind::Cheer { min_amount });
    let raids = |min_viewers| Trigger::new(TriggerKind::Raid { min_viewers });
    let follows = Trigger::new(TriggerKind::Follow);
    let twitch_only = Trigger {
        platforms: vec![Platform::Twitch, Platform::Youtube],
        ..follows.clone()
    };
    let everyone = RoleGate::Everyone;
    let tw = Platform::Twitch;
    let cases: Vec<(&str, Trigger, Platform, EventKind, bool)> = vec![
        // Commands: the first word, any case, and the role gate.
        (
            "cmd",
            command("!hydrate", everyone),
            tw,
            chat("!hydrate", viewer("1")),
            true,
        ),
        (
            "cmd case",
            command("!hydrate", everyone),
            tw,
            chat("  !HyDrate now", viewer("1")),
            true,
        ),
        (
            "cmd longer word",
            command("!hydrate", everyone),
            tw,
            chat("!hydrated", viewer("1")),
            false,
        ),
        (
            "cmd not first",
            command("!hydrate", everyone),
            tw,
            chat("say !hydrate", viewer("1")),
            false,
        ),
        (
            "cmd no bang",
            command("!hydrate", everyone),
            tw,
            chat("hydrate", viewer("1")),
            false,
        ),
        (
            "cmd gate refuses",
            command("!scene", RoleGate::Moderator),
            tw,
            chat("!scene", viewer("1")),
            false,
        ),
        (
            "cmd gate admits",
            command("!scene", RoleGate::Moderator),
            tw,
            chat("!scene", moderator.clone()),
            true,
        ),
        // Redemptions: by id exactly, by title ignoring case, only when unfulfilled.
        (
            "id",
            by_id("rw-1"),
            tw,
            redemption("rw-1", "Hydrate!", Unfulfilled),
            true,
        ),
        (
            "id other",
            by_id("rw-1"),
            tw,
            redemption("rw-2", "Hydrate!", Unfulfilled),
            false,
        ),
        (
            "id case",
            by_id("rw-1"),
            tw,
            redemption("RW-1", "Hydrate!", Unfulfilled),
            false,
        ),
        (
            "title",
            by_title("hydrate!"),
            tw,
            redemption("x", "  HYDRATE! ", Unfulfilled),
            true,
        ),
        (
            "title other",
            by_title("Hydrate!"),
            tw,
            redemption("x", "Hydrate", Unfulfilled),
            false,
        ),
        (
            "title fulfilled",
            by_title("Hydrate!"),
            tw,
            redemption("x", "Hydrate!", Fulfilled),
            false,
        ),
        (
            "title canceled",
            by_title("Hydrate!"),
            tw,
            redemption("x", "Hydrate!", Canceled),
            false,
        ),
        (
            "id fulfilled",
            by_id("rw-1"),
            tw,
            redemption("rw-1", "Hydrate!", Fulfilled),
            false,
        ),
        // Follows.
        ("follow", follows.clone(), tw, follow(), true),
        ("follow vs sub", follows.clone(), tw, sub(Some(1)), false),
        // Subscriptions: minimum months, unknown months count as one.
        ("sub any", subs(None), tw, sub(None), true),
        ("sub below", subs(Some(6)), tw, sub(Some(5)), false),
        ("sub at", subs(Some(6)), tw, sub(Some(6)), true),
        ("sub unknown vs 6", subs(Some(6)), tw, sub(None), false),
        ("sub unknown vs 1", subs(Some(1)), tw, sub(None), true),
        ("sub vs follow", subs(None), tw, follow(), false),
        // Gifts, cheers, raids: at the threshold and one below.
        ("gift below", gifts(5), tw, gift(4), false),
        ("gift at", gifts(5), tw, gift(5), true),
        ("gift vs sub", gifts(1), tw, sub(None), false),
        ("cheer below", cheers(100), tw, cheer(99), false),
        ("cheer at", cheers(100), tw, cheer(100), true),
        ("cheer vs tip", cheers(1), tw, tip("100", "USD"), false),
        ("raid below", raids(10), tw, raid(9), false),
        ("raid at", raids(10), tw, raid(10), true),
        ("raid vs cheer", raids(1), tw, cheer(50), false),
        // Tips: exact decimals, currency ignoring case, malformed amounts never fire.
        (
            "tip below",
            tip_at_least("5.00", Some("USD")),
            tw,
            tip("4.99", "USD"),
            false,
        ),
        (
            "tip at",
            tip_at_least("5.00", Some("USD")),
            tw,
            tip("5", "USD"),
            true,
        ),
        (
            "tip at zeros",
            tip_at_least("5", Some("USD")),
            tw,
            tip("5.000", "USD"),
            true,
        ),
        (
            "tip above",
            tip_at_least("5.00", Some("USD")),
            tw,
            tip("5.01", "USD"),
            true,
        ),
        (
            "tip currency case",
            tip_at_least("5", Some("usd")),
            tw,
            tip("10", "USD"),
            true,
        ),
        (
            "tip other currency",
            tip_at_least("5", Some("USD")),
            tw,
            tip("10", "EUR"),
            false,
        ),
        (
            "tip any currency",
            tip_at_least("5", None),
            tw,
            tip("10", "JPY"),
            true,
        ),
        (
            "tip bad comma",
            tip_at_least("5", None),
            tw,
            tip("10,00", "EUR"),
            false,
        ),
        (
            "tip bad empty",
            tip_at_least("0", None),
            tw,
            tip("", "EUR"),
            false,
        ),
        (
            "tip bad negative",
            tip_at_least("0", None),
            tw,
            tip("-5", "EUR"),
            false,
        ),
        (
            "tip bad float",
            tip_at_least("0", None),
            tw,
            tip("1e3", "EUR"),
            false,
        ),
        // Platform restriction.
        (
            "platform listed",
            twitch_only.clone(),
            Platform::Youtube,
            follow(),
            true,
        ),
        (
            "platform not listed",
            twitch_only.clone(),
            Platform::Kick,
            follow(),
            false,
        ),
        (
            "platform empty = all",
            follows.clone(),
            Platform::Kick,
            follow(),
            true,
        ),
        // Events no trigger answers.
        (
            "viewers",
            follows,
            tw,
            EventKind::Viewers { count: 5 },
            false,
        ),
    ];
    for (label, trigger, platform, event, expected) in cases {
        assert_eq!(
            trigger.matches(platform, &event).is_some(),
            expected,
            "{label}"
        );
    }
}

#[test]
fn trigger_contexts_carry_user_input_amount_and_reward() {
    let tw = Platform::Twitch;
    let context = by_title("Hydrate!")
        .matches(
            tw,
            &redemption("rw", "Hydrate!", RedemptionStatus::Unfulfilled),
        )
        .unwrap();
    assert_eq!(
        context,
        TriggerContext {
            user: Some(viewer("1")),
            input: Some("with ice".into()),
            amount: None,
            reward: Some(Reward {
                id: "rw".into(),
                title: "Hydrate!".into(),
                cost: 500,
            }),
        }
    );

    let context = command("!so", RoleGate::Everyone)
        .matches(tw, &chat("!so  @bob   now ", viewer("7")))
        .unwrap();
    assert_eq!(context.user, Some(viewer("7")));
    assert_eq!(context.input.as_deref(), Some("@bob now"));
    let context = command("!so", RoleGate::Everyone)
        .matches(tw, &chat("!so", viewer("7")))
        .unwrap();
    assert_eq!(context.input, None);

    let amount = |trigger: Trigger, event: EventKind| trigger.matches(tw, &event).unwrap().amount;
    let cheers = Trigger::new(TriggerKind::Cheer { min_amount: 1 });
    assert_eq!(amount(cheers.clone(), cheer(250)), Some("250".into()));
    assert_eq!(
        amount(tip_at_least("1", None), tip("4.50", "EUR")),
        Some("4.50".into())
    );
    assert_eq!(
        amount(
            Trigger::new(TriggerKind::Subscription { min_months: None }),
            sub(Some(14))
        ),
        Some("14".into())
    );
    assert_eq!(
        amount(Trigger::new(TriggerKind::Gift { min_count: 1 }), gift(20)),
        Some("20".into())
    );
    assert_eq!(
        amount(Trigger::new(TriggerKind::Raid { min_viewers: 1 }), raid(42)),
        Some("42".into())
    );

    // An anonymous cheer has no user; its message is the input.
    let anonymous = EventKind::Cheer {
        user: None,
        amount: 10,
        unit: CheerUnit::Kicks,
        message: Some("gg".into()),
    };
    let context = cheers.matches(Platform::Kick, &anonymous).unwrap();
    assert_eq!(context.user, None);
    assert_eq!(context.input.as_deref(), Some("gg"));
    // A raid's user is the raiding channel.
    let context = Trigger::new(TriggerKind::Raid { min_viewers: 1 })
        .matches(tw, &raid(3))
        .unwrap();
    assert_eq!(context.user, Some(viewer("1")));
}

fn action(name: &str, triggers: Vec<Trigger>) -> ActionDef {
    let mut def = ActionDef::new(
        ActionName::parse(name).unwrap(),
        vec![Step::Chat {
            text: Template::parse("hi").unwrap(),
        }],
    )
    .unwrap();
    def.triggers = triggers;
    def
}

#[test]
fn actions_fire_by_their_first_matching_trigger_when_enabled() {
    let tw = Platform::Twitch;
    let mut def = action(
        "thanks",
        vec![
            Trigger {
                platforms: vec![Platform::Kick],
                ..Trigger::new(TriggerKind::Cheer { min_amount: 1 })
            },
            Trigger::new(TriggerKind::Cheer { min_amount: 100 }),
        ],
    );
    assert!(def.triggered_by(Platform::Kick, &cheer(1)).is_some());
    assert!(def.triggered_by(tw, &cheer(99)).is_none());
    assert!(def.triggered_by(tw, &cheer(100)).is_some());
    def.enabled = false;
    assert!(def.triggered_by(tw, &cheer(100)).is_none());

    let actions = vec![
        action("a", vec![Trigger::new(TriggerKind::Follow)]),
        action(
            "b",
            vec![Trigger::new(TriggerKind::Raid { min_viewers: 1 })],
        ),
        action("c", vec![Trigger::new(TriggerKind::Follow)]),
        def,
    ];
    let fired: Vec<&str> = triggered(&actions, tw, &follow())
        .into_iter()
        .map(|(def, _)| def.name.as_str())
        .collect();
    assert_eq!(fired, vec!["a", "c"]);
    assert!(triggered(&actions, tw, &gift(1)).is_empty());
}

#[test]
fn decimals_compare_exactly() {
    let cases = [
        ("4.99", "5.00", Ordering::Less),
        ("5.00", "4.99", Ordering::Greater),
        ("10", "9.5", Ordering::Greater),
        ("9.5", "10", Ordering::Less),
        ("5", "5.00", Ordering::Equal),
        ("007", "7", Ordering::Equal),
        ("0.5", "0.50", Ordering::Equal),
        ("1.05", "1.5", Ordering::Less),
        ("100", "99.999", Ordering::Greater),
        ("0", "0.0", Ordering::Equal),
        ("0.1", "0.09", Ordering::Greater),
        (
            "99999999999999999999.99",
            "99999999999999999999.990001",
            Ordering::Less,
        ),
    ];
    for (a, b, expected) in cases {
        assert_eq!(dec(a).cmp_value(&dec(b)), expected, "{a} vs {b}");
    }
    assert!(dec("0.00").is_zero());
    assert!(!dec("0.01").is_zero());
    assert_eq!(dec("05.10").as_str(), "05.10");
}

#[test]
fn bad_decimals_are_refused_with_the_reason() {
    assert_eq!(Decimal::parse(""), Err(DecimalError::Empty));
    let bad_character = |text: &str, found: char, column: usize| {
        assert_eq!(
            Decimal::parse(text),
            Err(DecimalError::BadCharacter {
                given: text.into(),
                found,
                column
            }),
            "{text}"
        );
    };
    bad_character("-5", '-', 1);
    bad_character("5,00", ',', 2);
    bad_character("5.0.0", '.', 4);
    bad_character("1e3", 'e', 2);
    bad_character(" 5", ' ', 1);
    bad_character("٣", '٣', 1);
    for missing in [".5", "5.", "."] {
        assert_eq!(
            Decimal::parse(missing),
            Err(DecimalError::MissingDigits {
                given: missing.into()
            })
        );
    }
    let long = "1".repeat(33);
    assert_eq!(
        Decimal::parse(&long),
        Err(DecimalError::TooLong { len: 33 })
    );
    assert!(Decimal::parse(&"1".repeat(32)).is_ok());
    let message = Decimal::parse("5,00").unwrap_err().to_string();
    assert!(message.contains("4.99"), "{message}");
}

#[test]
fn action_names_are_validated_and_lowercased() {
    assert_eq!(
        ActionName::parse("Big-Cheer_2").unwrap().as_str(),
        "big-cheer_2"
    );
    assert_eq!(ActionName::parse(""), Err(ActionNameError::Empty));
    assert_eq!(
        ActionName::parse("hydrate now"),
        Err(ActionNameError::BadCharacter {
            given: "hydrate now".into(),
            found: ' ',
            column: 8
        })
    );
    assert!(matches!(
        ActionName::parse("café"),
        Err(ActionNameError::BadCharacter { found: 'é', .. })
    ));
    assert!(ActionName::parse(&"a".repeat(64)).is_ok());
    assert!(matches!(
        ActionName::parse(&"a".repeat(65)),
        Err(ActionNameError::TooLong { .. })
    ));
}

#[test]
fn steps_and_definitions_are_checked() {
    let wait = |duration| Step::Wait { duration };
    assert_eq!(wait(MAX_WAIT).check(), Ok(()));
    let too_long = MAX_WAIT + Duration::from_millis(1);
    assert_eq!(
        wait(too_long).check(),
        Err(StepError::WaitTooLong { given: too_long })
    );
    assert_eq!(wait(too_long).check().unwrap_err().field(), "seconds");
    let points = |delta: i64, reason: &str| Step::Points {
        delta,
        reason: reason.into(),
    };
    assert_eq!(points(0, "x").check(), Err(StepError::ZeroPoints));
    assert_eq!(points(-5, "stake").check(), Ok(()));
    assert_eq!(
        points(5, "  ").check(),
        Err(StepError::Blank { field: "reason" })
    );
    let scene = |scene: &str| Step::ObsScene {
        scene: scene.into(),
    };
    assert_eq!(
        scene("Main\nx").check(),
        Err(StepError::Control { field: "scene" })
    );
    assert_eq!(
        scene(&"s".repeat(257)).check(),
        Err(StepError::TooLong {
            field: "scene",
            len: 257
        })
    );
    let tts = |voice: Option<&str>| Step::Tts {
        text: Template::parse("x").unwrap(),
        voice: voice.map(str::to_owned),
    };
    assert_eq!(tts(None).check(), Ok(()));
    assert_eq!(
        tts(Some("")).check(),
        Err(StepError::Blank { field: "voice" })
    );

    let name = ActionName::parse("a").unwrap();
    assert_eq!(
        ActionDef::new(name.clone(), Vec::new()),
        Err(ActionError::NoSteps)
    );
    assert_eq!(
        ActionDef::new(name.clone(), vec![points(0, "x")]),
        Err(ActionError::Step {
            index: 0,
            error: StepError::ZeroPoints
        })
    );
    let mut def = action("a", vec![command("!uptime", RoleGate::Everyone)]);
    assert_eq!(
        def.validate(),
        Err(ActionError::Trigger {
            index: 0,
            error: TriggerError::Builtin {
                name: crate::support::name("!uptime")
            }
        })
    );
    def.triggers = vec![tip_at_least("1", Some("US$"))];
    assert!(matches!(
        def.validate(),
        Err(ActionError::Trigger {
            error: TriggerError::BadCurrency { .. },
            ..
        })
    ));
    def.triggers = vec![Trigger {
        platforms: vec![Platform::Kick, Platform::Kick],
        ..Trigger::new(TriggerKind::Follow)
    }];
    assert_eq!(
        def.validate(),
        Err(ActionError::Trigger {
            index: 0,
            error: TriggerError::RepeatedPlatform {
                platform: Platform::Kick
            }
        })
    );
    def.triggers = vec![by_title(" ")];
    assert!(matches!(
        def.validate(),
        Err(ActionError::Trigger {
            error: TriggerError::BadReward { field: "reward" },
            ..
        })
    ));
    def.triggers.clear();
    def.concurrency = Concurrency::Parallel { max: 0 };
    assert_eq!(def.validate(), Err(ActionError::ZeroParallel));
    def.concurrency = Concurrency::Parallel { max: 2 };
    assert_eq!(def.validate(), Ok(()));
    def.steps = vec![scene("Main"); 101];
    assert_eq!(
        def.validate(),
        Err(ActionError::TooManySteps { count: 101 })
    );
}

#[test]
fn words_parse_and_print() {
    for state in SourceState::ALL {
        assert_eq!(state.as_str().parse::<SourceState>(), Ok(*state));
    }
    for action in MediaAction::ALL {
        assert_eq!(action.as_str().parse::<MediaAction>(), Ok(*action));
    }
    assert_eq!("continue".parse::<OnError>(), Ok(OnError::Continue));
    assert_eq!(OnError::default(), OnError::Stop);
    assert_eq!(Concurrency::default(), Concurrency::Queue);
    let error = "blink".parse::<SourceState>().unwrap_err().to_string();
    assert!(error.contains("on, off, toggle"), "{error}");
}

// ---- run queue ----

fn admit(queue: &mut RunQueue, run: u64) -> Admission {
    queue.offer(RunId(run))
}

fn running(queue: &RunQueue) -> Vec<u64> {
    queue.running().iter().map(|run| run.0).collect()
}

#[test]
fn queue_runs_one_at_a_time_in_order() {
    let mut queue = RunQueue::new(Concurrency::Queue);
    assert!(queue.is_idle());
    assert_eq!(admit(&mut queue, 1), Admission::Start);
    assert_eq!(admit(&mut queue, 2), Admission::Queued(1));
    assert_eq!(admit(&mut queue, 3), Admission::Queued(2));
    assert_eq!(
        admit(&mut queue, 2),
        Admission::Refused(Refusal::Duplicate { run: RunId(2) })
    );
    assert_eq!(
        admit(&mut queue, 1),
        Admission::Refused(Refusal::Duplicate { run: RunId(1) })
    );
    // A finished run that is not known changes nothing.
    assert_eq!(queue.finished(RunId(9)), None);
    assert_eq!(queue.finished(RunId(1)), Some(RunId(2)));
    assert_eq!(running(&queue), vec![2]);
    assert_eq!(queue.finished(RunId(2)), Some(RunId(3)));
    assert_eq!(queue.finished(RunId(3)), None);
    assert!(queue.is_idle());
    assert_eq!(admit(&mut queue, 4), Admission::Start);
}

#[test]
fn queue_refuses_beyond_its_bound() {
    let mut queue = RunQueue::new(Concurrency::Queue);
    assert_eq!(admit(&mut queue, 0), Admission::Start);
    for run in 1..=MAX_QUEUED {
        assert_eq!(admit(&mut queue, run as u64), Admission::Queued(run));
    }
    let refused = admit(&mut queue, 1000);
    assert_eq!(
        refused,
        Admission::Refused(Refusal::QueueFull { limit: MAX_QUEUED })
    );
    if let Admission::Refused(reason) = refused {
        assert!(reason.to_string().contains("50 runs"), "{reason}");
    }
    // Room again once the head starts.
    assert_eq!(queue.finished(RunId(0)), Some(RunId(1)));
    assert_eq!(admit(&mut queue, 1000), Admission::Queued(MAX_QUEUED));
}

#[test]
fn a_waiting_run_can_be_cancelled() {
    let mut queue = RunQueue::new(Concurrency::Queue);
    admit(&mut queue, 1);
    admit(&mut queue, 2);
    admit(&mut queue, 3);
    assert_eq!(queue.finished(RunId(2)), None);
    assert_eq!(queue.waiting().collect::<Vec<_>>(), vec![RunId(3)]);
    assert_eq!(running(&queue), vec![1]);
    assert_eq!(admit(&mut queue, 4), Admission::Queued(2));
    assert_eq!(queue.finished(RunId(1)), Some(RunId(3)));
}

#[test]
fn skip_if_busy_drops_triggers_while_running() {
    let mut queue = RunQueue::new(Concurrency::SkipIfBusy);
    assert_eq!(admit(&mut queue, 1), Admission::Start);
    assert_eq!(admit(&mut queue, 2), Admission::Refused(Refusal::Busy));
    assert_eq!(admit(&mut queue, 3), Admission::Refused(Refusal::Busy));
    assert_eq!(queue.waiting().count(), 0);
    assert_eq!(queue.finished(RunId(1)), None);
    assert!(queue.is_idle());
    assert_eq!(admit(&mut queue, 4), Admission::Start);
}

#[test]
fn parallel_runs_up_to_max_then_queues() {
    let mut queue = RunQueue::new(Concurrency::Parallel { max: 3 });
    for run in 1..=3 {
        assert_eq!(admit(&mut queue, run), Admission::Start);
    }
    assert_eq!(admit(&mut queue, 4), Admission::Queued(1));
    assert_eq!(admit(&mut queue, 5), Admission::Queued(2));
    assert_eq!(queue.finished(RunId(2)), Some(RunId(4)));
    assert_eq!(running(&queue), vec![1, 3, 4]);
    assert_eq!(queue.finished(RunId(1)), Some(RunId(5)));
    assert_eq!(queue.finished(RunId(3)), None);
    assert_eq!(running(&queue), vec![4, 5]);
    assert_eq!(admit(&mut queue, 6), Admission::Start);
    assert_eq!(admit(&mut queue, 7), Admission::Queued(1));

    // A zero maximum (refused by validation) still runs one at a time.
    let mut queue = RunQueue::new(Concurrency::Parallel { max: 0 });
    assert_eq!(admit(&mut queue, 1), Admission::Start);
    assert_eq!(admit(&mut queue, 2), Admission::Queued(1));
}

// ---- error policy and reports ----

#[test]
fn error_policy_decides_the_next_step() {
    let failed: Result<(), String> = Err("OBS is not connected".into());
    assert_eq!(next_after(&Ok(()), OnError::Stop), Next::Continue);
    assert_eq!(next_after(&Ok(()), OnError::Continue), Next::Continue);
    assert_eq!(next_after(&failed, OnError::Stop), Next::Stop);
    assert_eq!(next_after(&failed, OnError::Continue), Next::Continue);

    // A daemon-style loop: the second of three steps fails.
    let steps = [
        Step::ObsScene { scene: "A".into() },
        Step::ObsScene { scene: "B".into() },
        Step::Script { script: "x".into() },
    ];
    let run = |on_error| {
        let mut reports = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let result = if index == 1 { failed.clone() } else { Ok(()) };
            let report = StepReport::new(index, step, result, Duration::from_millis(3));
            let next = next_after(&report.result, on_error);
            reports.push(report);
            if next == Next::Stop {
                break;
            }
        }
        reports
    };
    let stopped = run(OnError::Stop);
    assert_eq!(stopped.len(), 2);
    assert_eq!(stopped[1].kind, "obs_scene");
    assert!(stopped[1].result.is_err());
    let continued = run(OnError::Continue);
    assert_eq!(continued.len(), 3);
    assert_eq!(continued[2].kind, "script");
    assert_eq!(continued[2].index, 2);
}

// ---- rendering ----

#[test]
fn step_templates_render_trigger_values() {
    let def = action("thanks", Vec::new());
    let template = Template::parse_for(
        "$(user)|$(input)|$(amount)|$(reward)|$(action)|$(arg 2)|$(points)|$(platform)",
        VariableSet::Action,
    )
    .unwrap();
    let trigger = TriggerContext {
        user: Some(user("1", "Alice", &[])),
        input: Some("extra  ice please".into()),
        amount: Some("4.99".into()),
        reward: Some(Reward {
            id: "r".into(),
            title: "Hydrate!".into(),
            cost: 1,
        }),
    };
    let env = Env::default();
    assert_eq!(
        def.render(&template, Platform::Kick, &trigger, &env),
        "Alice|extra  ice please|4.99|Hydrate!|thanks|ice|50|kick"
    );
    let anonymous = TriggerContext::default();
    assert_eq!(
        def.render(&template, Platform::Twitch, &anonymous, &env),
        "Anonymous||||thanks||50|twitch"
    );
    let manual = TriggerContext::manual(None, Some("hello".into()));
    let echo = Template::parse_for("$(input)", VariableSet::Action).unwrap();
    assert_eq!(def.render(&echo, Platform::Roadie, &manual, &env), "hello");
}
