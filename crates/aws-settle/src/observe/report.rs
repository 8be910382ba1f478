//! "Why is my job slow?": per `service:Operation` totals folded from events, and a headline naming
//! the biggest single cause of lost time.
//!
//! Time lost is backoff sleep plus the time spent in attempts that failed on a retryable error. Call time is the sum of call
//! durations (concurrent calls each count their own), so shares are of the time calls spent.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use super::classify::{is_retryable, is_throttling};
use super::event::{Event, EventKind};

/// Totals for one `service:Operation`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The service (`ssm`).
    pub service: String,
    /// The operation (`PutParameter`).
    pub operation: String,
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
    /// The sum of the durations of the calls that ended.
    pub call_time: Duration,
    /// Median call duration.
    pub p50: Option<Duration>,
    /// 99th percentile call duration.
    pub p99: Option<Duration>,
}

impl Row {
    /// Backoff sleep plus time in attempts that failed on a retryable error.
    pub fn time_lost(&self) -> Duration {
        self.backoff + self.failed_attempt_time
    }

    /// `service:Operation`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.service, self.operation)
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

    /// The row of `service` and `operation`.
    pub fn row(&self, service: &str, operation: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.service == service && r.operation == operation)
    }

    /// Total call time over all rows.
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
            "time lost to backoff and failed attempts: {} of {} ({}%)",
            secs(self.time_lost()),
            secs(self.call_time()),
            percent(self.time_lost(), self.call_time())
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

/// Running totals, fed one event at a time (the telemetry keeps one behind a lock).
#[derive(Debug, Default)]
pub(crate) struct Aggregate {
    rows: BTreeMap<(String, String), (Row, Vec<Duration>)>,
    /// Per call in flight: whether its last failed attempt was throttled.
    last_throttled: HashMap<u64, bool>,
}

impl Aggregate {
    pub(crate) fn add(&mut self, e: &Event) {
        let key = (e.service.clone(), e.operation.clone());
        let (row, durations) = self.rows.entry(key).or_insert_with(|| {
            let row = Row { service: e.service.clone(), operation: e.operation.clone(), ..Row::default() };
            (row, Vec::new())
        });
        match e.kind {
            EventKind::CallStart => row.calls += 1,
            EventKind::AttemptStart => row.attempts += 1,
            EventKind::AttemptEnd { ok } => {
                if !ok {
                    if is_retryable(e.error_code.as_deref(), e.status) {
                        row.failed_attempt_time += e.duration.unwrap_or_default();
                    }
                    let throttled = is_throttling(e.error_code.as_deref(), e.status);
                    self.last_throttled.insert(e.call_id, throttled);
                }
            }
            EventKind::Throttled => row.throttles += 1,
            EventKind::Retry { backoff } => {
                row.retries += 1;
                row.backoff += backoff;
                let throttled = self.last_throttled.get(&e.call_id).copied().unwrap_or(false)
                    || is_throttling(e.error_code.as_deref(), e.status);
                if throttled {
                    row.throttle_backoff += backoff;
                }
            }
            EventKind::GiveUp => row.give_ups += 1,
            EventKind::CallEnd { ok } => {
                self.last_throttled.remove(&e.call_id);
                if !ok {
                    row.failed_calls += 1;
                }
                let d = e.duration.unwrap_or_default();
                row.call_time += d;
                durations.push(d);
            }
        }
    }

    pub(crate) fn report(&self) -> Report {
        let mut rows: Vec<Row> = self
            .rows
            .values()
            .map(|(row, durations)| {
                let mut sorted = durations.clone();
                sorted.sort();
                Row { p50: percentile(&sorted, 50), p99: percentile(&sorted, 99), ..row.clone() }
            })
            .collect();
        rows.sort_by(|a, b| b.time_lost().cmp(&a.time_lost()).then(b.call_time.cmp(&a.call_time)));
        Report { rows }
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: usize) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
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
        }
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
        assert_eq!(row.p50, Some(Duration::from_millis(30)));
        assert_eq!(row.p99, Some(Duration::from_millis(1040)));
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
        assert!(text.lines().nth(3).unwrap().starts_with("dynamodb:PutItem"), "{text}");
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
        assert_eq!(percentile(&[], 50), None);
        let one = [Duration::from_millis(3)];
        assert_eq!((percentile(&one, 50), percentile(&one, 99)), (Some(one[0]), Some(one[0])));
    }
}
