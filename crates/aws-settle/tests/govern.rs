//! The rate governor against the real test bed: moto behind settle-proxy (whose per-operation
//! bucket plays AWS's quota) and a real Valkey server for the fleet backend.
//!
//! No test depends on a wall-clock window: the shared-budget test counts the proxy's throttles,
//! and waits for renewals with a bounded poll on the governor's own state.

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use aws_settle::govern::{FleetOptions, Governor, Key, Limits, RetryBudget, govern};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use settle_emulator::{LogCapture, ValkeyServer, proxy_in_front_of_moto, sdk_config, unique_name};
use settle_proxy::Config;

/// The proxy's quota for SSM GetParameter: 10/s with a burst of 10.
const QUOTA: &str = r#"
[services.ssm.operations.GetParameter]
throttle = "10/s:10"
"#;

/// Installed once for this binary: the metrics recorder and the log capture.
fn observed() -> &'static (Snapshotter, LogCapture) {
    static ONCE: OnceLock<(Snapshotter, LogCapture)> = OnceLock::new();
    ONCE.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("one recorder per test binary");
        let logs = LogCapture::default();
        tracing::subscriber::set_global_default(logs.subscriber(tracing::Level::DEBUG)).unwrap();
        (snapshotter, logs)
    })
}

fn counter(name: &str) -> u64 {
    observed()
        .0
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == name)
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

/// The gauge `name`, of the key of `account` if given.
fn gauge(name: &str, account: Option<&str>) -> Option<f64> {
    let of_account = |key: &metrics::Key| {
        account.is_none_or(|a| key.labels().any(|l| l.key() == "account" && l.value() == a))
    };
    observed()
        .0
        .snapshot()
        .into_vec()
        .into_iter()
        .find(|(key, ..)| key.key().name() == name && of_account(key.key()))
        .and_then(|(.., value)| match value {
            DebugValue::Gauge(g) => Some(g.into_inner()),
            _ => None,
        })
}

/// Polls `done` every 20 ms for at most 15 s (the bound: a renewal every 100 ms).
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..750 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // real time: renewals talk to a real server
    }
    panic!("not within 15 s: {what}");
}

async fn parameter(endpoint: &str) -> String {
    let name = format!("/settle/{}", unique_name("govern"));
    let ssm = aws_sdk_ssm::Client::new(&sdk_config(endpoint));
    ssm.put_parameter().name(&name).value("v").r#type(ParameterType::String).send().await.unwrap();
    name
}

fn key(limits: &Limits) -> Key {
    Key {
        account: limits.account().into(),
        region: settle_emulator::REGION.into(),
        service: "ssm".into(),
        operation: "GetParameter".into(),
    }
}

/// `calls` GetParameter calls from each client at once; the results.
async fn burst(clients: &[aws_sdk_ssm::Client], name: &str, calls: usize) -> Vec<bool> {
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..calls {
            let (client, name) = (client.clone(), name.to_string());
            tasks.push(tokio::spawn(async move { client.get_parameter().name(name).send().await.is_ok() }));
        }
    }
    let mut ok = Vec::new();
    for task in tasks {
        ok.push(task.await.unwrap());
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_one_budget_on_the_real_server() {
    observed();
    let proxy = proxy_in_front_of_moto(Config::from_toml(QUOTA).unwrap());
    let name = parameter(&proxy.endpoint()).await;
    let config = sdk_config(&proxy.endpoint());

    // Control: two governors that do not share, each at the whole quota, together overshoot it.
    let alone = Limits::new(10.0).with_account("alone").without_adapt().without_retry_budget();
    let clients: Vec<_> =
        (0..2).map(|_| govern(aws_sdk_ssm::Client::new(&config), &Governor::local(alone.clone()))).collect();
    let before = proxy.counters().throttled;
    burst(&clients, &name, 15).await;
    let overshoot = proxy.counters().throttled - before;
    assert!(overshoot > 0, "two local governors at 10/s each overshoot a 10/s quota");

    // Two members of one fleet on the real server: each paces at 10/s ÷ 2.
    let valkey = ValkeyServer::start().unwrap();
    let limits = Limits::new(10.0).with_account(&unique_name("fleet")).without_adapt();
    let options = FleetOptions::default().with_period(Duration::from_millis(100));
    let governors: Vec<Governor> =
        (0..2).map(|_| Governor::fleet(&valkey.url(), limits.clone(), options).unwrap()).collect();
    let clients: Vec<_> = governors.iter().map(|g| govern(aws_sdk_ssm::Client::new(&config), g)).collect();
    // One call each makes both members known to the server (2 calls: within the burst).
    burst(&clients, &name, 1).await;
    let k = key(&limits);
    eventually("both members hold a half share", || {
        governors
            .iter()
            .all(|g| g.status(&k).is_some_and(|s| s.shared && s.members == 2 && s.share <= 5.0 + 1e-9))
    })
    .await;
    let before = proxy.counters().throttled;
    let ok = burst(&clients, &name, 15).await;
    assert!(ok.iter().all(|ok| *ok), "every call succeeds");
    assert_eq!(proxy.counters().throttled - before, 0, "together they stay within the one quota");
    let status = governors[0].status(&k).unwrap();
    assert_eq!((status.rate, status.members), (10.0, 2));
    assert_eq!(
        gauge(aws_settle::govern::RATE, Some(limits.account())),
        Some(10.0),
        "the learned rate is a gauge"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_seen_by_one_member_slows_the_fleet() {
    observed();
    // A quota of 2/s that the fleet believes is 10/s: the first throttles cut the shared rate.
    let proxy = proxy_in_front_of_moto(
        Config::from_toml("[services.ssm.operations.GetParameter]\nthrottle = \"2/s:2\"").unwrap(),
    );
    let name = parameter(&proxy.endpoint()).await;
    let valkey = ValkeyServer::start().unwrap();
    let limits = Limits::new(10.0).with_account(&unique_name("adapt"));
    let options = FleetOptions::default().with_period(Duration::from_millis(100));
    let a = Governor::fleet(&valkey.url(), limits.clone(), options).unwrap();
    let b = Governor::fleet(&valkey.url(), limits.clone(), options).unwrap();
    let client_a = govern(aws_sdk_ssm::Client::new(&sdk_config(&proxy.endpoint())), &a);
    let client_b = govern(aws_sdk_ssm::Client::new(&sdk_config(&proxy.endpoint())), &b);
    burst(std::slice::from_ref(&client_b), &name, 1).await; // b is a member, and not throttled
    let k = key(&limits);
    eventually("b is a member", || b.status(&k).is_some_and(|s| s.shared)).await;
    burst(std::slice::from_ref(&client_a), &name, 8).await; // only a sees throttles
    assert!(proxy.counters().throttled > 0);
    eventually("b learns the cut rate from the server", || b.status(&k).is_some_and(|s| s.rate < 10.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_fails_open_and_rejoins() {
    let (_, logs) = observed();
    // Other tests of this binary share the log: this one's warnings are counted after the outage.
    let proxy = proxy_in_front_of_moto(Config::default());
    let name = parameter(&proxy.endpoint()).await;
    let mut valkey = ValkeyServer::start().unwrap();
    let limits = Limits::new(50.0).with_account(&unique_name("failopen"));
    let options = FleetOptions::default().with_period(Duration::from_millis(100));
    let governor = Governor::fleet(&valkey.url(), limits.clone(), options).unwrap();
    let ssm = govern(aws_sdk_ssm::Client::new(&sdk_config(&proxy.endpoint())), &governor);
    burst(std::slice::from_ref(&ssm), &name, 2).await;
    eventually("shared", || governor.is_shared()).await;
    let fallbacks = counter(aws_settle::govern::FALLBACKS_TOTAL);

    let mark = logs.text().len();
    valkey.stop();
    eventually("the member notices", || !governor.is_shared()).await;
    let ok = burst(std::slice::from_ref(&ssm), &name, 10).await;
    assert!(ok.iter().all(|ok| *ok), "no call fails because the coordinator is down");
    // Several failed renewals (one every 100 ms) while calls go on: one warning, one fallback.
    let k = key(&limits);
    eventually("renewals keep failing", || governor.status(&k).is_some_and(|s| !s.shared)).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // real time: let 3 more renewals fail
    assert_eq!(counter(aws_settle::govern::FALLBACKS_TOTAL) - fallbacks, 1, "one fallback per outage");
    assert_eq!(gauge(aws_settle::govern::SHARED_ONLINE, Some(limits.account())), Some(0.0));
    let warnings = logs.text()[mark..].matches("the shared server did not answer").count();
    assert_eq!(warnings, 1, "one warning per outage:\n{}", logs.text());

    valkey.restart().unwrap();
    eventually("back to shared after the restart", || governor.is_shared()).await;
    let ok = burst(std::slice::from_ref(&ssm), &name, 2).await;
    assert!(ok.iter().all(|ok| *ok));
    assert!(governor.status(&k).unwrap().shared);
    let text = logs.text();
    assert!(!text.contains(settle_emulator::SECRET_ACCESS_KEY), "no credential in the governor's logs");
}

#[tokio::test]
async fn a_bad_url_is_a_typed_error_without_the_password() {
    let err = Governor::fleet("http://:hunter2@127.0.0.1:1", Limits::new(1.0), FleetOptions::default())
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not a redis://"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn a_spent_retry_budget_fails_the_call_at_once() {
    observed();
    // One PutParameter per hour passes: every later attempt is throttled.
    let proxy = proxy_in_front_of_moto(
        Config::from_toml("[services.ssm.operations.PutParameter]\nthrottle = \"1/h:1\"").unwrap(),
    );
    let no_retries = RetryBudget { share: 0.0, headroom: 0.0, ..RetryBudget::default() };
    let governor = Governor::local(Limits::new(50.0).with_retry_budget(no_retries));
    let ssm = govern(aws_sdk_ssm::Client::new(&sdk_config(&proxy.endpoint())), &governor);
    let put = |name: String| {
        let ssm = ssm.clone();
        async move { ssm.put_parameter().name(name).value("v").r#type(ParameterType::String).send().await }
    };
    put(format!("/settle/{}", unique_name("budget"))).await.unwrap();
    let before = proxy.counters().requests;
    let refused = counter(aws_settle::govern::RETRIES_REFUSED_TOTAL);
    let err = put(format!("/settle/{}", unique_name("budget"))).await.unwrap_err();
    assert_eq!(proxy.counters().requests - before, 1, "the throttled attempt is not retried");
    let story = format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&err));
    assert!(story.contains("retry budget spent"), "{story}");
    assert_eq!(counter(aws_settle::govern::RETRIES_REFUSED_TOTAL) - refused, 1);
}

#[path = "../benches/throttled_fleet/run.rs"]
#[allow(dead_code)]
mod throttled_fleet;

/// The benchmark's smoke run: every variant runs and the table has a row for each.
#[test]
fn throttled_fleet_quick_emits_the_table() {
    // Its members are this test binary run again, this test only, as member processes.
    if throttled_fleet::member_main_if_asked() {
        return;
    }
    let launcher = throttled_fleet::Launcher::this_binary(&[
        "throttled_fleet_quick_emits_the_table",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    let shape = throttled_fleet::Shape::quick();
    let rows: Vec<_> =
        throttled_fleet::Variant::ALL.iter().map(|v| throttled_fleet::run(*v, shape, &launcher)).collect();
    let table = throttled_fleet::table(shape, &rows);
    println!("{table}");
    assert!(table.contains("| variant | goodput/R |"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| variant")).count(),
        6,
        "{table}"
    );
    for row in &rows {
        assert!(row.attempts > 0 && row.ok_calls > 0, "{table}");
    }
    let killed = rows.last().unwrap();
    assert_eq!(killed.failed_calls, 0, "no call fails because the coordinator is down:\n{table}");
}
