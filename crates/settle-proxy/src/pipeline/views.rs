//! Stage 6: **views**: the Resource Groups Tagging API's GetResources shows the pre-write
//! tags of every resource whose tag write is still lagging.

use std::time::Instant;

use bytes::Bytes;

use super::{Outcome, Request};
use crate::rules::tagging;

/// The patched GetResources answer; the request back if it is not one.
pub(crate) async fn tagging(request: Request<'_>) -> Result<Outcome, Request<'_>> {
    let info = &request.parsed.info;
    if info.service != "tagging" || info.operation != "GetResources" {
        return Err(request);
    }
    let (shared, parsed) = (request.shared, request.parsed);
    let lagging: Vec<tagging::Lagging> = {
        let state = shared.lock();
        let now = Instant::now();
        state.book.tag_view.iter().filter(|t| t.window.open(now)).map(|t| t.lagging.clone()).collect()
    };
    let mut outcome = request.forward().await;
    if !lagging.is_empty()
        && outcome.response.status.is_success()
        && let Some(patched) = tagging::patch(&outcome.response.body, parsed.json.as_ref(), &lagging)
    {
        outcome.response.body = Bytes::from(patched);
        shared.lock().counters.tagging_view_rewrites += 1;
        outcome.fault = Some("lag");
    }
    Ok(outcome)
}
