//! Viewers and the points ledger: idempotent source keys, refused changes writing
//! nothing, linked accounts sharing one balance, logins that change.

use roadie_core::Platform;
use roadie_store::{PointsChange, PointsError, Store, StoreError};

use super::support::{change, close, open, runtime, seen};

async fn count(store: &Store, sql: &'static str) -> i64 {
    store
        .read(move |connection| Ok(connection.query_row(sql, [], |row| row.get(0))?))
        .await
        .unwrap()
}

#[test]
fn a_source_key_credits_once_even_twice_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        let give = |delta| change(Platform::Twitch, "1", delta, Some("redemption-7"));
        let results = store
            .apply_points(vec![
                give(10),
                give(10),
                change(Platform::Twitch, "1", 1, None),
            ])
            .await
            .unwrap();
        let duplicate = Err(PointsError::Duplicate {
            source_key: "redemption-7".into(),
        });
        assert_eq!(results, vec![Ok(10), duplicate.clone(), Ok(11)]);
        // A replay in a later call, even for another account, is refused too.
        let replay = PointsChange {
            platform: Platform::Kick,
            ..give(99)
        };
        let results = store.apply_points(vec![give(10), replay]).await.unwrap();
        assert_eq!(results, vec![duplicate.clone(), duplicate]);
        assert_eq!(
            store.balance(Platform::Twitch, "1".into()).await.unwrap(),
            Some(11)
        );
        assert_eq!(
            store.balance(Platform::Kick, "1".into()).await.unwrap(),
            None,
            "a refused change must not create its viewer"
        );
        assert_eq!(count(&store, "SELECT count(*) FROM points_ledger").await, 2);
        close(store).await;
    });
}

#[test]
fn refused_changes_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        // A stranger cannot go below zero, and is not even recorded.
        let results = store
            .apply_points(vec![change(Platform::Kick, "9", -5, Some("k1"))])
            .await
            .unwrap();
        assert_eq!(
            results,
            vec![Err(PointsError::Insufficient {
                balance: 0,
                requested: -5
            })]
        );
        assert_eq!(count(&store, "SELECT count(*) FROM viewers").await, 0);
        assert_eq!(count(&store, "SELECT count(*) FROM identities").await, 0);

        let results = store
            .apply_points(vec![
                change(Platform::Twitch, "1", 10, None),
                change(Platform::Twitch, "1", -15, Some("spend")),
                change(Platform::Twitch, "1", 0, None),
                change(Platform::Twitch, "1", i64::MAX, None),
                change(Platform::Roadie, "1", 1, None),
                change(Platform::Twitch, "", 1, None),
                // The refused spend did not consume its key.
                change(Platform::Twitch, "1", -4, Some("spend")),
                // The key of the refused stranger is free too.
                change(Platform::Twitch, "1", 1, Some("k1")),
            ])
            .await
            .unwrap();
        assert_eq!(results[0], Ok(10));
        assert_eq!(
            results[1],
            Err(PointsError::Insufficient {
                balance: 10,
                requested: -15
            })
        );
        assert_eq!(results[2], Err(PointsError::ZeroDelta));
        assert_eq!(
            results[3],
            Err(PointsError::Overflow {
                balance: 10,
                delta: i64::MAX
            })
        );
        assert!(matches!(
            results[4],
            Err(PointsError::Invalid {
                field: "platform",
                ..
            })
        ));
        assert!(matches!(
            results[5],
            Err(PointsError::Invalid {
                field: "user_id",
                ..
            })
        ));
        assert_eq!(results[6..], [Ok(6), Ok(7)]);
        assert_eq!(count(&store, "SELECT count(*) FROM points_ledger").await, 3);
        assert_eq!(count(&store, "SELECT count(*) FROM viewers").await, 1);

        // A change allowed to go negative may.
        let mut overdraw = change(Platform::Twitch, "1", -10, None);
        overdraw.allow_negative_balance = true;
        assert_eq!(
            store.apply_points(vec![overdraw]).await.unwrap(),
            vec![Ok(-3)]
        );
        assert_eq!(
            store.balance(Platform::Twitch, "1".into()).await.unwrap(),
            Some(-3)
        );
        close(store).await;
    });
}

#[test]
fn linked_accounts_share_one_balance() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        let twitch = (Platform::Twitch, "t1".to_owned());
        let kick = (Platform::Kick, "k1".to_owned());
        let youtube = (Platform::Youtube, "y1".to_owned());
        let results = store
            .apply_points(vec![
                change(Platform::Twitch, "t1", 100, None),
                change(Platform::Kick, "k1", 50, None),
                change(Platform::Youtube, "y1", 7, None),
                change(Platform::Twitch, "other", 1_000, None),
            ])
            .await
            .unwrap();
        assert_eq!(results, vec![Ok(100), Ok(50), Ok(7), Ok(1_000)]);
        let identity = |account: &(Platform, String)| {
            let (platform, user_id) = account.clone();
            let store = store.clone();
            async move { store.linked_viewers(platform, user_id).await.unwrap()[0].identity }
        };
        let (id_twitch, id_kick, id_youtube) = (
            identity(&twitch).await,
            identity(&kick).await,
            identity(&youtube).await,
        );
        assert!(id_twitch < id_kick && id_kick < id_youtube);

        // The smaller identity survives, whichever side it is given on.
        let kept = store
            .link_viewers(youtube.clone(), kick.clone())
            .await
            .unwrap();
        assert_eq!(kept, id_kick);
        let kept = store
            .link_viewers(kick.clone(), twitch.clone())
            .await
            .unwrap();
        assert_eq!(kept, id_twitch);
        // Linking linked accounts changes nothing.
        assert_eq!(
            store
                .link_viewers(youtube.clone(), twitch.clone())
                .await
                .unwrap(),
            id_twitch
        );
        for (platform, user_id) in [&twitch, &kick, &youtube] {
            assert_eq!(
                store.balance(*platform, user_id.clone()).await.unwrap(),
                Some(157)
            );
        }
        assert_eq!(count(&store, "SELECT count(*) FROM identities").await, 2);

        // Any account spends from the shared balance.
        let results = store
            .apply_points(vec![
                change(Platform::Youtube, "y1", -150, None),
                change(Platform::Kick, "k1", -8, None),
            ])
            .await
            .unwrap();
        assert_eq!(
            results,
            vec![
                Ok(7),
                Err(PointsError::Insufficient {
                    balance: 7,
                    requested: -8
                })
            ]
        );

        let top = store.top(10).await.unwrap();
        assert_eq!(
            top.iter()
                .map(|row| (row.identity, row.total))
                .collect::<Vec<_>>(),
            vec![
                (identity(&(Platform::Twitch, "other".into())).await, 1_000),
                (id_twitch, 7)
            ]
        );
        let accounts: Vec<(Platform, String)> = top[1]
            .accounts
            .iter()
            .map(|row| (row.platform, row.user_id.clone()))
            .collect();
        assert_eq!(
            accounts,
            vec![kick.clone(), twitch.clone(), youtube.clone()]
        );
        assert_eq!(store.top(1).await.unwrap().len(), 1);

        // The history of one account is the identity's, newest first.
        let history = store
            .ledger_entries(Platform::Kick, "k1".into(), 10)
            .await
            .unwrap();
        assert_eq!(
            history.iter().map(|entry| entry.delta).collect::<Vec<_>>(),
            vec![-150, 7, 50, 100]
        );
        assert_eq!(
            store
                .ledger_entries(Platform::Kick, "k1".into(), 2)
                .await
                .unwrap()
                .len(),
            2
        );

        let unknown = store
            .link_viewers(twitch.clone(), (Platform::Kick, "nobody".into()))
            .await;
        assert!(
            matches!(
                unknown,
                Err(StoreError::Points(PointsError::UnknownViewer { .. }))
            ),
            "{unknown:?}"
        );
        close(store).await;
    });
}

#[test]
fn a_link_that_would_overflow_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        store
            .apply_points(vec![
                change(Platform::Twitch, "a", i64::MAX, None),
                change(Platform::Kick, "b", 1, None),
            ])
            .await
            .unwrap();
        let refused = store
            .link_viewers((Platform::Twitch, "a".into()), (Platform::Kick, "b".into()))
            .await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Points(PointsError::Overflow {
                    balance: i64::MAX,
                    delta: 1
                }))
            ),
            "{refused:?}"
        );
        assert_eq!(
            count(&store, "SELECT count(DISTINCT identity) FROM viewers").await,
            2
        );
        close(store).await;
    });
}

#[test]
fn balances_whose_partial_sums_overflow_are_still_exact() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        let (a, b) = (
            (Platform::Kick, "a".to_owned()),
            (Platform::Twitch, "b".to_owned()),
        );
        store
            .upsert_viewer(seen(Platform::Twitch, "b", "b", 0))
            .await
            .unwrap();
        // One call per change: each one computes the balance afresh from the ledger.
        let mut balances = Vec::new();
        for (user_id, delta) in [
            ("a", i64::MAX),
            ("b", -i64::MAX),
            ("a", i64::MAX),
            ("b", -i64::MAX),
            ("a", 5),
        ] {
            let platform = if user_id == "a" {
                Platform::Kick
            } else {
                Platform::Twitch
            };
            let results = store
                .apply_points(vec![change(platform, user_id, delta, None)])
                .await
                .unwrap();
            balances.push(results[0].clone());
            if balances.len() == 1 {
                store.link_viewers(a.clone(), b.clone()).await.unwrap();
            }
        }
        assert_eq!(
            balances,
            vec![Ok(i64::MAX), Ok(0), Ok(i64::MAX), Ok(0), Ok(5)]
        );
        // Each account alone sums beyond i64 (2 * MAX and -2 * MAX), so SQLite's sum()
        // over the identity overflows whichever account it reads first.
        for platform in ["kick", "twitch"] {
            let plain_sum: Result<i64, StoreError> = store
                .read(move |connection| {
                    Ok(connection.query_row(
                        "SELECT sum(delta) FROM points_ledger WHERE platform = ?1",
                        [platform],
                        |row| row.get(0),
                    )?)
                })
                .await;
            assert!(plain_sum.is_err(), "{platform}: {plain_sum:?}");
        }
        assert_eq!(store.balance(a.0, a.1.clone()).await.unwrap(), Some(5));
        assert_eq!(store.balance(b.0, b.1.clone()).await.unwrap(), Some(5));
        let top = store.top(5).await.unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!((top[0].total, top[0].accounts.len()), (5, 2));
        let results = store
            .apply_points(vec![change(Platform::Twitch, "b", i64::MAX, None)])
            .await
            .unwrap();
        assert_eq!(
            results,
            vec![Err(PointsError::Overflow {
                balance: 5,
                delta: i64::MAX
            })]
        );
        close(store).await;
    });
}

#[test]
fn logins_can_change_without_losing_the_balance() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        let identity = store
            .upsert_viewer(seen(Platform::Twitch, "42", "Alice", 1_000))
            .await
            .unwrap();
        assert_eq!(
            store
                .upsert_viewer(seen(Platform::Twitch, "42", "Alice", 1_500))
                .await
                .unwrap(),
            identity
        );
        let mut give = change(Platform::Twitch, "42", 30, None);
        give.login = "Alice".into();
        give.at_ms = 2_000;
        assert_eq!(store.apply_points(vec![give]).await.unwrap(), vec![Ok(30)]);

        // Renamed: same account, same identity, same balance.
        assert_eq!(
            store
                .upsert_viewer(seen(Platform::Twitch, "42", "alice_2", 3_000))
                .await
                .unwrap(),
            identity
        );
        // A late, older sighting does not bring the old login back.
        store
            .upsert_viewer(seen(Platform::Twitch, "42", "Alice", 500))
            .await
            .unwrap();
        assert_eq!(
            store.balance(Platform::Twitch, "42".into()).await.unwrap(),
            Some(30)
        );
        let found = store.find_viewers("ALICE_2".into(), None).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                found[0].login.as_str(),
                found[0].identity,
                found[0].first_seen_ms,
                found[0].last_seen_ms
            ),
            ("alice_2", identity, 500, 3_000)
        );
        assert!(
            store
                .find_viewers("alice".into(), None)
                .await
                .unwrap()
                .is_empty()
        );

        // Somebody else takes the old login, on Twitch and on Kick.
        store
            .upsert_viewer(seen(Platform::Twitch, "77", "alice", 4_000))
            .await
            .unwrap();
        store
            .upsert_viewer(seen(Platform::Kick, "k", "ALICE", 5_000))
            .await
            .unwrap();
        let both = store.find_viewers("Alice".into(), None).await.unwrap();
        assert_eq!(
            both.iter()
                .map(|row| (row.platform, row.user_id.as_str()))
                .collect::<Vec<_>>(),
            vec![(Platform::Kick, "k"), (Platform::Twitch, "77")]
        );
        let twitch_only = store
            .find_viewers("alice".into(), Some(Platform::Twitch))
            .await
            .unwrap();
        assert_eq!(twitch_only.len(), 1);
        assert_eq!(twitch_only[0].user_id, "77");
        assert_eq!(
            store.balance(Platform::Twitch, "77".into()).await.unwrap(),
            Some(0)
        );
        assert_eq!(
            store.balance(Platform::Twitch, "42".into()).await.unwrap(),
            Some(30)
        );

        // Non-ASCII logins compare case-insensitively too.
        store
            .upsert_viewer(seen(Platform::Youtube, "UC1", "Émilie", 6_000))
            .await
            .unwrap();
        let found = store.find_viewers("éMILIE".into(), None).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].platform, Platform::Youtube);

        assert!(
            store
                .upsert_viewer(seen(Platform::Roadie, "1", "x", 0))
                .await
                .is_err()
        );
        close(store).await;
    });
}
