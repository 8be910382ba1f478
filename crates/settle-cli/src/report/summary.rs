//! Stage 2: per service and operation, what happened: counts by kind of answer, latency
//! percentiles (an HDR histogram per operation, nothing kept per call) and request rates;
//! then the findings worth saying in words.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::kind::Kind;
use super::read::{Event, Recording};

/// A throttled share at or above this is called out as a finding.
const THROTTLE_FINDING: f64 = 0.05;
/// A throttled share at or above this, over at least [`STORM_MIN_THROTTLED`] attempts, is a retry storm.
const STORM_SHARE: f64 = 0.25;
/// The fewest throttled attempts called a retry storm.
const STORM_MIN_THROTTLED: u64 = 10;

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Requests read.
    pub calls: u64,
    /// First request, ms since the Unix epoch (0 when there were none).
    pub start_ms: u64,
    /// Last request minus first, ms.
    pub span_ms: u64,
    /// One row per service and operation, by service then operation.
    pub operations: Vec<Row>,
    /// Plain-words findings, worst first.
    pub findings: Vec<String>,
}

/// One service and operation.
#[derive(Debug, Serialize)]
pub struct Row {
    /// SigV4 service name.
    pub service: String,
    /// Operation.
    pub operation: String,
    /// Requests (every attempt the proxy saw).
    pub calls: u64,
    /// Attempts answered with a throttling error (by the proxy's bucket or upstream).
    pub throttled: u64,
    /// `throttled / calls`.
    pub throttled_share: f64,
    /// Attempts the proxy answered with an injected error (transient 5xx, status rewrite,
    /// conflict, blocked).
    pub injected_errors: u64,
    /// Reads answered from a snapshot taken before a write (lag).
    pub lag_served: u64,
    /// Other attempts answered 4xx/5xx (upstream errors, bodies too large or too slow).
    pub other_errors: u64,
    /// Median time in the proxy, ms.
    pub p50_ms: f64,
    /// 99th percentile time in the proxy, ms.
    pub p99_ms: f64,
    /// Attempts per second over the operation's active span (at least 1 s).
    pub rate_per_s: f64,
    /// Attempts not throttled, per second over the same span.
    pub accepted_per_s: f64,
    /// Attempts not throttled per second between the first and last throttled attempt (at least
    /// 1 s): the rate the limit let through while it was being hit. `None` without throttling.
    pub limit_seen_per_s: Option<f64>,
}

/// Counts while reading.
struct Tally {
    calls: u64,
    throttled: u64,
    injected: u64,
    lag: u64,
    other: u64,
    first_ms: u64,
    last_ms: u64,
    /// The first and last throttled attempt, ms.
    throttled_between: Option<(u64, u64)>,
    /// Attempts not throttled within `throttled_between` (counted in a second pass).
    accepted_while_throttled: u64,
    /// Time in the proxy, µs.
    latency: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        // 1 µs to an hour at 3 significant figures (~0.1 % error), a fixed ~40 KiB; longer saturates.
        let latency = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        Tally {
            calls: 0,
            throttled: 0,
            injected: 0,
            lag: 0,
            other: 0,
            first_ms: u64::MAX,
            last_ms: 0,
            throttled_between: None,
            accepted_while_throttled: 0,
            latency,
        }
    }

    fn add(&mut self, event: &Event) {
        self.calls += 1;
        match event.kind {
            Kind::Throttled => {
                self.throttled += 1;
                let (first, last) = self.throttled_between.unwrap_or((event.at_ms, event.at_ms));
                self.throttled_between = Some((first.min(event.at_ms), last.max(event.at_ms)));
            }
            Kind::Injected => self.injected += 1,
            Kind::Lag => self.lag += 1,
            Kind::OtherError => self.other += 1,
            Kind::Ok => {}
        }
        self.first_ms = self.first_ms.min(event.at_ms);
        self.last_ms = self.last_ms.max(event.at_ms);
        self.latency.saturating_record((f64::from(event.total_ms) * 1000.0).round() as u64);
    }

    fn row(self, service: String, operation: String) -> Row {
        let span_s = ((self.last_ms - self.first_ms) as f64 / 1000.0).max(1.0);
        let ms = |q: f64| round3(self.latency.value_at_quantile(q) as f64 / 1000.0);
        Row {
            service,
            operation,
            calls: self.calls,
            throttled: self.throttled,
            throttled_share: round3(self.throttled as f64 / self.calls as f64),
            injected_errors: self.injected,
            lag_served: self.lag,
            other_errors: self.other,
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            rate_per_s: round3(self.calls as f64 / span_s),
            accepted_per_s: round3((self.calls - self.throttled) as f64 / span_s),
            limit_seen_per_s: self.throttled_between.map(|(first, last)| {
                round3(self.accepted_while_throttled as f64 / ((last - first) as f64 / 1000.0).max(1.0))
            }),
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Summarises a recording (events in any order).
pub fn summarise(recording: &Recording) -> Summary {
    let events = &recording.events;
    let mut tallies: Vec<Tally> = recording.operations.iter().map(|_| Tally::new()).collect();
    for event in events {
        tallies[event.op as usize].add(event);
    }
    // Second pass: what got through while each operation was being throttled.
    for event in events {
        let tally = &mut tallies[event.op as usize];
        if let Some((first, last)) = tally.throttled_between
            && (first..=last).contains(&event.at_ms)
            && event.kind != Kind::Throttled
        {
            tally.accepted_while_throttled += 1;
        }
    }
    let start_ms = events.iter().map(|e| e.at_ms).min().unwrap_or(0);
    let end_ms = events.iter().map(|e| e.at_ms).max().unwrap_or(0);
    let mut operations: Vec<Row> = tallies
        .into_iter()
        .zip(&recording.operations)
        .map(|(tally, op)| tally.row(op.service.clone(), op.operation.clone()))
        .collect();
    operations.sort_by(|a, b| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)));
    Summary {
        calls: events.len() as u64,
        start_ms,
        span_ms: end_ms - start_ms,
        findings: findings(&operations),
        operations,
    }
}

/// The findings, in plain words: throttling (worst share first), then injected errors, then lag.
fn findings(rows: &[Row]) -> Vec<String> {
    let mut throttled: Vec<&Row> = rows.iter().filter(|r| r.throttled_share >= THROTTLE_FINDING).collect();
    throttled.sort_by(|a, b| b.throttled_share.total_cmp(&a.throttled_share));
    let mut out: Vec<String> = throttled
        .into_iter()
        .map(|r| {
            let storm = r.throttled_share >= STORM_SHARE && r.throttled >= STORM_MIN_THROTTLED;
            format!(
                "{}{} ({}): {:.0}% of attempts throttled at {} req/s; the limit seen was {}/s ({} of {} attempts throttled)",
                if storm { "retry storm: " } else { "" },
                r.operation,
                r.service,
                r.throttled_share * 100.0,
                number(r.rate_per_s),
                number(r.limit_seen_per_s.unwrap_or(0.0)),
                r.throttled,
                r.calls,
            )
        })
        .collect();
    out.extend(rows.iter().filter(|r| r.injected_errors > 0).map(|r| {
        format!(
            "{} ({}): {} of {} attempts answered with an injected error",
            r.operation, r.service, r.injected_errors, r.calls
        )
    }));
    out.extend(rows.iter().filter(|r| r.lag_served > 0).map(|r| {
        format!(
            "{} ({}): {} of {} reads answered from before a write (lag)",
            r.operation, r.service, r.lag_served, r.calls
        )
    }));
    out
}

/// A rate for people: one decimal below 10, whole numbers above.
pub fn number(x: f64) -> String {
    if x < 10.0 { format!("{x:.1}") } else { format!("{x:.0}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::read::Operation;

    const PUT: u32 = 0;
    const GET: u32 = 1;

    fn event(at_ms: u64, op: u32, kind: Kind) -> Event {
        Event { at_ms, op, kind, total_ms: (at_ms % 10) as f32 }
    }

    fn recording(events: Vec<Event>) -> Recording {
        let op = |name: &str| Operation { service: "ssm".into(), operation: name.into() };
        let mut recording = Recording::default();
        recording.operations = vec![op("PutParameter"), op("GetParameter")];
        recording.events = events;
        recording
    }

    #[test]
    fn counts_rates_and_a_storm_in_words() {
        // 20 GetParameter attempts over 2 s, 12 of them throttled; 2 PutParameter, one lagged read.
        let mut events: Vec<Event> = (0..20)
            .map(|i| event(i * 100 + 5, GET, if i % 5 < 3 { Kind::Throttled } else { Kind::Ok }))
            .collect();
        events.push(event(1000, PUT, Kind::Ok));
        events.push(event(1001, PUT, Kind::Injected));
        events.push(event(1002, GET, Kind::Lag));
        let summary = summarise(&recording(events));
        assert_eq!(summary.calls, 23);
        let get = &summary.operations[0];
        assert_eq!(
            (get.operation.as_str(), get.calls, get.throttled, get.lag_served),
            ("GetParameter", 21, 12, 1)
        );
        assert_eq!(get.throttled_share, 0.571);
        assert_eq!(get.rate_per_s, 11.053, "21 attempts over 1.9 s");
        assert_eq!(get.limit_seen_per_s, Some(4.118), "7 got through between the throttles at 5 and 1705 ms");
        let put = &summary.operations[1];
        assert_eq!(
            (put.calls, put.injected_errors, put.rate_per_s),
            (2, 1, 2.0),
            "a span under 1 s counts as 1 s"
        );
        assert_eq!(
            summary.findings[0],
            "retry storm: GetParameter (ssm): 57% of attempts throttled at 11 req/s; the limit seen was 4.1/s (12 of 21 attempts throttled)"
        );
        assert!(
            summary.findings[1].starts_with("PutParameter (ssm): 1 of 2 attempts answered with an injected")
        );
        assert!(summary.findings[2].contains("1 of 21 reads answered from before a write"));
    }

    #[test]
    fn nothing_read_is_an_empty_report() {
        let summary = summarise(&Recording::default());
        assert_eq!((summary.calls, summary.operations.len(), summary.findings.len()), (0, 0, 0));
    }
}
