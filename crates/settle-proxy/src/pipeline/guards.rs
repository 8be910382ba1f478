//! Stage 4: **guards**: requests refused while their resource is not ready, as AWS does:
//! a create of a name under a conflict mark (Secrets Manager name reuse), and operations
//! a status window blocks (item operations on a CREATING DynamoDB table).

use std::time::Instant;

use super::{Outcome, Request, refuse};
use crate::rules::{self, WriteKind};

/// The refusal, if a guard applies.
pub(crate) fn refuse_if_not_ready(request: &Request<'_>) -> Option<Outcome> {
    let parsed = request.parsed;
    let now = Instant::now();
    if let Some(write) = rules::write_rule(parsed)
        && write.kind == WriteKind::Create
    {
        let mut state = request.shared.lock();
        for key in rules::keys(write.key, write.class, parsed) {
            if let Some(conflict) = state.book.conflict(&key.id(), now) {
                let (code, message) = (conflict.code, conflict.message);
                state.counters.conflicts += 1;
                return Some(refuse(&parsed.info, code, message, "conflict"));
            }
        }
    }
    let needs = rules::for_service(&parsed.info.service).and_then(|r| r.hooks.needs_ready)?;
    let ready = needs(parsed)?;
    let mut state = request.shared.lock();
    let operation = parsed.info.operation.as_str();
    let blocked = state.book.status_of(&ready.key, now).is_some_and(|w| w.blocks.contains(&operation));
    if blocked {
        state.counters.blocked += 1;
        return Some(refuse(&parsed.info, ready.code, &ready.message, "blocked"));
    }
    None
}
