//! The poll loop: progress reports, errors that carry the last observation, dropping the
//! future, `Send` futures, unsupported JSON views.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_settle::wait::{
    Acceptor, AttemptReport, Comparator, Delays, ErrorResponse, State, TokioClock, VirtualClock, WaitError,
    Waiter,
};
use serde_json::{Value, json};

#[tokio::test]
async fn every_attempt_is_reported_with_acceptor_state_and_next_delay() {
    let reports: Arc<Mutex<Vec<AttemptReport>>> = Arc::default();
    let sink = reports.clone();
    let mut n = 0;
    let settled = Waiter::new(Delays::fixed(Duration::from_secs(3), 10))
        .named("CountReaches3")
        .success_when(|n: &u32| *n >= 3)
        .retry_on_error_code("Missing")
        .clock(VirtualClock::new())
        .on_attempt(move |r| sink.lock().unwrap().push(r.clone()))
        .wait(|| {
            n += 1;
            let r = if n == 1 { Err(ErrorResponse::new("Missing", 404)) } else { Ok(n) };
            async move { r }
        })
        .await
        .unwrap();
    assert_eq!((settled.output, settled.attempts, settled.acceptor), (Some(3), 3, 0));
    assert_eq!(settled.elapsed, Duration::from_secs(6));
    let reports = reports.lock().unwrap();
    let summary: Vec<_> =
        reports.iter().map(|r| (r.attempt, r.elapsed.as_secs(), r.acceptor, r.state, r.next_delay)).collect();
    let three = Some(Duration::from_secs(3));
    assert_eq!(
        summary,
        vec![
            (1, 0, Some(1), State::Retry, three),
            (2, 3, None, State::Retry, three),
            (3, 6, Some(0), State::Success, None)
        ]
    );
    assert!(reports.iter().all(|r| r.waiter == "CountReaches3"));
    assert_eq!(reports[0].observed, "error Missing (status 404)");
    assert_eq!(reports[1].observed, "output");
    assert!(reports[2].reason.contains("acceptor 0 matched"), "{}", reports[2].reason);
}

#[tokio::test]
async fn a_timeout_carries_the_attempts_elapsed_time_and_last_output() {
    let err = Waiter::new(
        Delays::smithy(Duration::from_secs(1), Duration::from_secs(4)).max_wait(Duration::from_secs(20)),
    )
    .named("NeverReady")
    .success_when(|s: &String| s == "ready")
    .clock(VirtualClock::new())
    .seed(7)
    .wait(|| async { Ok::<_, ErrorResponse>("still-pending".to_string()) })
    .await
    .unwrap_err();
    assert!(err.is_timeout());
    assert!(err.attempts() > 3);
    assert!(err.elapsed() <= Duration::from_secs(20) && err.elapsed() >= Duration::from_secs(19));
    assert_eq!(err.last(), Some("\"still-pending\""));
    let message = err.to_string();
    assert!(message.contains("NeverReady") && message.contains("still-pending"), "{message}");
    // The error is a plain std error that crosses threads.
    let boxed: Box<dyn std::error::Error + Send + Sync + 'static> = Box::new(err);
    assert!(boxed.to_string().contains("timed out"));
}

#[tokio::test]
async fn a_failure_acceptor_and_an_unexpected_error_say_which_and_what() {
    let err = Waiter::new(Delays::default())
        .named("W")
        .failure_when(|s: &&str| *s == "FAILED")
        .clock(VirtualClock::new())
        .wait(|| async { Ok::<_, ErrorResponse>("FAILED") })
        .await
        .unwrap_err();
    let WaitError::FailureState { acceptor, attempts, ref last, .. } = err else { panic!("{err}") };
    assert_eq!((acceptor, attempts, last.as_deref()), (0, 1, Some("\"FAILED\"")));

    let err = Waiter::new(Delays::default())
        .success_when(|_: &()| true)
        .retry_on_error_code("NotFound")
        .clock(VirtualClock::new())
        .wait(|| async { Err::<(), _>(ErrorResponse::new("AccessDenied", 403)) })
        .await
        .unwrap_err();
    let WaitError::UnexpectedError { code, status, attempts, .. } = &err else { panic!("{err}") };
    assert_eq!((code.as_deref(), *status, *attempts), (Some("AccessDenied"), Some(403), 1));
    assert!(err.to_string().contains("AccessDenied"));
}

/// On tokio's paused clock: the sleeps below are virtual (time jumps to the next timer when
/// the runtime is idle), so how many polls happen before the drop does not depend on load.
#[tokio::test(start_paused = true)]
async fn dropping_the_future_stops_polling() {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let waiter = Waiter::new(Delays::fixed(Duration::from_millis(10), 1000))
        .success_when(|_: &()| false)
        .clock(TokioClock);
    let handle = tokio::spawn(async move {
        waiter
            .wait(|| {
                counter.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, ErrorResponse>(()) }
            })
            .await
    });
    // Paused time (start_paused): virtual, it advances only when the runtime is idle.
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.abort(); // drops the wait future
    let _ = handle.await;
    let at_drop = calls.load(Ordering::SeqCst);
    assert!(at_drop >= 10, "it was polling every 10 ms for 100 ms: {at_drop}");
    tokio::time::sleep(Duration::from_millis(100)).await; // virtual, as above
    assert_eq!(calls.load(Ordering::SeqCst), at_drop, "no call after the future was dropped");
}

#[tokio::test]
async fn the_wait_future_is_send_and_the_waiter_is_reusable() {
    let waiter = Waiter::new(Delays::fixed(Duration::from_millis(1), 3)).success_when(|v: &u8| *v == 1);
    let w = waiter.clone();
    let settled = tokio::spawn(async move { w.wait(|| async { Ok::<_, ErrorResponse>(1u8) }).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settled.attempts, 1);
    assert_eq!(waiter.wait(|| async { Ok::<_, ErrorResponse>(1u8) }).await.unwrap().attempts, 1);
}

#[tokio::test]
async fn a_path_acceptor_without_a_json_view_is_unsupported_not_guessed() {
    let err = Waiter::new(Delays::default())
        .named("NoView")
        .acceptor(Acceptor::path(State::Success, "Status", Comparator::Equals(json!("OK"))).unwrap())
        .clock(VirtualClock::new())
        .wait(|| async { Ok::<_, ErrorResponse>(42) })
        .await
        .unwrap_err();
    let WaitError::Unsupported { acceptor, message, attempts, .. } = &err else { panic!("{err}") };
    assert_eq!((*acceptor, *attempts), (0, 1));
    assert!(message.contains("CaptureBody"), "{message}");
}

#[tokio::test]
async fn a_jmespath_runtime_error_is_reported_with_its_acceptor() {
    let err = Waiter::new(Delays::default())
        .json_view(|v: &Value| Some(v.clone()))
        .acceptor(Acceptor::path(State::Success, "length(Count)", Comparator::Equals(json!(1))).unwrap())
        .clock(VirtualClock::new())
        .wait(|| async { Ok::<_, ErrorResponse>(json!({"Count": 5})) })
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Unsupported { acceptor: 0, .. }), "{err}");
    assert!(err.to_string().contains(r#"last seen: {"Count":5}"#), "{err}");
}

#[tokio::test]
async fn an_input_output_path_without_an_input_is_unsupported_not_evaluated_over_null() {
    // Over a null input, `input.Name == output.Name` would be true for an output without a Name.
    let err = Waiter::new(Delays::default())
        .json_view(|v: &Value| Some(v.clone()))
        .acceptor(
            Acceptor::input_output(
                State::Success,
                "input.Name == output.Name",
                Comparator::BooleanEquals(true),
            )
            .unwrap(),
        )
        .clock(VirtualClock::new())
        .wait(|| async { Ok::<_, ErrorResponse>(json!({})) })
        .await
        .unwrap_err();
    let WaitError::Unsupported { acceptor, message, .. } = &err else { panic!("{err}") };
    assert_eq!(*acceptor, 0);
    assert!(message.contains("needs the input") && message.contains(".input("), "{message}");
}

#[tokio::test]
async fn success_on_an_error_code_settles_without_output() {
    let settled = Waiter::new(Delays::default())
        .success_on_error_code("ParameterNotFound")
        .clock(VirtualClock::new())
        .wait(|| async { Err::<u8, _>(ErrorResponse::new("ParameterNotFound", 400)) })
        .await
        .unwrap();
    assert_eq!((settled.output, settled.acceptor), (None, 0));
}

#[tokio::test]
async fn every_attempt_emits_a_tracing_debug_event() {
    let logs = settle_emulator::LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber(tracing::Level::DEBUG));
    let mut n = 0;
    Waiter::new(Delays::fixed(Duration::from_secs(2), 5))
        .named("Traced")
        .success_when(|n: &u32| *n == 2)
        .clock(VirtualClock::new())
        .wait(|| {
            n += 1;
            let r = Ok::<_, ErrorResponse>(n);
            async move { r }
        })
        .await
        .unwrap();
    let logs = logs.text();
    let lines: Vec<_> = logs.lines().filter(|l| l.contains("waiter attempt")).collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(lines[0].contains("attempt=1") && lines[0].contains("next_delay_ms=Some(2000)"), "{logs}");
    assert!(lines[0].contains("state=retry") && lines[0].contains("acceptor=None"), "{logs}");
    assert!(lines[1].contains("attempt=2") && lines[1].contains("elapsed_ms=2000"), "{logs}");
    assert!(lines[1].contains("state=success") && lines[1].contains("acceptor=Some(0)"), "{logs}");
    assert!(lines[1].contains("waiter=Traced"), "{logs}");
}

#[tokio::test]
async fn a_call_that_hangs_is_cut_off_at_the_max_wait_in_virtual_time() {
    let clock = VirtualClock::new();
    let reports: Arc<Mutex<Vec<AttemptReport>>> = Arc::default();
    let sink = reports.clone();
    let mut calls = 0;
    let waiter = Waiter::new(
        Delays::smithy(Duration::from_secs(2), Duration::from_secs(8)).max_wait(Duration::from_secs(30)),
    )
    .named("Hangs")
    .retry_on_error_code("NotYet")
    .clock(clock.clone())
    .seed(1)
    .on_attempt(move |r| sink.lock().unwrap().push(r.clone()));
    let wait = waiter.wait(|| {
        calls += 1;
        let (clock, first) = (clock.clone(), calls == 1);
        async move {
            if first {
                return Err::<(), _>(ErrorResponse::new("NotYet", 404));
            }
            clock.advance(Duration::from_secs(3600)); // the call takes an hour and never answers
            std::future::pending().await
        }
    });
    let err = tokio::time::timeout(Duration::from_secs(10), wait).await.expect("the wait hung").unwrap_err();
    let WaitError::Timeout { attempts, elapsed, ref last, .. } = err else { panic!("{err}") };
    assert_eq!(attempts, 2);
    assert_eq!(elapsed, Duration::from_secs(3602), "the virtual hour passed inside the call");
    let last = last.as_deref().unwrap();
    assert!(last.contains("NotYet") && last.contains("attempt 2 got no response"), "{last}");
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!((reports[1].observed.as_str(), reports[1].next_delay), ("no response", None));
}

/// The same through `TokioClock`, on tokio's paused clock: the timer path the real clock takes,
/// with no wall-clock window (paused time jumps to the next timer when the runtime is idle).
#[tokio::test(start_paused = true)]
async fn a_hanging_call_ends_the_wait_at_its_max_wait_on_the_tokio_clock() {
    let started = tokio::time::Instant::now();
    let err = Waiter::new(
        Delays::smithy(Duration::from_millis(10), Duration::from_millis(20))
            .max_wait(Duration::from_millis(200)),
    )
    .success_when(|_: &()| true)
    .clock(TokioClock)
    .wait(|| async {
        // A call that hangs, in paused (virtual) time.
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok::<_, ErrorResponse>(())
    })
    .await
    .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.attempts(), 1);
    assert!(err.last().unwrap().contains("attempt 1 got no response"), "{err}");
    // Paused time is exact up to tokio's 1 ms timer resolution (the clock's origin is not on a
    // millisecond boundary): deterministic, not a wall-clock window.
    let near_200ms = |d: Duration| d.abs_diff(Duration::from_millis(200)) <= Duration::from_millis(1);
    assert!(
        near_200ms(err.elapsed()),
        "cut off at the max wait, not after the 30 s call: {:?}",
        err.elapsed()
    );
    assert!(near_200ms(started.elapsed()), "{:?}", started.elapsed());
}

/// Reads that flap (new, old, new, new, new) settle only on the third new one in a row.
#[tokio::test]
async fn successes_in_a_row_are_not_fooled_by_one_lucky_read() {
    let answers = [true, false, true, true, true, true];
    let mut calls = 0;
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let sink = reasons.clone();
    let settled = Waiter::new(Delays::fixed(Duration::from_secs(1), 10))
        .success_when(|visible: &bool| *visible)
        .successes_in_a_row(3)
        .on_attempt(move |report| sink.lock().unwrap().push((report.state, report.reason.clone())))
        .clock(VirtualClock::new())
        .wait(|| {
            let answer = answers[calls];
            calls += 1;
            async move { Ok::<_, ErrorResponse>(answer) }
        })
        .await
        .unwrap();
    assert_eq!(settled.attempts, 5, "1 lucky read, 1 old, then 3 in a row");
    let reasons = reasons.lock().unwrap().clone();
    assert!(reasons[0].1.contains("1 of 3 in a row"), "{reasons:?}");
    assert!(reasons[3].1.contains("2 of 3 in a row"), "{reasons:?}");
    assert_eq!(reasons[4].0, aws_settle::wait::State::Success);
    // One in a row is the default: the first success decides.
    let first = Waiter::new(Delays::fixed(Duration::from_secs(1), 10))
        .success_when(|visible: &bool| *visible)
        .clock(VirtualClock::new())
        .wait(|| async { Ok::<_, ErrorResponse>(true) })
        .await
        .unwrap();
    assert_eq!(first.attempts, 1);
}
