//! Stage 7: **lag write**: before a write a rule knows is forwarded, the reads it will change
//! are snapshotted upstream (those not already frozen by an earlier write still lagging);
//! once it succeeds, its windows open on every key it names, with the drawn lag or held
//! until released, and the service's after-write hook sets or clears conflict marks. A create
//! that learns its ids from its answer ([`rules::Answer`]) opens them on those ids, with the
//! answers AWS gives while they propagate made up by [`absent`].

use std::time::Instant;

use super::{Outcome, Request, absent, read::show_status};
use crate::protocol::StoredResponse;
use crate::rules::{self, Key, propagation, tagging};
use crate::visibility::{Hold, StatusWindow, TagWindow};

/// Most keys of one write that are lagged (AWS caps its name lists at 10, e.g. DeleteParameters):
/// a request naming more cannot make the proxy issue an unbounded number of snapshot reads.
pub(crate) const MAX_KEYS: usize = 10;

/// Forwards a request; lags it if it is a write a rule knows.
pub(crate) async fn lagged(request: Request<'_>, hold: Hold) -> Outcome {
    let (shared, parsed) = (request.shared, request.parsed);
    let info = &parsed.info;
    let Some(service_rules) = rules::for_service(&info.service) else { return request.forward().await };
    let Some(write) = rules::write_rule(parsed) else { return request.forward().await };
    let mut keys = rules::keys(write.key, write.class, parsed);
    keys.truncate(MAX_KEYS);
    let mark = service_rules.hooks.mark.and_then(|mark| mark(parsed));
    let answer = match write.key {
        rules::KeyFrom::Answer(answer) => Some(answer),
        _ => None,
    };
    let rewrite = service_rules.hooks.answer;
    if hold.is_zero() || (keys.is_empty() && answer.is_none()) {
        let mut outcome = request.forward().await;
        if let Some(rewrite) = rewrite
            && outcome.response.status.is_success()
        {
            rewrite(parsed, &mut outcome.response);
        }
        if let Some(mark) = mark
            && outcome.response.status.is_success()
        {
            let mut state = shared.lock();
            keys.iter().for_each(|key| state.book.mark(key, mark, None));
        }
        return outcome;
    }
    let mut taken: Vec<(Key, String, StoredResponse)> = Vec::new();
    for key in &keys {
        for read in rules::snapshot_reads(service_rules, write, key, parsed) {
            let frozen = shared.lock().book.snapshot(&key.id(), &read.read_id, Instant::now()).is_some();
            if frozen {
                continue;
            }
            if let Some(response) = shared.snapshot(&read, &request.parts.headers, &info.service).await {
                taken.push((key.clone(), read.read_id.clone(), response));
            }
        }
    }
    let mut tag_olds: Vec<tagging::Lagging> = Vec::new();
    if write.tagging {
        let pages = shared.tagging_pages(&info.service, &request.parts.headers).await;
        for key in &keys {
            tag_olds.push(tagging::Lagging { key: key.clone(), old: tagging::find_entry(&pages, key) });
        }
    }
    let mut outcome = request.forward().await;
    if !outcome.response.status.is_success() {
        return outcome;
    }
    if let Some(rewrite) = rewrite {
        rewrite(parsed, &mut outcome.response);
    }
    if let Some(status) = write.status {
        show_status(shared, &info.service, &mut outcome, status.status);
    }
    let created = answer.map(|a| rules::answer_keys(a, &outcome.response.body)).unwrap_or_default();
    // The principals the write makes new to other services are opened (held, released) as its keys.
    let principals: Vec<Key> =
        propagation::produced(parsed).into_iter().filter(|p| !keys.contains(p)).collect();
    let mut state = shared.lock();
    let now = Instant::now();
    if let Some(answer) = answer {
        taken.extend(absent::answers(parsed, answer, &created));
        absent::then(&mut state.book, now, hold, &info.service, answer, &created);
        keys.extend(created);
    }
    let opened_keys: Vec<Key> = keys.iter().chain(&principals).cloned().collect();
    let opened = state.book.open(now, hold, &info.service, &info.operation, &opened_keys, taken);
    for key in propagation::produced(parsed) {
        let window = opened.window(&key);
        state.book.propagation.insert(key.id(), window);
    }
    if let Some(flap) = state.config.effective(&info.service, &info.operation).flap {
        state.book.flap_after(&opened, flap);
    }
    state.counters.writes_lagged += 1;
    for key in &keys {
        if let Some(status) = write.status {
            let window = opened.window(key);
            let (status, read, blocks) = (status.status, status.read, status.blocks);
            state.book.status.insert(key.id(), StatusWindow { status, read, blocks, window });
        }
        if let Some(mark) = mark {
            state.book.mark(key, mark, Some(&opened));
        }
    }
    for lagging in tag_olds {
        let window = opened.window(&lagging.key);
        state.book.tag_view.push(TagWindow { lagging, window });
    }
    outcome
}
