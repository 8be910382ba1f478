//! [`Telemetry`]: where instrumented clients send their events. Each event goes to `tracing`, to
//! the `metrics` facade, into the running report, and to every subscriber whose pattern matches.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::event::Event;
use super::pattern::{Pattern, PatternError};
use super::report::{Aggregate, Report};
use super::{meter, trace};

type Callback = Arc<dyn Fn(&Event) + Send + Sync>;

#[derive(Clone)]
struct Subscriber {
    id: u64,
    pattern: Pattern,
    callback: Callback,
}

#[derive(Default)]
struct Inner {
    next_subscription: AtomicU64,
    /// Copied on write, so emitting never holds the lock while a callback runs.
    subscribers: RwLock<Arc<Vec<Subscriber>>>,
    aggregate: Mutex<Aggregate>,
}

/// The sink of an instrumented client's events. Cheap to clone (an `Arc` inside); clones share
/// subscribers and the report. One telemetry may serve many clients of many services.
#[derive(Clone, Default)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

/// A subscription made with [`Telemetry::on`]; give it to [`Telemetry::off`] to end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionId(u64);

impl Telemetry {
    /// An empty telemetry: no subscribers, an empty report.
    pub fn new() -> Telemetry {
        Telemetry::default()
    }

    /// Calls `callback` with every event whose `service:Operation:kind` matches `pattern`
    /// (see [`Pattern`](super::Pattern)), e.g. `"ssm:Put*:retry"`, `"*:*:throttled"`, `"dynamodb"`.
    ///
    /// The callback runs synchronously inside the SDK's interceptor hooks and retry path, on the
    /// task making the call: keep it short and never block or panic in it.
    pub fn on(
        &self,
        pattern: &str,
        callback: impl Fn(&Event) + Send + Sync + 'static,
    ) -> Result<SubscriptionId, PatternError> {
        let pattern = Pattern::parse(pattern)?;
        let id = self.inner.next_subscription.fetch_add(1, Ordering::Relaxed);
        let mut subscribers = self.inner.subscribers.write().unwrap_or_else(|e| e.into_inner());
        let mut next: Vec<Subscriber> = subscribers.iter().cloned().collect();
        next.push(Subscriber { id, pattern, callback: Arc::new(callback) });
        *subscribers = Arc::new(next);
        Ok(SubscriptionId(id))
    }

    /// Ends a subscription; whether it was active.
    pub fn off(&self, subscription: SubscriptionId) -> bool {
        let mut subscribers = self.inner.subscribers.write().unwrap_or_else(|e| e.into_inner());
        let next: Vec<Subscriber> = subscribers.iter().filter(|s| s.id != subscription.0).cloned().collect();
        let removed = next.len() < subscribers.len();
        *subscribers = Arc::new(next);
        removed
    }

    /// The report so far: per `service:Operation` (and apart, its read-backs), calls, attempts,
    /// retries, throttles, backoff, time lost and call durations; its `Display` answers "why is
    /// my job slow?". Its cost grows with the rows, not the calls (no per-call data is kept or
    /// sorted): about 80 µs per row in a debug build (`benches/overhead.rs`).
    pub fn report(&self) -> Report {
        self.inner.aggregate.lock().unwrap_or_else(|e| e.into_inner()).report()
    }

    /// Starts the report afresh (subscribers stay).
    pub fn reset_report(&self) {
        *self.inner.aggregate.lock().unwrap_or_else(|e| e.into_inner()) = Aggregate::default();
    }

    /// Appends every event to the file at `path`, one [`Event::to_json_line`] a line (written as
    /// each event happens), for `settle report` to read. The file is created if absent; a failed
    /// write is dropped, never an error of the call. [`Telemetry::off`] stops it.
    pub fn log_to_file(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<SubscriptionId> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let out = Mutex::new(std::io::LineWriter::new(file));
        let subscription = self.on("*", move |event| {
            use std::io::Write;
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(out, "{}", event.to_json_line());
        });
        subscription.map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// Publishes `event` as an instrumented client does: to `tracing` (target
    /// `aws_settle::observe`), to the `metrics` facade, into the report, and to every matching
    /// subscriber.
    pub fn emit(&self, event: Event) {
        trace::record(&event);
        meter::record(&event);
        self.inner.aggregate.lock().unwrap_or_else(|e| e.into_inner()).add(&event);
        let subscribers = self.inner.subscribers.read().unwrap_or_else(|e| e.into_inner()).clone();
        let kind = event.kind.name();
        for subscriber in subscribers.iter() {
            if subscriber.pattern.matches(&event.service, &event.operation, kind) {
                (subscriber.callback)(&event);
            }
        }
    }
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subscribers = self.inner.subscribers.read().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("Telemetry").field("subscribers", &subscribers).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::*;
    use crate::observe::EventKind;
    use crate::observe::meter::*;

    fn ev(service: &str, operation: &str, kind: EventKind) -> Event {
        Event {
            call_id: 1,
            service: service.into(),
            operation: operation.into(),
            kind,
            attempt: 1,
            at: SystemTime::now(),
            duration: Some(Duration::from_millis(250)),
            status: None,
            error_code: None,
            read_back: false,
        }
    }

    #[test]
    fn subscribers_get_matching_events_until_off() {
        let telemetry = Telemetry::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let id = telemetry.on("ssm:Put*:retry", move |e| s.lock().unwrap().push(e.key())).unwrap();
        let all = Arc::new(AtomicU64::new(0));
        let a = all.clone();
        telemetry
            .clone()
            .on("*", move |_| {
                a.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
        let retry = EventKind::Retry { backoff: Duration::from_millis(5) };
        telemetry.emit(ev("ssm", "PutParameter", retry));
        telemetry.emit(ev("ssm", "GetParameter", retry));
        telemetry.emit(ev("ssm", "PutParameter", EventKind::Throttled));
        telemetry.emit(ev("dynamodb", "PutItem", retry));
        assert_eq!(*seen.lock().unwrap(), vec!["ssm:PutParameter:retry".to_string()]);
        assert!(telemetry.off(id));
        assert!(!telemetry.off(id));
        telemetry.emit(ev("ssm", "PutParameter", retry));
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert_eq!(all.load(Ordering::Relaxed), 5);
        let err = telemetry.on("ssm:*:nope", |_| {}).unwrap_err();
        assert_eq!(err.position, 6);
        assert_eq!(telemetry.report().row("ssm", "PutParameter").unwrap().retries, 2);
        telemetry.reset_report();
        assert!(telemetry.report().rows.is_empty());
    }

    #[test]
    fn a_callback_may_subscribe() {
        let telemetry = Telemetry::new();
        let t = telemetry.clone();
        telemetry
            .on("*:*:call_start", move |_| {
                t.on("*", |_| {}).unwrap();
            })
            .unwrap();
        telemetry.emit(ev("s3", "GetObject", EventKind::CallStart));
        assert!(format!("{telemetry:?}").contains("subscribers: 2"));
    }

    #[test]
    fn metrics_are_labelled_by_service_and_operation() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let telemetry = Telemetry::new();
        metrics::with_local_recorder(&recorder, || {
            telemetry.emit(ev("ssm", "PutParameter", EventKind::CallStart));
            for _ in 0..3 {
                telemetry.emit(ev("ssm", "PutParameter", EventKind::AttemptStart));
            }
            telemetry.emit(ev("ssm", "PutParameter", EventKind::Throttled));
            telemetry.emit(ev("ssm", "PutParameter", EventKind::Throttled));
            let backoff = Duration::from_millis(1500);
            telemetry.emit(ev("ssm", "PutParameter", EventKind::Retry { backoff }));
            telemetry.emit(ev("ssm", "PutParameter", EventKind::Retry { backoff }));
            telemetry.emit(ev("ssm", "PutParameter", EventKind::CallEnd { ok: true }));
            telemetry.emit(ev("dynamodb", "GetItem", EventKind::AttemptStart));
        });
        let mut found = Vec::new();
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
            let value = match value {
                DebugValue::Counter(n) => format!("{n}"),
                DebugValue::Histogram(values) => {
                    format!("{:?}", values.iter().map(|v| v.into_inner()).collect::<Vec<f64>>())
                }
                DebugValue::Gauge(g) => format!("gauge {g}"),
            };
            found.push(format!("{} {} {value}", key.name(), labels.join(",")));
        }
        found.sort();
        assert_eq!(
            found,
            vec![
                format!("{ATTEMPTS_TOTAL} service=dynamodb,operation=GetItem,origin=call 1"),
                format!("{ATTEMPTS_TOTAL} service=ssm,operation=PutParameter,origin=call 3"),
                format!("{BACKOFF_SECONDS} service=ssm,operation=PutParameter,origin=call [1.5, 1.5]"),
                format!(
                    "{CALL_DURATION_SECONDS} service=ssm,operation=PutParameter,origin=call,outcome=ok [0.25]"
                ),
                format!("{RETRIES_TOTAL} service=ssm,operation=PutParameter,origin=call 2"),
                format!("{THROTTLES_TOTAL} service=ssm,operation=PutParameter,origin=call 2"),
            ]
        );
    }

    #[test]
    fn the_event_log_gets_one_json_line_per_event_until_off() {
        let path = std::env::temp_dir().join(format!("settle-events-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let telemetry = Telemetry::new();
        let id = telemetry.log_to_file(&path).unwrap();
        telemetry.emit(ev("ssm", "GetParameter", EventKind::AttemptEnd { ok: false }));
        telemetry.emit(ev("ssm", "GetParameter", EventKind::CallEnd { ok: true }));
        assert!(telemetry.off(id));
        telemetry.emit(ev("ssm", "GetParameter", EventKind::CallStart));
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            (&lines[0]["event"], &lines[0]["ok"], &lines[0]["duration_ms"]),
            (&"attempt_end".into(), &false.into(), &250.0.into())
        );
        assert_eq!(lines[1]["event"], "call_end");
        assert!(
            telemetry.log_to_file("/nonexistent/dir/events.jsonl").is_err(),
            "an unwritable path is an error"
        );
    }
}
