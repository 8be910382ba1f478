//! Part of stage 7 (**lag write**) for creates keyed by their answer ([`rules::Answer`]): the
//! made-up answers of reads of an id that has not propagated yet (EC2 `InvalidInstanceID.NotFound`,
//! KMS `NotFoundException`), stored as that id's snapshots, and the status phase that follows.

use std::time::Instant;

use http::StatusCode;

use crate::protocol::{self, ParsedRequest, RequestInfo, StoredResponse};
use crate::rules::{Answer, Key};
use crate::visibility::{Book, Hold, StatusWindow};

/// The snapshots `(key, read id, answer)` that refuse each [`rules::Absent`] operation on `created`.
pub(crate) fn answers(
    parsed: &ParsedRequest,
    answer: &Answer,
    created: &[Key],
) -> Vec<(Key, String, StoredResponse)> {
    let mut out = Vec::new();
    for key in created {
        for absent in answer.absent {
            let info = RequestInfo { operation: absent.op.to_string(), ..parsed.info.clone() };
            let status = StatusCode::from_u16(absent.status).unwrap_or(StatusCode::BAD_REQUEST);
            let message = absent.message.replace("{0}", &key.name);
            let response = protocol::render_error(&info, status, absent.code, &message);
            out.push((key.clone(), absent.op.to_string(), response));
        }
    }
    out
}

/// Opens the [`rules::Then`] phase on `created`, before the absence is opened (so the absence's
/// windows are not extended by it): a write of its own, lagging twice as long, or held.
pub(crate) fn then(
    book: &mut Book,
    now: Instant,
    hold: Hold,
    service: &str,
    answer: &Answer,
    created: &[Key],
) {
    let Some(then) = answer.then else { return };
    if created.is_empty() {
        return;
    }
    let hold = match hold {
        Hold::For(lag) => Hold::For(lag.saturating_mul(2)),
        Hold::UntilReleased => Hold::UntilReleased,
    };
    let opened = book.open(now, hold, service, then.op, created, Vec::new());
    for key in created {
        let window = opened.window(key);
        book.status
            .insert(key.id(), StatusWindow { status: then.status, read: then.read, blocks: &[], window });
    }
}
