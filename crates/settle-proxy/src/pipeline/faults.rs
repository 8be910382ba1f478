//! Stages 1–3: **throttle** → **inject** → **latency**, decided under one lock with the
//! write's lag drawn from the same seeded generator.

use std::time::{Duration, Instant};

use rand::Rng;

use super::{Outcome, Request};
use crate::protocol::{self, InjectedError, Protocol};
use crate::throttle::Throttle;
use crate::visibility::Hold;

/// What the fault stages decided.
pub(crate) enum Decision {
    /// Faults are off for this request (or its protocol is unknown): forward it untouched.
    PassThrough,
    /// Answered here (throttled, or an injected error).
    Answer(Outcome),
    /// Go on, with this lag for the write (if it is one).
    Go(Hold),
}

/// The per-prefix bucket of an S3 object request, if the configuration has one for its kind:
/// `s3-prefix:<reads|writes>:<bucket>/<prefix>`, where the prefix is the key up to its last `/`.
fn prefix_bucket(request: &Request<'_>, eff: &crate::config::Effective) -> Option<(String, Throttle)> {
    let location = request.parsed.s3.as_ref()?;
    let bucket = location.bucket.as_deref()?;
    let (kind, spec) = match request.parts.method {
        http::Method::GET | http::Method::HEAD => ("reads", eff.prefix_reads?),
        _ => ("writes", eff.prefix_writes?),
    };
    // Bucket-level requests (no key) are not limited per prefix.
    let key = location.key.as_deref().filter(|k| !k.is_empty())?;
    let prefix = key.rfind('/').map_or("", |i| &key[..=i]);
    Some((format!("s3-prefix:{kind}:{bucket}/{prefix}"), spec))
}

/// Counts the request, then throttles, injects an error, or sleeps the drawn latency.
pub(crate) async fn decide(request: &Request<'_>) -> Decision {
    let info = &request.parsed.info;
    let op_key = format!("{}:{}", info.service, info.operation);
    let now = Instant::now();
    let (latency, hold) = {
        let mut state = request.shared.lock();
        state.book.sweep(now);
        state.counters.requests += 1;
        state.count_request(&op_key);
        let eff = state.config.effective(&info.service, &info.operation);
        if info.protocol == Protocol::Unknown || !eff.enabled {
            return Decision::PassThrough;
        }
        let mut throttled = false;
        if let Some(spec) = eff.service_throttle {
            throttled |= !state.take_token(&info.service, spec, now);
        }
        if let Some(spec) = eff.operation_throttle
            && !throttled
        {
            throttled |= !state.take_token(&op_key, spec, now);
        }
        if let Some((prefix_key, spec)) = prefix_bucket(request, &eff)
            && !throttled
        {
            throttled |= !state.take_token(&prefix_key, spec, now);
        }
        // A share of requests throttled whatever the rate (drawn only when configured, so a
        // seeded run without it draws the same lags as before).
        throttled |= eff.throttle_share > 0.0 && state.rng.random_bool(eff.throttle_share);
        if throttled {
            state.count_throttled(&op_key);
            let answer = protocol::render_injected(info, InjectedError::Throttle);
            return Decision::Answer(Outcome::local(answer, "throttle"));
        }
        if eff.errors > 0.0 && state.rng.random_bool(eff.errors) {
            state.counters.errors_injected += 1;
            let kind =
                if state.rng.random_bool(0.5) { InjectedError::Internal } else { InjectedError::Unavailable };
            return Decision::Answer(Outcome::local(protocol::render_injected(info, kind), "error"));
        }
        let latency = eff.latency.map(|d| d.sample(&mut state.rng)).unwrap_or_default();
        let hold = eff.lag.map(|l| l.sample(&mut state.rng)).unwrap_or(Hold::For(Duration::ZERO));
        (latency, hold)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    Decision::Go(hold)
}
