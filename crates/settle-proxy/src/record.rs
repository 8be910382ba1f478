//! The recording: one JSON line per request, streamed to a file by a writer thread
//! through a bounded channel (lines are dropped and counted, never buffered without
//! bound, if the disk cannot keep up). Request bodies, headers and responses are never
//! written; with `record_params` the request's parameters are, by an allowlist: identifiers,
//! types and flags as sent, every other value `"<redacted>"`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Sender, SyncSender, TrySendError, channel, sync_channel};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// One recorded request.
#[derive(Debug, Clone, Serialize)]
pub struct RecordLine {
    /// When the request arrived, RFC 3339 UTC.
    pub time: String,
    /// SigV4 service name.
    pub service: String,
    /// Operation.
    pub operation: String,
    /// Resource key, e.g. `ssm-parameter:/a`.
    pub resource: Option<String>,
    /// HTTP method.
    pub method: String,
    /// HTTP status answered.
    pub status: u16,
    /// Error code answered, if any.
    pub error_code: Option<String>,
    /// Fault injected: `throttle`, `error`, `lag`, `status`, `conflict`, `blocked`,
    /// `too-large` (body over `max_body_bytes`), `unreadable` (truncated body).
    pub fault: Option<&'static str>,
    /// Time spent waiting for upstream (forward only), ms.
    pub upstream_ms: f64,
    /// Total time in the proxy, ms.
    pub total_ms: f64,
    /// Redacted parameters (only with `record_params`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

/// What the writer thread is sent.
#[derive(Debug)]
enum Message {
    Line(String),
    /// Write everything before this, then say so.
    Flush(Sender<()>),
}

/// Where recorded lines go.
#[derive(Debug, Default)]
pub struct Recorder {
    tx: Option<SyncSender<Message>>,
    dropped: AtomicU64,
}

impl Recorder {
    /// Records nothing.
    pub fn disabled() -> Self {
        Recorder::default()
    }

    /// Streams lines to a file (created or truncated) from a dedicated thread.
    pub fn to_file(path: &Path) -> std::io::Result<Self> {
        let file = File::create(path)?;
        let (tx, rx) = sync_channel::<Message>(4096);
        std::thread::Builder::new().name("settle-proxy-record".into()).spawn(move || {
            let mut out = BufWriter::new(file);
            while let Ok(first) = rx.recv() {
                // Write what is queued, then flush once idle, so the file is readable
                // while the proxy runs without a write per line under load.
                let mut waiting = Vec::new();
                for message in std::iter::once(first).chain(rx.try_iter()) {
                    match message {
                        Message::Line(line) => {
                            let _ = out.write_all(line.as_bytes());
                            let _ = out.write_all(b"\n");
                        }
                        Message::Flush(done) => waiting.push(done),
                    }
                }
                let _ = out.flush();
                waiting.into_iter().for_each(|done| {
                    let _ = done.send(());
                });
            }
        })?;
        Ok(Recorder { tx: Some(tx), dropped: AtomicU64::new(0) })
    }

    /// Queues one line.
    pub fn record(&self, line: &RecordLine) {
        let Some(tx) = &self.tx else { return };
        let Ok(text) = serde_json::to_string(line) else { return };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = tx.try_send(Message::Line(text)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every line queued so far is written to the file, for at most `bound`;
    /// whether it was.
    pub fn flush(&self, bound: Duration) -> bool {
        let Some(tx) = &self.tx else { return true };
        let (done, written) = channel();
        let deadline = Instant::now() + bound;
        let mut message = Message::Flush(done);
        // The queue may be full under load: retry until there is room, within the bound.
        loop {
            match tx.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    message = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        written.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_ok()
    }

    /// Lines dropped because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Parameter names whose values are recorded as sent: identifiers, types and flags, which
/// AWS never uses for secret material. Every other value is recorded as `"<redacted>"`
/// (an allowlist: a secret under a name nobody thought of, such as RDS `MasterUserPassword`
/// or ElastiCache `AuthToken`, is redacted too). Compared case-insensitively with the
/// innermost name of a value: the object key above it, or a flattened query parameter's last
/// segment that is not `member`, `entry` or an index (`Tags.member.1.Key` → `key`).
pub const RECORDED_AS_SENT: &[&str] = &[
    "action",
    "version",
    // Names and identifiers of resources.
    "name",
    "names",
    "secretid",
    "parameterversion",
    "labels",
    "versionid",
    "versionstage",
    "movetoversionid",
    "removefromversionid",
    "tablename",
    "indexname",
    "resourcearn",
    "resourceid",
    "resourcetype",
    "resourcetypefilters",
    "rolename",
    "username",
    "groupname",
    "policyname",
    "policyarn",
    "instanceprofilename",
    "path",
    "pathprefix",
    "arn",
    "bucket",
    "key",
    "tagkeys",
    "functionname",
    "queuename",
    "queueurl",
    "topicarn",
    "loggroupname",
    "hostedzoneid",
    "keyid",
    "instanceid",
    "instanceids",
    "groupid",
    "vpcid",
    "subnetid",
    "dbinstanceidentifier",
    "cacheclusterid",
    "replicationgroupid",
    "attributename",
    // Types, modes and flags.
    "type",
    "tier",
    "datatype",
    "overwrite",
    "withdecryption",
    "forcedeletewithoutrecovery",
    "recoverywindowindays",
    "billingmode",
    "keytype",
    "attributetype",
    "consistentread",
    "maxresults",
    "maxitems",
    "resourcesperpage",
    "nexttoken",
    "paginationtoken",
    "marker",
    "clientrequesttoken",
];

/// Whether a value under this (innermost) name is recorded as sent.
fn recorded_as_sent(name: &str) -> bool {
    RECORDED_AS_SENT.iter().any(|safe| safe.eq_ignore_ascii_case(name))
}

const REDACTED: &str = "<redacted>";

/// Replaces every value of a JSON document not under a name in [`RECORDED_AS_SENT`] with
/// `"<redacted>"`, keeping the document's shape (objects and arrays are walked).
pub fn redact_json(value: &mut Value) {
    redact_under(value, None);
}

fn redact_under(value: &mut Value, name: Option<&str>) {
    match value {
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| redact_under(v, Some(k))),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_under(v, name)),
        Value::Null => {}
        leaf => {
            if !name.is_some_and(recorded_as_sent) {
                *leaf = Value::from(REDACTED);
            }
        }
    }
}

/// Query-protocol parameters as a JSON object; values not under a name in
/// [`RECORDED_AS_SENT`] are `"<redacted>"`.
pub fn redact_params(params: &[(String, String)]) -> Value {
    let map = params
        .iter()
        .map(|(k, v)| {
            let inner = k
                .rsplit('.')
                .find(|seg| !seg.is_empty() && !seg.bytes().all(|b| b.is_ascii_digit()))
                .filter(|seg| !matches!(*seg, "member" | "entry"))
                .unwrap_or(k);
            (k.clone(), if recorded_as_sent(inner) { Value::from(v.as_str()) } else { Value::from(REDACTED) })
        })
        .collect();
    Value::Object(map)
}

/// RFC 3339 UTC with milliseconds for a Unix time in ms.
pub fn rfc3339(unix_ms: u128) -> String {
    let secs = (unix_ms / 1000) as i64;
    let ms = (unix_ms % 1000) as u32;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_identifiers_and_redacts_everything_else() {
        let mut v = serde_json::json!({
            "Name": "/a", "Value": "hunter2", "SecretString": "s3cr3t", "Type": "SecureString",
            "Tags": [{"Key": "k", "Value": "tagvalue"}], "Nested": {"Password": "p"},
            "Password": ["array-secret", {"Deep": "object-secret"}],
            "Environment": {"Variables": {"DB_PASSWORD": "env-secret", "PORT": 5432}},
        });
        redact_json(&mut v);
        let text = v.to_string();
        for secret in
            ["hunter2", "s3cr3t", "\"p\"", "tagvalue", "array-secret", "object-secret", "env-secret", "5432"]
        {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!((v["Name"].as_str(), v["Type"].as_str()), (Some("/a"), Some("SecureString")));
        assert_eq!(v["Tags"][0]["Key"], "k");
    }

    #[test]
    fn query_secrets_under_any_name_are_redacted() {
        // The probe's leaks: RDS, ElastiCache, STS federation, presigned query credentials.
        let p = redact_params(&[
            ("Action".into(), "CreateDBInstance".into()),
            ("DBInstanceIdentifier".into(), "db-1".into()),
            ("MasterUserPassword".into(), "rds-master-pw".into()),
            ("Passwords.member.1".into(), "elasticache-pw".into()),
            ("AuthToken".into(), "elasticache-token".into()),
            ("Tags.member.1.Key".into(), "team".into()),
            ("Tags.member.1.Value".into(), "tag-value".into()),
            ("WebIdentityToken".into(), "eyJhbGciOi.jwt".into()),
            ("SAMLAssertion".into(), "PHNhbWw+".into()),
            ("X-Amz-Credential".into(), "AKIDEXAMPLE/20250101/us-east-1/iam/aws4_request".into()),
            ("X-Amz-Signature".into(), "deadbeef".into()),
            ("AWSAccessKeyId".into(), "AKIDV2".into()),
            ("Signature".into(), "c2lnbmVk".into()),
        ]);
        let text = p.to_string();
        let secrets =
            ["rds-master-pw", "elasticache-pw", "elasticache-token", "tag-value", "eyJhbGciOi", "PHNhbWw"];
        for secret in secrets.into_iter().chain(["AKIDEXAMPLE", "deadbeef", "AKIDV2", "c2lnbmVk"]) {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(p["Action"], "CreateDBInstance");
        assert_eq!(p["DBInstanceIdentifier"], "db-1");
        assert_eq!(p["Tags.member.1.Key"], "team");
    }

    #[test]
    fn formats_time() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
