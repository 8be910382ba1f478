//! The control endpoint, on the proxy's own port under `/__settle/`. Every request but
//! `health` must carry the proxy's token in the `x-settle-token` header (printed at start,
//! [`crate::ProxyHandle::control_token`]); requests signed for AWS are never control
//! requests, whatever their path (an S3 key may be `__settle/config`).
//!
//! | request | effect |
//! |---|---|
//! | `GET /__settle/health` | `ok` |
//! | `GET /__settle/config` | the configuration in force (JSON) |
//! | `PUT` or `POST /__settle/config` | replace it (JSON or TOML body); token buckets restart |
//! | `GET /__settle/counters` | [`Counters`] |
//! | `GET /__settle/visibility[?resource=K][&operation=W]` | [`WriteVisibility`] records |
//! | `GET /__settle/rules` | the built-in rules |
//! | `POST /__settle/release[?resource=K\|operation=W]` | make held writes visible: all, one resource's, or one write operation's; answers `{"released": N, "held": M}` |
//! | `POST /__settle/flush` | wait until the recording has every line answered so far |
//! | `POST /__settle/reset` | drop snapshots, lags, conflicts, counters and visibility records |

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::protocol::{StoredResponse, query::parse_form};
use crate::server::Shared;
use crate::visibility::Release;

/// What the proxy has done so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests received (control requests excluded).
    pub requests: u64,
    /// Requests forwarded upstream.
    pub forwarded: u64,
    /// Requests answered with a throttling error.
    pub throttled: u64,
    /// Requests answered with an injected 500/503.
    pub errors_injected: u64,
    /// Reads answered from a snapshot (lag).
    pub served_from_snapshot: u64,
    /// Reads after a lag answered from its snapshot by flapping ([`crate::visibility::Flap`]).
    pub flapped_reads: u64,
    /// Responses whose status field was rewritten (DynamoDB CREATING/DELETING...).
    pub status_rewrites: u64,
    /// Write-after-delete conflicts answered (Secrets Manager).
    pub conflicts: u64,
    /// Operations refused because their resource is not ready (item ops on a CREATING table).
    pub blocked: u64,
    /// Consumer calls refused because a principal they name is still propagating (IAM).
    #[serde(default)]
    pub propagation_refusals: u64,
    /// Snapshot reads the proxy issued upstream.
    pub snapshot_reads: u64,
    /// Snapshot reads that failed upstream: their write was not lagged for that read.
    pub snapshot_failures: u64,
    /// Writes whose visibility was delayed.
    pub writes_lagged: u64,
    /// Tagging API answers rewritten to the old view.
    pub tagging_view_rewrites: u64,
    /// Requests refused as too large.
    pub too_large: u64,
    /// Upstream connection failures (answered 502).
    pub upstream_failures: u64,
    /// Upstream answers that did not come within the limit (answered 504).
    pub upstream_timeouts: u64,
    /// Connections refused past the connection cap (answered 503 and closed).
    pub connections_refused: u64,
    /// Recording lines dropped because the writer could not keep up.
    pub recording_dropped: u64,
    /// Requests per `service:operation` (past 4096 names, new ones count under `(other)`).
    pub per_operation: BTreeMap<String, u64>,
    /// Throttling errors per `service:operation` (bounded the same way).
    pub throttled_per_operation: BTreeMap<String, u64>,
}

/// When a write became (or will become) visible to reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteVisibility {
    /// Sequence number of the write in this proxy.
    pub id: u64,
    /// Service.
    pub service: String,
    /// Write operation.
    pub operation: String,
    /// Resource key, e.g. `ssm-parameter:/a`.
    pub resource: String,
    /// The lag drawn for this write, ms; `None` for a held write.
    pub lag_ms: Option<f64>,
    /// When the write was answered (Unix ms).
    pub written_at_ms: f64,
    /// When reads of the resource stop being answered from the pre-write state (Unix ms).
    /// Later, if an overlapping write on the same resource extended the lag; `None` while held.
    pub visible_at_ms: Option<f64>,
    /// Whether that time has passed.
    pub visible: bool,
}

pub(crate) fn handle(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> StoredResponse {
    let json =
        |value: serde_json::Value| StoredResponse::new(StatusCode::OK, "application/json", value.to_string());
    let params = query.map(|q| parse_form(q.as_bytes())).unwrap_or_default();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match (method.as_str(), path.trim_end_matches('/')) {
        ("GET", "/__settle/health") => StoredResponse::new(StatusCode::OK, "text/plain", "ok\n"),
        ("GET", "/__settle/config") => json(serde_json::to_value(shared.config()).unwrap_or_default()),
        ("PUT" | "POST", "/__settle/config") => match Config::from_text(&String::from_utf8_lossy(body)) {
            Ok(config) => {
                shared.set_config(config);
                json(serde_json::json!({"ok": true}))
            }
            Err(e) => StoredResponse::plain(StatusCode::BAD_REQUEST, &e.to_string()),
        },
        ("GET", "/__settle/counters") => json(serde_json::to_value(shared.counters()).unwrap_or_default()),
        ("GET", "/__settle/visibility") => json(
            serde_json::to_value(shared.visibility(param("resource"), param("operation")))
                .unwrap_or_default(),
        ),
        ("GET", "/__settle/rules") => json(crate::rules::describe()),
        ("POST", "/__settle/release") => {
            let which = match (param("resource"), param("operation")) {
                (None, None) => Release::All,
                (Some(key), None) => Release::Resource(key.to_string()),
                (None, Some(op)) => Release::Operation(op.to_string()),
                (Some(_), Some(_)) => {
                    return StoredResponse::plain(
                        StatusCode::BAD_REQUEST,
                        "release takes one of ?resource=KEY or ?operation=WRITE, not both",
                    );
                }
            };
            let released = shared.release(&which);
            json(serde_json::json!({"released": released, "held": shared.held()}))
        }
        ("POST", "/__settle/flush") => json(serde_json::json!({"flushed": shared.flush_recording()})),
        ("POST", "/__settle/reset") => {
            shared.reset();
            json(serde_json::json!({"ok": true}))
        }
        _ => StoredResponse::plain(
            StatusCode::NOT_FOUND,
            "unknown control request; try GET /__settle/{health,config,counters,visibility,rules}, \
             PUT /__settle/config, POST /__settle/{release,flush,reset}",
        ),
    }
}
