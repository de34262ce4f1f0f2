//! The API's guards: token, Host, Origin, file modes, the single-daemon lock, and
//! start-up with no configuration at all.

use std::os::unix::fs::PermissionsExt;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support;

#[test]
fn starts_with_no_config_and_guards_every_door() {
    let env = support::env();
    assert!(!env.config_path().exists());
    let daemon = env.spawn_daemon();
    let address = daemon.address().to_owned();
    let rt = support::runtime();
    rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = |path: &str| format!("http://{address}{path}");

        let health: serde_json::Value = http
            .get(url("/api/v1/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["status"], "ok");

        let anonymous = http.get(url("/api/v1/status")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let body: serde_json::Value = anonymous.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        let wrong = http
            .get(url("/api/v1/status"))
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let status = http
            .get(url("/api/v1/status"))
            .bearer_auth(daemon.token())
            .send()
            .await
            .unwrap();
        assert_eq!(status.status(), 200);
        let status: serde_json::Value = status.json().await.unwrap();
        assert_eq!(status["keystore"]["backend"], "file");
        let names: Vec<&str> = status["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        for expected in ["api", "event_stream", "keystore", "store"] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }

        // DNS rebinding: a foreign Host is refused, even for health.
        let foreign = http
            .get(url("/api/v1/health"))
            .header("host", "attacker.example:80")
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403);
        let foreign = http
            .get(url("/api/v1/status"))
            .header("host", "attacker.example")
            .bearer_auth(daemon.token())
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403);
        let local_name = http
            .get(url("/api/v1/health"))
            .header(
                "host",
                format!("localhost:{}", address.rsplit(':').next().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(local_name.status(), 200);

        // A state change from a foreign Origin is refused; from our own it is not.
        let body = serde_json::json!({"name": "x"});
        let post = http
            .post(url("/api/v1/events"))
            .bearer_auth(daemon.token())
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 403);
        let post = http
            .post(url("/api/v1/events"))
            .bearer_auth(daemon.token())
            .header("origin", format!("http://{address}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 200);

        // A WebSocket upgrade from a foreign Origin is refused.
        let mut request = format!("ws://{address}/api/v1/events")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", daemon.token()).parse().unwrap(),
        );
        request
            .headers_mut()
            .insert("origin", "https://evil.example".parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403)
            }
            other => panic!(
                "a foreign-Origin upgrade was not refused: {:?}",
                other.map(|(_, response)| response.status())
            ),
        }
        let mut request = format!("ws://{address}/api/v1/events")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", daemon.token()).parse().unwrap(),
        );
        request
            .headers_mut()
            .insert("origin", format!("http://{address}").parse().unwrap());
        assert!(
            tokio_tungstenite::connect_async(request).await.is_ok(),
            "a same-origin upgrade was refused"
        );
        // ... and one without a token never upgrades.
        let request = format!("ws://{address}/api/v1/events")
            .into_client_request()
            .unwrap();
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401)
            }
            other => panic!(
                "an unauthenticated upgrade was not refused: {:?}",
                other.map(|(_, response)| response.status())
            ),
        }

        // The OpenAPI document is generated and lists the endpoints.
        let openapi: serde_json::Value = http
            .get(url("/api/v1/openapi.json"))
            .bearer_auth(daemon.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for path in [
            "/api/v1/health",
            "/api/v1/status",
            "/api/v1/events",
            "/api/v1/events/history",
            "/api/v1/secrets/{key}",
        ] {
            assert!(
                openapi["paths"].get(path).is_some(),
                "{path} missing from openapi.json"
            );
        }
        let missing = http
            .get(url("/api/v1/nothing"))
            .bearer_auth(daemon.token())
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        let body: serde_json::Value = missing.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    });

    let mode =
        |path: std::path::PathBuf| std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(env.data_dir()), 0o700, "data directory mode");
    assert_eq!(
        mode(env.data_dir().join("api-token")),
        0o600,
        "token file mode"
    );

    // A second daemon on the same data directory exits at once and says why.
    let started = std::time::Instant::now();
    let second = env.run(&["daemon"], None);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("already running"), "{stderr}");
    assert!(stderr.contains(&daemon.pid().to_string()), "{stderr}");
}

#[test]
fn cli_status_reports_health_and_explains_a_stopped_daemon() {
    let env = support::env();
    let stopped = env.run(&["status"], None);
    assert_eq!(stopped.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(stderr.contains("not running"), "{stderr}");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "the reason is one line: {stderr}"
    );

    let mut daemon = env.spawn_daemon();
    let human = env.run(&["status"], None);
    assert!(
        human.status.success(),
        "{}",
        String::from_utf8_lossy(&human.stderr)
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("keystore: file") && text.contains("store"),
        "{text}"
    );
    let json = env.run(&["status", "--json"], None);
    let status: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));

    // SIGTERM: the daemon stops within 5 s and releases the directory.
    let began = std::time::Instant::now();
    let exit = daemon
        .terminate(std::time::Duration::from_secs(6))
        .expect("no exit within 6 s of SIGTERM");
    assert!(exit.success(), "{exit:?}: {}", daemon.stderr());
    assert!(began.elapsed() < std::time::Duration::from_secs(5));
    assert!(!env.data_dir().join("daemon.json").exists());
    let again = env.spawn_daemon();
    drop(again);
}

#[test]
fn a_taken_port_is_named_with_the_setting_that_moves_it() {
    let mut env = support::env();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    env.set_env("ROADIE_SERVER__LISTEN", &address);
    let started = std::time::Instant::now();
    let output = env.run(&["daemon"], None);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "{stderr}"
    );
    assert!(stderr.contains("[server] listen"), "{stderr}");
    drop(taken);
}
