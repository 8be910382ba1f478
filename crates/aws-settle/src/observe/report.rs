//! "Why is my job slow?": per `service:Operation` totals folded from events, and a headline naming
//! the biggest single cause of lost time.
//!
//! Time lost is backoff sleep plus the time spent in attempts that failed on a retryable error.
//! Call time is the sum of call durations: concurrent calls each count their own, so it can exceed
//! the job's wall time, and shares are of the time calls spent, not of the job's duration.
//!
//! Memory is bounded per row, whatever the number of calls: counters, and the call durations in a
//! histogram ([`hdrhistogram`], 2 significant digits: p50 and p99 within 1%). Nothing is kept per
//! call, so a call dropped before it ended leaves nothing behind.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::event::{Event, EventKind};
use crate::errors::{is_retryable, is_throttling};

/// Totals for one `service:Operation`: the program's own calls, or (`read_back`) the read-backs
/// made to check them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The service (`ssm`).
    pub service: String,
    /// The operation (`PutParameter`).
    pub operation: String,
    /// The row counts [read-backs](super::read_back) (post-condition checks, chain
    /// stabilization polls), not the program's own calls.
    pub read_back: bool,
    /// Calls started.
    pub calls: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Retries the retry strategy decided on.
    pub retries: u64,
    /// Attempts answered with a throttling error.
    pub throttles: u64,
    /// Calls that ended in an error.
    pub failed_calls: u64,
    /// Calls that ended after a retryable error with no further attempt (attempts or quota exhausted).
    pub give_ups: u64,
    /// All backoff sleep before retries.
    pub backoff: Duration,
    /// The part of `backoff` that followed a throttled attempt.
    pub throttle_backoff: Duration,
    /// Time spent in attempts that failed on a retryable error (throttling, 5xx, timeout,
    /// transport); an answer such as a not-found is not time lost.
    pub failed_attempt_time: Duration,
    /// The sum of the durations of the calls that ended (concurrent calls each count their own).
    pub call_time: Duration,
    /// Median call duration (within 1%).
    pub p50: Option<Duration>,
    /// 99th percentile call duration (within 1%).
    pub p99: Option<Duration>,
}

impl Row {
    /// Backoff sleep plus time in attempts that failed on a retryable error.
    pub fn time_lost(&self) -> Duration {
        self.backoff + self.failed_attempt_time
    }

    /// `service:Operation`, with ` (read-back)` for a read-back row.
    pub fn key(&self) -> String {
        let origin = if self.read_back { " (read-back)" } else { "" };
        format!("{}:{}{origin}", self.service, self.operation)
    }
}

/// The report: one [`Row`] per `service:Operation`, the most time lost first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The rows, sorted by time lost (then call time) descending.
    pub rows: Vec<Row>,
}

impl Report {
    /// Folds `events` into a report.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Report {
        let mut aggregate = Aggregate::default();
        events.into_iter().for_each(|e| aggregate.add(e));
        aggregate.report()
    }

    /// The row of the program's own `service` / `operation` calls.
    pub fn row(&self, service: &str, operation: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.service == service && r.operation == operation && !r.read_back)
    }

    /// The row of the `service` / `operation` calls made as [read-backs](super::read_back).
    pub fn read_back_row(&self, service: &str, operation: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.service == service && r.operation == operation && r.read_back)
    }

    /// Total call time over all rows (a sum over concurrent calls, not wall time).
    pub fn call_time(&self) -> Duration {
        self.rows.iter().map(|r| r.call_time).sum()
    }

    /// Total time lost over all rows.
    pub fn time_lost(&self) -> Duration {
        self.rows.iter().map(Row::time_lost).sum()
    }

    /// One line naming the biggest single cause of lost time, e.g.
    /// `62% of 41.2 s call time was backoff after throttling on dynamodb:PutItem (38 throttles, 12 retries)`.
    pub fn headline(&self) -> String {
        let total = self.call_time();
        let calls: u64 = self.rows.iter().map(|r| r.calls).sum();
        if calls == 0 {
            return "no calls observed".to_string();
        }
        let causes = self.rows.iter().flat_map(|r| {
            [
                (r, r.throttle_backoff, "backoff after throttling"),
                (r, r.backoff.saturating_sub(r.throttle_backoff), "backoff after errors"),
                (r, r.failed_attempt_time, "failed attempts"),
            ]
        });
        let Some((row, lost, cause)) =
            causes.max_by_key(|(_, lost, _)| *lost).filter(|(_, l, _)| !l.is_zero())
        else {
            return format!("no time lost to retries: {calls} call(s), {} call time", secs(total));
        };
        format!(
            "{}% of {} call time was {cause} on {} ({} throttle(s), {} retries, {} give-up(s))",
            percent(lost, total),
            secs(total),
            row.key(),
            row.throttles,
            row.retries,
            row.give_ups
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        if self.rows.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "time lost to backoff and failed attempts: {} of {} call time ({}%)",
            secs(self.time_lost()),
            secs(self.call_time()),
            percent(self.time_lost(), self.call_time())
        )?;
        writeln!(
            f,
            "(call time sums every call's duration: concurrent calls each count their own, so it can exceed wall time; \
             rows marked (read-back) are checks made by post-conditions and chains)"
        )?;
        let width = self.rows.iter().map(|r| r.key().len()).max().unwrap_or(0).max(17);
        writeln!(
            f,
            "{:<width$} {:>6} {:>8} {:>7} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "service:operation",
            "calls",
            "attempts",
            "retries",
            "throttles",
            "failed",
            "backoff",
            "lost",
            "total",
            "p50",
            "p99"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<width$} {:>6} {:>8} {:>7} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
                r.key(),
                r.calls,
                r.attempts,
                r.retries,
                r.throttles,
                r.failed_calls,
                secs(r.backoff),
                secs(r.time_lost()),
                secs(r.call_time),
                r.p50.map(secs).unwrap_or_else(|| "-".into()),
                r.p99.map(secs).unwrap_or_else(|| "-".into()),
            )?;
        }
        Ok(())
    }
}

/// Running totals, fed one event at a time (the telemetry keeps one behind a lock): one row per
/// `service:Operation` and origin, with a histogram of call durations; nothing per call.
#[derive(Debug, Default)]
pub(crate) struct Aggregate {
    /// By service, then operation; `[own calls, read-backs]`.
    rows: HashMap<String, HashMap<String, [Option<Totals>; 2]>>,
}

#[derive(Debug, Clone)]
struct Totals {
    row: Row,
    /// Call durations in microseconds.
    durations: Histogram<u64>,
}

impl Totals {
    fn new(e: &Event) -> Totals {
        let row = Row {
            service: e.service.clone(),
            operation: e.operation.clone(),
            read_back: e.read_back,
            ..Row::default()
        };
        // Auto-resizing, 2 significant digits: a few KB per row for durations up to hours.
        let durations = Histogram::new(2).expect("2 significant digits is a valid precision");
        Totals { row, durations }
    }

    fn add(&mut self, e: &Event) {
        let row = &mut self.row;
        match e.kind {
            EventKind::CallStart => row.calls += 1,
            EventKind::AttemptStart => row.attempts += 1,
            EventKind::AttemptEnd { ok: false } if is_retryable(e.error_code.as_deref(), e.status) => {
                row.failed_attempt_time += e.duration.unwrap_or_default();
            }
            EventKind::AttemptEnd { .. } => {}
            EventKind::Throttled => row.throttles += 1,
            EventKind::Retry { backoff } => {
                row.retries += 1;
                row.backoff += backoff;
                // A retry event carries the status and code of the attempt it follows.
                if is_throttling(e.error_code.as_deref(), e.status) {
                    row.throttle_backoff += backoff;
                }
            }
            EventKind::GiveUp => row.give_ups += 1,
            EventKind::CallEnd { ok } => {
                if !ok {
                    row.failed_calls += 1;
                }
                let d = e.duration.unwrap_or_default();
                row.call_time += d;
                let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
                // Grows the histogram as needed; beyond its largest trackable value, clamps.
                if self.durations.record(micros).is_err() {
                    self.durations.saturating_record(micros);
                }
            }
        }
    }

    fn row(&self) -> Row {
        let quantile = |q: f64| {
            (!self.durations.is_empty()).then(|| Duration::from_micros(self.durations.value_at_quantile(q)))
        };
        Row { p50: quantile(0.5), p99: quantile(0.99), ..self.row.clone() }
    }
}

impl Aggregate {
    pub(crate) fn add(&mut self, e: &Event) {
        // Looked up by reference: only the first event of a row allocates its names.
        let operations = match self.rows.get_mut(e.service.as_str()) {
            Some(operations) => operations,
            None => self.rows.entry(e.service.clone()).or_default(),
        };
        let origins = match operations.get_mut(e.operation.as_str()) {
            Some(origins) => origins,
            None => operations.entry(e.operation.clone()).or_default(),
        };
        origins[usize::from(e.read_back)].get_or_insert_with(|| Totals::new(e)).add(e);
    }

    pub(crate) fn report(&self) -> Report {
        let mut rows: Vec<Row> =
            self.rows.values().flat_map(HashMap::values).flatten().flatten().map(Totals::row).collect();
        rows.sort_by(|a, b| {
            b.time_lost().cmp(&a.time_lost()).then(b.call_time.cmp(&a.call_time)).then(a.key().cmp(&b.key()))
        });
        Report { rows }
    }

    /// Heap bytes held for call durations, over all rows.
    #[cfg(test)]
    fn histogram_bytes(&self) -> usize {
        let rows = self.rows.values().flat_map(HashMap::values).flatten().flatten();
        rows.map(|t| t.durations.distinct_values() * std::mem::size_of::<u64>()).sum()
    }
}

fn percent(part: Duration, whole: Duration) -> u32 {
    if whole.is_zero() {
        return 0;
    }
    ((part.as_secs_f64() / whole.as_secs_f64()) * 100.0).round().min(100.0) as u32
}

/// `41.2 s`, `830 ms`.
fn secs(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn ev(call_id: u64, op: &str, kind: EventKind, ms: Option<u64>, code: Option<&str>) -> Event {
        let (service, operation) = op.split_once(':').unwrap();
        Event {
            call_id,
            service: service.into(),
            operation: operation.into(),
            kind,
            attempt: 1,
            at: SystemTime::now(),
            duration: ms.map(Duration::from_millis),
            status: code.map(|_| 400),
            error_code: code.map(String::from),
            read_back: false,
        }
    }

    /// Within the histogram's 1%.
    fn close(got: Option<Duration>, want: u64) -> bool {
        let want = Duration::from_millis(want).as_secs_f64();
        got.is_some_and(|g| (g.as_secs_f64() - want).abs() <= want / 100.0)
    }

    /// A call with `throttles` throttled attempts, each followed by `backoff_ms` of backoff.
    fn throttled_call(id: u64, op: &str, throttles: u64, backoff_ms: u64, ok: bool) -> Vec<Event> {
        let mut events = vec![ev(id, op, EventKind::CallStart, None, None)];
        for _ in 0..throttles {
            let code = Some("ThrottlingException");
            events.push(ev(id, op, EventKind::AttemptStart, None, None));
            events.push(ev(id, op, EventKind::AttemptEnd { ok: false }, Some(10), code));
            events.push(ev(id, op, EventKind::Throttled, Some(10), code));
            if ok {
                let backoff = Duration::from_millis(backoff_ms);
                events.push(ev(id, op, EventKind::Retry { backoff }, None, code));
            }
        }
        if ok {
            events.push(ev(id, op, EventKind::AttemptStart, None, None));
            events.push(ev(id, op, EventKind::AttemptEnd { ok: true }, Some(20), None));
        } else {
            events.push(ev(id, op, EventKind::GiveUp, None, Some("ThrottlingException")));
        }
        let total = throttles * (10 + if ok { backoff_ms } else { 0 }) + if ok { 20 } else { 0 };
        events.push(ev(id, op, EventKind::CallEnd { ok }, Some(total), None));
        events
    }

    #[test]
    fn rows_count_everything() {
        let mut events = throttled_call(1, "dynamodb:PutItem", 2, 500, true);
        events.extend(throttled_call(2, "dynamodb:PutItem", 0, 0, true));
        events.extend(throttled_call(3, "dynamodb:PutItem", 3, 0, false));
        events.extend(throttled_call(4, "ssm:GetParameter", 0, 0, true));
        let report = Report::from_events(&events);
        let row = report.row("dynamodb", "PutItem").unwrap();
        assert_eq!((row.calls, row.attempts, row.retries, row.throttles), (3, 7, 2, 5));
        assert_eq!((row.failed_calls, row.give_ups), (1, 1));
        assert_eq!(row.backoff, Duration::from_millis(1000));
        assert_eq!(row.throttle_backoff, Duration::from_millis(1000));
        assert_eq!(row.failed_attempt_time, Duration::from_millis(50));
        assert_eq!(row.time_lost(), Duration::from_millis(1050));
        assert_eq!(row.call_time, Duration::from_millis(1040 + 20 + 30));
        assert!(close(row.p50, 30) && close(row.p99, 1040), "{:?} {:?}", row.p50, row.p99);
        assert_eq!(report.rows[0].key(), "dynamodb:PutItem", "most time lost first");
        assert_eq!(report.rows[1].retries, 0);
    }

    #[test]
    fn headline_names_the_biggest_cause() {
        let mut events = Vec::new();
        for id in 0..4 {
            events.extend(throttled_call(id, "dynamodb:PutItem", 1, 1000, true));
        }
        events.extend(throttled_call(10, "ssm:PutParameter", 1, 150, true));
        let report = Report::from_events(&events);
        // dynamodb: 4 × 1030 ms, ssm: 180 ms; dynamodb's throttle backoff is 4000 of 4300 ms.
        assert_eq!(
            report.headline(),
            "93% of 4.3 s call time was backoff after throttling on dynamodb:PutItem \
             (4 throttle(s), 4 retries, 0 give-up(s))"
        );
        let text = report.to_string();
        assert!(text.lines().nth(4).unwrap().starts_with("dynamodb:PutItem"), "{text}");
        assert!(text.contains("ssm:PutParameter"), "{text}");
    }

    #[test]
    fn backoff_after_errors_is_not_throttling() {
        let id = 7;
        let op = "s3:GetObject";
        let events = vec![
            ev(id, op, EventKind::CallStart, None, None),
            ev(id, op, EventKind::AttemptStart, None, None),
            ev(id, op, EventKind::AttemptEnd { ok: false }, Some(5), Some("InternalError")),
            ev(id, op, EventKind::Retry { backoff: Duration::from_millis(300) }, None, Some("InternalError")),
            ev(id, op, EventKind::AttemptStart, None, None),
            ev(id, op, EventKind::AttemptEnd { ok: true }, Some(5), None),
            ev(id, op, EventKind::CallEnd { ok: true }, Some(310), None),
        ];
        let report = Report::from_events(&events);
        assert_eq!(report.rows[0].throttle_backoff, Duration::ZERO);
        assert!(
            report.headline().starts_with("97% of 310 ms call time was backoff after errors on s3:GetObject")
        );
    }

    #[test]
    fn quiet_runs() {
        assert_eq!(Report::default().headline(), "no calls observed");
        let report = Report::from_events(&throttled_call(1, "ssm:GetParameter", 0, 0, true));
        assert_eq!(report.headline(), "no time lost to retries: 1 call(s), 20 ms call time");
        let op = "ssm:GetParameter";
        let not_found = [
            ev(2, op, EventKind::CallStart, None, None),
            ev(2, op, EventKind::AttemptStart, None, None),
            ev(2, op, EventKind::AttemptEnd { ok: false }, Some(15), Some("ParameterNotFound")),
            ev(2, op, EventKind::CallEnd { ok: false }, Some(16), Some("ParameterNotFound")),
        ];
        let report = Report::from_events(&not_found);
        assert_eq!(
            (report.rows[0].failed_calls, report.time_lost()),
            (1, Duration::ZERO),
            "an answer is not lost"
        );
        let one = Report::from_events(&throttled_call(3, "ssm:GetParameter", 0, 0, true));
        assert!(close(one.rows[0].p50, 20) && close(one.rows[0].p99, 20), "{one:?}");
        let started_only = Report::from_events(&[ev(4, op, EventKind::CallStart, None, None)]);
        assert_eq!((started_only.rows[0].p50, started_only.rows[0].p99), (None, None));
    }

    /// 180,000 calls of 60,000 distinct durations, and 100,000 calls dropped after a throttled attempt
    /// (no `CallEnd`): the aggregate holds one row and a histogram of a few KB, not a duration
    /// per call nor an entry per dropped call.
    #[test]
    fn memory_is_bounded_whatever_the_number_of_calls() {
        let mut aggregate = Aggregate::default();
        let op = "dynamodb:GetItem";
        for id in 0..180_000u64 {
            aggregate.add(&ev(id, op, EventKind::CallStart, None, None));
            aggregate.add(&ev(id, op, EventKind::CallEnd { ok: true }, Some(1 + id % 60_000), None));
        }
        for id in 180_000..280_000u64 {
            aggregate.add(&ev(id, op, EventKind::CallStart, None, None));
            aggregate.add(&ev(
                id,
                op,
                EventKind::AttemptEnd { ok: false },
                Some(5),
                Some("ThrottlingException"),
            ));
        }
        let bytes = aggregate.histogram_bytes();
        assert!(bytes < 32 * 1024, "{bytes} bytes of histogram");
        let report = aggregate.report();
        assert_eq!(report.rows.len(), 1);
        let row = &report.rows[0];
        assert_eq!(
            (row.calls, row.call_time),
            (280_000, (0..180_000u64).map(|id| Duration::from_millis(1 + id % 60_000)).sum())
        );
        assert!(close(row.p50, 30_000) && close(row.p99, 59_400), "{:?} {:?}", row.p50, row.p99);
    }

    #[test]
    fn read_backs_have_rows_of_their_own() {
        let mut events = throttled_call(1, "ssm:GetParameter", 0, 0, true);
        let read_backs: Vec<Event> = throttled_call(2, "ssm:GetParameter", 1, 100, true)
            .into_iter()
            .chain(throttled_call(3, "ssm:GetParameter", 0, 0, true))
            .map(|e| Event { read_back: true, ..e })
            .collect();
        events.extend(read_backs);
        let report = Report::from_events(&events);
        assert_eq!(report.row("ssm", "GetParameter").unwrap().calls, 1);
        let checks = report.read_back_row("ssm", "GetParameter").unwrap();
        assert_eq!((checks.calls, checks.retries), (2, 1));
        assert_eq!(checks.key(), "ssm:GetParameter (read-back)");
        let text = report.to_string();
        assert!(text.contains("ssm:GetParameter (read-back)"), "{text}");
        assert!(
            text.contains("call time sums every call's duration: concurrent calls each count their own"),
            "{text}"
        );
    }
}
