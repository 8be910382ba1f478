//! Stage 5: **snapshot read**: a read of a resource whose write is still lagging is answered
//! from the snapshot taken before the write; a status window rewrites the answer's status
//! (DynamoDB CREATING, through the service's hook). After the lag, a flapping snapshot
//! ([`crate::visibility::Flap`]) still answers some reads.

use std::time::Instant;

use super::{Outcome, Request};
use crate::rules;
use crate::server::Shared;

/// The answer to a read the rules know; the request back if it is not one.
pub(crate) async fn from_snapshot(request: Request<'_>) -> Result<Outcome, Request<'_>> {
    let parsed = request.parsed;
    let Some(read) = rules::read_rule(parsed) else { return Err(request) };
    let keys = rules::keys(read.key, read.class, parsed);
    let Some(key) = keys.first() else { return Err(request) };
    let (id, read_id) = (key.id(), rules::read_id(read, parsed));
    let (snapshot, status) = {
        let mut state = request.shared.lock();
        let now = Instant::now();
        let mut snapshot = state.book.snapshot(&id, &read_id, now).cloned();
        let status = state
            .book
            .status_of(&id, now)
            .filter(|w| w.read.split('|').any(|r| r == read.op))
            .map(|w| w.status);
        if snapshot.is_some() {
            state.counters.served_from_snapshot += 1;
        } else {
            // After the lag: while the snapshot flaps, some reads still see the old state.
            let state = &mut *state;
            snapshot = state.book.flapped(&id, &read_id, now, &mut state.rng);
            state.counters.flapped_reads += u64::from(snapshot.is_some());
        }
        (snapshot, status)
    };
    let shared = request.shared;
    let mut outcome = match snapshot {
        Some(response) => Outcome::local(response, "lag"),
        // A write refused while its resource's create lags (EC2 CreateTags), else lagged itself.
        None if rules::write_rule(parsed).is_some() => return Err(request),
        None => request.forward().await,
    };
    if let Some(status) = status {
        show_status(shared, &parsed.info.service, &mut outcome, status);
    }
    Ok(outcome)
}

/// Shows a lagging status in `outcome` through the service's hook (a fault of kind `status`).
pub(crate) fn show_status(shared: &Shared, service: &str, outcome: &mut Outcome, status: &str) {
    let Some(rewrite) = rules::for_service(service).and_then(|r| r.hooks.show_status) else { return };
    if rewrite(&mut outcome.response, status) {
        shared.lock().counters.status_rewrites += 1;
        outcome.fault = Some("status");
    }
}
