//! Observability through the real SDK: moto behind settle-proxy, with and without throttling.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_sdk_ssm::config::Credentials;
use aws_sdk_ssm::config::retry::{RetryConfig, RetryPartition};
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;
use aws_settle::observe::{Event, EventKind, Telemetry, instrument};
use futures_util::future::join_all;

/// The credentials every client of this file signs with: a secret key and a session token that
/// no log line may show (the access key id is not secret).
const ACCESS_KEY_ID: &str = "AKIDOBSERVETEST";
const SECRET_ACCESS_KEY: &str = "observe-SECRETKEY-wJalrXUtnFEMIK7MDENG";
const SESSION_TOKEN: &str = "observe-SESSIONTOKEN-FwoGZXIvYXdzEJr";

/// An SSM client on `endpoint` with its own retry token bucket (the SDK's is per process and
/// partition, so tests sharing one would drain each other's retry quota), signing with
/// [`SECRET_ACCESS_KEY`] and sending [`SESSION_TOKEN`].
fn ssm(endpoint: &str, retry: RetryConfig) -> aws_sdk_ssm::Client {
    let credentials =
        Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, Some(SESSION_TOKEN.into()), None, "test");
    let config = aws_sdk_ssm::config::Builder::from(&settle_testbed::sdk_config(endpoint))
        .credentials_provider(credentials)
        .retry_config(retry)
        .retry_partition(RetryPartition::new(settle_testbed::unique_name("observe")))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// What the global `tracing` subscriber (installed once for this test binary) has written: every
/// target at TRACE, the SDK's own (where request headers could show) as well as ours.
fn traced() -> settle_testbed::LogCapture {
    static LOG: OnceLock<settle_testbed::LogCapture> = OnceLock::new();
    LOG.get_or_init(|| {
        let logs = settle_testbed::LogCapture::default();
        tracing::subscriber::set_global_default(logs.subscriber(tracing::Level::TRACE)).unwrap();
        logs
    })
    .clone()
}

/// Every event `telemetry` emits matching `pattern`, in order.
fn collect(telemetry: &Telemetry, pattern: &str) -> Arc<Mutex<Vec<Event>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    telemetry.on(pattern, move |e| sink.lock().unwrap().push(e.clone())).unwrap();
    events
}

fn count(events: &[Event], pred: impl Fn(&EventKind) -> bool) -> usize {
    events.iter().filter(|e| pred(&e.kind)).count()
}

async fn put(ssm: &aws_sdk_ssm::Client, prefix: &str) -> Result<(), aws_sdk_ssm::Error> {
    let name = format!("/settle/{}", settle_testbed::unique_name(prefix));
    ssm.put_parameter().name(name).value("v").r#type(ParameterType::String).send().await?;
    Ok(())
}

// Several worker threads: the backoff probe's attribution must hold while tasks move between threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_calls_show_throttles_retries_and_their_backoff() {
    traced();
    // A bucket of 5 requests that never refills: 5 calls get through, the 10 others are throttled
    // on every attempt, however slow the machine.
    let config = settle_proxy::Config::from_toml("[services.ssm]\nthrottle = \"0/s:5\"").unwrap();
    let proxy = settle_testbed::proxy_in_front_of_moto(config);
    let telemetry = Telemetry::new();
    let all = collect(&telemetry, "*");
    let retries = collect(&telemetry, "ssm:*:retry");
    let ssm = instrument(ssm(&proxy.endpoint(), RetryConfig::standard()), &telemetry);

    let tasks = (0..15).map(|_| {
        let ssm = ssm.clone();
        tokio::spawn(async move { put(&ssm, "throttled").await })
    });
    let results = join_all(tasks).await;
    let succeeded = results.into_iter().filter(|r| r.as_ref().unwrap().is_ok()).count();

    let all = all.lock().unwrap().clone();
    let retries = retries.lock().unwrap().clone();
    let throttled = count(&all, |k| *k == EventKind::Throttled);
    let retry_events: Vec<Event> = all.iter().filter(|e| e.kind.name() == "retry").cloned().collect();
    assert_eq!(succeeded, 5, "the bucket's 5 requests");
    assert!(throttled >= 10, "every other call is throttled");
    assert!(!retry_events.is_empty());
    assert!(retry_events.iter().all(|e| e.backoff().unwrap() > Duration::ZERO), "{retry_events:?}");
    assert!(retry_events.iter().all(|e| e.error_code.as_deref() == Some("ThrottlingException")));
    assert_eq!(retries, retry_events, "the ssm:*:retry subscriber saw exactly the retries");

    let counters = proxy.counters();
    assert_eq!(counters.throttled as usize, throttled, "one Throttled event per throttled request");
    assert_eq!(counters.requests as usize, count(&all, |k| *k == EventKind::AttemptStart));

    // Per call: one start and end, attempts within the SDK's default of 3, one retry between attempts.
    let mut calls: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    all.iter().for_each(|e| calls.entry(e.call_id).or_default().push(e));
    assert_eq!(calls.len(), 15);
    let mut ok_calls = 0;
    for events in calls.values() {
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
        assert_eq!(kinds.first(), Some(&"call_start"), "{kinds:?}");
        assert_eq!(kinds.last(), Some(&"call_end"), "{kinds:?}");
        let attempts = kinds.iter().filter(|k| **k == "attempt_start").count();
        let retried = kinds.iter().filter(|k| **k == "retry").count();
        assert!((1..=3).contains(&attempts), "{kinds:?}");
        assert_eq!(retried, attempts - 1, "{kinds:?}");
        let end = events.last().unwrap();
        assert_eq!(end.attempt as usize, attempts);
        match end.kind {
            EventKind::CallEnd { ok: true } => ok_calls += 1,
            _ => assert_eq!(kinds.iter().filter(|k| **k == "give_up").count(), 1, "{kinds:?}"),
        }
        assert!(events.iter().all(|e| e.service == "ssm" && e.operation == "PutParameter"));
    }
    assert_eq!(ok_calls, succeeded);

    let report = telemetry.report();
    eprintln!("{report}");
    let row = report.row("ssm", "PutParameter").unwrap();
    assert_eq!(
        (row.calls, row.retries as usize, row.throttles as usize),
        (15, retry_events.len(), throttled)
    );
    assert_eq!(row.backoff, retry_events.iter().map(|e| e.backoff().unwrap()).sum::<Duration>());
    let headline = report.headline();
    assert!(headline.contains("backoff after throttling on ssm:PutParameter"), "{headline}");
}

#[tokio::test]
async fn without_faults_each_call_is_one_attempt() {
    traced();
    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::default());
    let telemetry = Telemetry::new();
    let all = collect(&telemetry, "*");
    let dynamodb_events = collect(&telemetry, "dynamodb");
    let ssm = instrument(ssm(&proxy.endpoint(), RetryConfig::standard()), &telemetry);
    let sdk_config = settle_testbed::sdk_config(&proxy.endpoint());
    let dynamodb = instrument(aws_sdk_dynamodb::Client::new(&sdk_config), &telemetry);

    for _ in 0..4 {
        put(&ssm, "quiet").await.unwrap();
    }
    dynamodb.list_tables().send().await.unwrap();
    let missing = ssm.get_parameter().name("/settle/observe/none").send().await.unwrap_err();
    assert!(missing.into_service_error().is_parameter_not_found());

    let all = all.lock().unwrap().clone();
    assert_eq!(count(&all, |k| *k == EventKind::CallStart), 6);
    assert_eq!(count(&all, |k| *k == EventKind::AttemptStart), 6);
    assert_eq!(count(&all, |k| matches!(k, EventKind::Retry { .. } | EventKind::Throttled)), 0);
    assert_eq!(count(&all, |k| *k == EventKind::GiveUp), 0, "a not-found is not retryable");
    assert_eq!(proxy.counters().requests, 6);
    let ends: Vec<&Event> = all.iter().filter(|e| matches!(e.kind, EventKind::AttemptEnd { .. })).collect();
    assert!(ends.iter().all(|e| e.attempt == 1 && e.duration.is_some()));
    assert_eq!(ends.iter().filter(|e| e.status == Some(200) && e.error_code.is_none()).count(), 5);
    let not_found = ends.iter().find(|e| e.operation == "GetParameter").unwrap();
    assert_eq!(not_found.error_code.as_deref(), Some("ParameterNotFound"));

    let dynamodb_events = dynamodb_events.lock().unwrap();
    let keys: Vec<String> = dynamodb_events.iter().map(Event::key).collect();
    assert_eq!(
        keys,
        [
            "dynamodb:ListTables:call_start",
            "dynamodb:ListTables:attempt_start",
            "dynamodb:ListTables:attempt_end",
            "dynamodb:ListTables:call_end"
        ]
    );

    let report = telemetry.report();
    let row = report.row("ssm", "PutParameter").unwrap();
    assert_eq!((row.calls, row.attempts, row.retries, row.throttles, row.failed_calls), (4, 4, 0, 0, 0));
    assert_eq!(report.row("ssm", "GetParameter").unwrap().failed_calls, 1);
    assert!(report.headline().starts_with("no time lost to retries: 6 call(s)"), "{report}");
}

#[tokio::test]
async fn instrumenting_leaves_the_sdk_retry_behaviour_unchanged() {
    // One request passes, every later one is throttled: each call makes exactly max_attempts attempts.
    traced();
    let config = settle_proxy::Config::from_toml("[services.ssm]\nthrottle = \"0/s:1\"").unwrap();
    let proxy = settle_testbed::proxy_in_front_of_moto(config);
    let retry = RetryConfig::standard().with_max_attempts(4).with_initial_backoff(Duration::from_millis(20));
    let plain = ssm(&proxy.endpoint(), retry.clone());
    put(&plain, "burst").await.unwrap();

    let before = proxy.counters().requests;
    let err = put(&plain, "plain").await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    let plain_attempts = proxy.counters().requests - before;
    assert_eq!(plain_attempts, 4);

    let telemetry = Telemetry::new();
    let all = collect(&telemetry, "*");
    // Instrumenting twice moves the client to the latest telemetry without reporting twice.
    let instrumented = instrument(instrument(ssm(&proxy.endpoint(), retry), &Telemetry::new()), &telemetry);
    let before = proxy.counters().requests;
    let err = put(&instrumented, "instrumented").await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(proxy.counters().requests - before, plain_attempts);

    let all = all.lock().unwrap().clone();
    let kinds: Vec<String> = all.iter().map(|e| format!("{}#{}", e.kind.name(), e.attempt)).collect();
    let mut expected = vec!["call_start#0".to_string()];
    for attempt in 1..=4 {
        expected.extend([format!("attempt_start#{attempt}"), format!("attempt_end#{attempt}")]);
        expected.push(format!("throttled#{attempt}"));
        if attempt < 4 {
            expected.push(format!("retry#{attempt}"));
        }
    }
    expected.extend(["give_up#4".to_string(), "call_end#4".to_string()]);
    assert_eq!(kinds, expected);
    let backoffs: Vec<Duration> = all.iter().filter_map(Event::backoff).collect();
    assert_eq!(backoffs.len(), 3);
    // Standard mode: initial backoff × 2^(n-1) × jitter, so each is below 20 ms × 2^(n-1).
    for (n, backoff) in backoffs.iter().enumerate() {
        assert!(*backoff > Duration::ZERO && *backoff <= Duration::from_millis(20 << n), "{backoffs:?}");
    }
    let report = telemetry.report();
    let row = report.row("ssm", "PutParameter").unwrap();
    assert_eq!((row.calls, row.attempts, row.retries, row.throttles, row.give_ups), (1, 4, 3, 4, 1));

    // One tracing event per event, with its fields.
    let log = traced().text();
    let call = format!("call_id={} ", all[0].call_id);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&call)).collect();
    assert_eq!(lines.len(), all.len(), "{log}");
    let retries: Vec<&&str> = lines.iter().filter(|l| l.contains("kind=retry")).collect();
    assert_eq!(retries.len(), 3, "{lines:#?}");
    for line in retries {
        assert!(
            line.contains(" INFO ") && line.contains("aws_settle::observe: ssm:PutParameter:retry"),
            "{line}"
        );
        for field in
            ["service=ssm", "operation=PutParameter", "backoff_ms=", "status=400", "code=ThrottlingException"]
        {
            assert!(line.contains(field), "{field} in {line}");
        }
    }
    assert!(lines.iter().any(|l| l.contains("WARN") && l.contains("kind=give_up")), "{lines:#?}");
    assert_no_credentials(&log);
}

/// The log holds the SDK's own trace of the requests (where headers would show), and neither the
/// secret key, the session token, nor the signature it was sent with.
fn assert_no_credentials(log: &str) {
    assert!(log.contains("aws_smithy_runtime"), "the SDK's own events are captured");
    assert!(log.contains("x-amz-security-token"), "the SDK traced the request headers");
    for secret in [SECRET_ACCESS_KEY, SESSION_TOKEN, "Signature="] {
        assert!(!log.contains(secret), "the log shows {secret}");
    }
}

#[tokio::test]
async fn post_condition_read_backs_of_an_instrumented_client_are_observed() {
    use aws_settle::post::{Enforcer, SettleExt, attach};
    traced();
    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::default());
    let telemetry = Telemetry::new();
    let calls = collect(&telemetry, "ssm:*:call_end");
    let enforcer = Enforcer::new();
    // Instrument first, then attach: the enforcer's reader is built from the instrumented config.
    let ssm = attach(instrument(ssm(&proxy.endpoint(), RetryConfig::standard()), &telemetry), &enforcer);
    let name = format!("/settle/{}", settle_testbed::unique_name("observed-settle"));
    ssm.put_parameter().name(&name).value("v").r#type(ParameterType::String).send().settled().await.unwrap();
    let operations: Vec<String> = calls.lock().unwrap().iter().map(|e| e.operation.clone()).collect();
    assert_eq!(operations.first().map(String::as_str), Some("PutParameter"), "{operations:?}");
    assert!(operations.iter().any(|o| o == "GetParameter"), "the read-back is observed: {operations:?}");
    // ... and reported as the enforcer's read-back, not as the user's own GetParameter.
    let report = telemetry.report();
    assert!(report.row("ssm", "GetParameter").is_none(), "{report}");
    assert!(report.read_back_row("ssm", "GetParameter").is_some_and(|r| r.calls >= 1), "{report}");
}

#[tokio::test]
async fn calls_inside_read_back_are_reported_as_read_backs() {
    use aws_settle::observe::read_back;
    traced();
    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::default());
    let telemetry = Telemetry::new();
    let ends = collect(&telemetry, "ssm:GetParameter:call_end");
    let ssm = instrument(ssm(&proxy.endpoint(), RetryConfig::standard()), &telemetry);
    let name = format!("/settle/{}", settle_testbed::unique_name("read-back"));
    ssm.put_parameter().name(&name).value("v").r#type(ParameterType::String).send().await.unwrap();
    ssm.get_parameter().name(&name).send().await.unwrap();
    for _ in 0..2 {
        read_back(ssm.get_parameter().name(&name).send()).await.unwrap();
    }
    let origins: Vec<bool> = ends.lock().unwrap().iter().map(|e| e.read_back).collect();
    assert_eq!(origins, [false, true, true]);
    let report = telemetry.report();
    assert_eq!(report.row("ssm", "GetParameter").unwrap().calls, 1, "{report}");
    assert_eq!(report.read_back_row("ssm", "GetParameter").unwrap().calls, 2, "{report}");
    assert_eq!(report.row("ssm", "PutParameter").unwrap().calls, 1);
    assert!(report.to_string().contains("ssm:GetParameter (read-back)"), "{report}");
}
