//! Deadlines and checkpoints of a chain, in virtual or paused time (no wall-clock window).

use std::future::{Future, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use super::*;
use crate::wait::{Clock, Delays, ErrorResponse, VirtualClock, Waiter};

const CALLBACK: Duration = Duration::from_secs(7);

/// A create call and a status read: the status is CREATING until `ready` is set.
#[derive(Clone, Default)]
struct Service {
    creates: Arc<AtomicU32>,
    polls: Arc<AtomicU32>,
    ready: Arc<AtomicBool>,
}

impl Service {
    fn create(&self, name: String) -> impl Future<Output = Result<String, ErrorResponse>> + use<> {
        self.creates.fetch_add(1, Ordering::SeqCst);
        ready(Ok(format!("arn:{name}")))
    }

    fn status(&self) -> impl Future<Output = Result<String, ErrorResponse>> + use<> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        ready(Ok(if self.ready.load(Ordering::SeqCst) { "ACTIVE" } else { "CREATING" }.to_string()))
    }

    fn creates(&self) -> u32 {
        self.creates.load(Ordering::SeqCst)
    }
}

/// Polls every 1–2 s for up to 60 s.
fn active(clock: &VirtualClock) -> Waiter<String> {
    Waiter::new(
        Delays::smithy(Duration::from_secs(1), Duration::from_secs(2)).max_wait(Duration::from_secs(60)),
    )
    .success_when(|s: &String| s == "ACTIVE")
    .seed(3)
    .clock(clock.clone())
}

/// Create `orders`, record its ARN, stabilize to ACTIVE; saved through `checkpoint`, bounded by `deadline`.
async fn handler(
    service: &Service,
    clock: &VirtualClock,
    memo: &mut Memo,
    checkpoint: &Checkpoint,
    deadline: &Deadline,
) -> ProgressEvent<String> {
    Chain::new(memo)
        .checkpoint(checkpoint)
        .deadline(deadline)
        .initiate("create", "orders".to_string())
        .translate(|name| name.clone())
        .call(|name| service.create(name))
        .record(|arn| Some(arn.clone()))
        .clock(clock.clone())
        .stabilize(active(clock), |_| service.status())
        .done(|_, arn| ProgressEvent::success(arn.unwrap_or_default()))
        .await
}

#[tokio::test]
async fn a_wait_longer_than_the_deadline_saves_the_memo_and_calls_back_then_resumes_to_success() {
    let service = Service::default();
    let clock = VirtualClock::new();
    let store: Arc<dyn MemoStore> = Arc::new(InMemoryStore::new());

    // First invocation: 20 s left, stop 3 s before; the resource stays CREATING.
    let (checkpoint, mut memo) = Checkpoint::open(store.clone(), "req-1").await.unwrap();
    let deadline = Deadline::after_on(clock.clone(), Duration::from_secs(20))
        .with_margin(Duration::from_secs(3))
        .with_callback(CALLBACK);
    let first = handler(&service, &clock, &mut memo, &checkpoint, &deadline).await;
    assert_eq!((first.status, first.callback_delay_seconds), (OperationStatus::InProgress, 7), "{first:?}");
    let message = first.message.clone().unwrap_or_default();
    assert!(message.contains("chain step create: stopped stabilization"), "{message}");
    // No poll delay (at most 2 s) ends past the deadline minus the margin, nor is one left unused.
    let stopped = clock.now();
    assert!(stopped > Duration::from_secs(15) && stopped <= Duration::from_secs(17), "{stopped:?}");
    assert!(service.polls.load(Ordering::SeqCst) >= 8, "it polled until then");
    assert_eq!(service.creates(), 1);
    // What the store holds is what the event carries: called, not stabilized.
    let stored = store.load("req-1").await.unwrap().expect("saved");
    assert_eq!(stored.memo, first.memo);
    assert!(stored.memo.is_called("create") && !stored.memo.is_stabilized("create"));
    let waited = stored.memo.call("create").unwrap().waited_ms;
    assert!((15_000..=17_000).contains(&waited), "the wait so far is kept: {waited} ms");

    // Second invocation, from the store only: no second create, ACTIVE now, success.
    service.ready.store(true, Ordering::SeqCst);
    let (checkpoint, mut memo) = Checkpoint::open(store.clone(), "req-1").await.unwrap();
    let deadline =
        Deadline::after_on(clock.clone(), Duration::from_secs(20)).with_margin(Duration::from_secs(3));
    let second = handler(&service, &clock, &mut memo, &checkpoint, &deadline).await;
    assert_eq!(second.status, OperationStatus::Success, "{second:?}");
    assert_eq!(second.model.as_deref(), Some("arn:orders"));
    assert_eq!(service.creates(), 1, "the recorded create is not made again");
    assert!(store.load("req-1").await.unwrap().unwrap().memo.is_stabilized("create"));
}

#[tokio::test]
async fn no_usable_time_left_calls_back_without_making_the_call() {
    let service = Service::default();
    let clock = VirtualClock::new();
    let store: Arc<dyn MemoStore> = Arc::new(InMemoryStore::new());
    let (checkpoint, mut memo) = Checkpoint::open(store.clone(), "req-2").await.unwrap();
    let deadline =
        Deadline::after_on(clock.clone(), Duration::from_secs(2)).with_margin(Duration::from_secs(3));
    assert!(deadline.is_up());
    let event = handler(&service, &clock, &mut memo, &checkpoint, &deadline).await;
    assert_eq!((event.status, event.callback_delay_seconds), (OperationStatus::InProgress, 5));
    assert!(event.message.unwrap_or_default().contains("stopped before the call"));
    assert_eq!(service.creates(), 0);
    assert_eq!(clock.now(), Duration::ZERO);
}

#[tokio::test]
async fn a_retry_that_would_sleep_past_the_deadline_calls_back_instead() {
    let clock = VirtualClock::new();
    let calls = AtomicU32::new(0);
    let deadline =
        Deadline::after_on(clock.clone(), Duration::from_secs(4)).with_margin(Duration::from_secs(1));
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .deadline(&deadline)
        .initiate("put", "orders".to_string())
        .translate(|name| name.clone())
        .call(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            ready(Err::<String, _>(ErrorResponse::new("ThrottlingException", 400)))
        })
        .delay(Delays::fixed(Duration::from_secs(2), 10).max_wait(Duration::from_secs(60)))
        .clock(clock.clone())
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!((event.status, event.callback_delay_seconds), (OperationStatus::InProgress, 5), "{event:?}");
    let message = event.message.clone().unwrap_or_default();
    assert!(message.contains("instead of retrying the call after ThrottlingException"), "{message}");
    // 0 s: call, sleep 2 s; 2 s: call, 1 s usable < 2 s: stop.
    assert_eq!((calls.load(Ordering::SeqCst), clock.sleeps()), (2, vec![Duration::from_secs(2)]));
    let record = event.memo.call("put").expect("recorded");
    assert_eq!((record.called, record.attempts), (false, 2));
}

/// On tokio's paused clock (the default clock of a step and a deadline), a call that never
/// answers is abandoned at the deadline minus the margin.
#[tokio::test(start_paused = true)]
async fn a_call_still_running_at_the_deadline_is_abandoned_with_a_callback() {
    let start = tokio::time::Instant::now();
    let deadline = Deadline::after(Duration::from_secs(30)).with_margin(Duration::from_secs(5));
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .deadline(&deadline)
        .initiate("hang", "orders".to_string())
        .translate(|name| name.clone())
        .call(|_| std::future::pending::<Result<String, ErrorResponse>>())
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.status, OperationStatus::InProgress, "{event:?}");
    assert!(event.message.unwrap_or_default().contains("stopped the call"));
    assert_eq!(start.elapsed(), Duration::from_secs(25));
    assert!(!event.memo.is_called("hang"));
}

#[tokio::test]
async fn a_deadline_from_lambdas_epoch_milliseconds_and_callback_delays_round_up() {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let deadline = Deadline::at_epoch_millis(now_ms + 900_000);
    assert!(
        deadline.remaining() > Duration::from_secs(890) && deadline.remaining() <= Duration::from_secs(900)
    );
    assert!(Deadline::at_epoch_millis(now_ms - 1_000).is_up(), "a past deadline leaves no time");
    assert!(Deadline::at_epoch_millis(0).is_up());

    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("c", 1u8)
        .translate(|m| *m)
        .call(|_| ready(Ok::<_, ErrorResponse>(())))
        .callback_in(Duration::from_millis(1_500))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.callback_delay_seconds, 2, "1.5 s is asked for as 2 s");
}

#[tokio::test]
async fn the_stabilization_max_wait_spans_invocations_that_stop_at_their_deadline() {
    let service = Service::default();
    let clock = VirtualClock::new();
    let store: Arc<dyn MemoStore> = Arc::new(InMemoryStore::new());
    let mut events = Vec::new();
    // Each invocation has 25 s (20 usable); the waiter's 60 s run out in the fourth.
    for _ in 0..4 {
        let (checkpoint, mut memo) = Checkpoint::open(store.clone(), "req-4").await.unwrap();
        let deadline = Deadline::after_on(clock.clone(), Duration::from_secs(25));
        let event = handler(&service, &clock, &mut memo, &checkpoint, &deadline).await;
        events.push((event.status, event.error_code));
        if event.status != OperationStatus::InProgress {
            break;
        }
    }
    let in_progress = (OperationStatus::InProgress, None);
    let not_stabilized = (OperationStatus::Failed, Some(HandlerErrorCode::NotStabilized));
    assert_eq!(events, [in_progress, in_progress, in_progress, not_stabilized]);
    assert_eq!(service.creates(), 1);
}

#[tokio::test]
async fn a_step_whose_memo_another_invocation_saved_fails_with_resource_conflict() {
    let service = Service::default();
    let clock = VirtualClock::new();
    let store: Arc<dyn MemoStore> = Arc::new(InMemoryStore::new());
    let (late, mut late_memo) = Checkpoint::open(store.clone(), "req-3").await.unwrap();
    let (early, mut early_memo) = Checkpoint::open(store.clone(), "req-3").await.unwrap();
    early_memo.set("owner", "early");
    early.save(&early_memo).await.unwrap();
    let deadline = Deadline::after_on(clock.clone(), Duration::from_secs(600));
    let event = handler(&service, &clock, &mut late_memo, &late, &deadline).await;
    assert_eq!(event.error_code, Some(HandlerErrorCode::ResourceConflict), "{event:?}");
    assert!(event.message.unwrap_or_default().contains("another invocation saved the memo first"));
    assert_eq!(service.creates(), 0, "the request could not be saved, so no call was made");
    assert_eq!(store.load("req-3").await.unwrap().unwrap().memo.get("owner"), Some(&"early".into()));
}
