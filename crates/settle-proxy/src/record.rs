//! The recording: one JSON line per request, streamed to a file by a writer thread
//! through a bounded channel (lines are dropped and counted, never buffered without
//! bound, if the disk cannot keep up). Request bodies and headers are never written;
//! with `record_params` the request's parameters are, with secret material redacted.

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

/// Field names whose values are secret material, in any protocol.
const SECRET_FIELDS: &[&str] = &[
    "secretstring",
    "secretbinary",
    "value",
    "password",
    "newpassword",
    "oldpassword",
    "secretaccesskey",
    "sessiontoken",
    "privatekey",
    "plaintext",
    "ciphertextblob",
    "authorization",
    "x-amz-security-token",
    "clientsecret",
    "token",
    // STS federation and MFA: the bearer credentials of AssumeRoleWith{WebIdentity,SAML}.
    "webidentitytoken",
    "samlassertion",
    "tokencode",
    "authenticationcode1",
    "authenticationcode2",
    // Query-string (presigned) signing: SigV4 and SigV2.
    "x-amz-signature",
    "x-amz-credential",
    "signature",
    "awsaccesskeyid",
];

fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    // Query parameters are flattened: `Tags.member.1.Value` is a tag value, not a secret,
    // but `Credentials.SecretAccessKey` is.
    let last = lower.rsplit('.').next().unwrap_or(&lower);
    (SECRET_FIELDS.contains(&last) && !lower.starts_with("tags.")) || lower.contains("secretaccesskey")
}

/// Replaces secret values in a JSON document (recursively) with `"<redacted>"`.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret(k) && !v.is_object() && !v.is_array() {
                    *v = Value::from("<redacted>");
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// Query-protocol parameters as a JSON object, secrets redacted.
pub fn redact_params(params: &[(String, String)]) -> Value {
    let map = params
        .iter()
        .map(|(k, v)| {
            (k.clone(), if is_secret(k) { Value::from("<redacted>") } else { Value::from(v.as_str()) })
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
    fn redacts_secret_fields() {
        let mut v = serde_json::json!({
            "Name": "/a", "Value": "hunter2", "SecretString": "s3cr3t",
            "Tags": [{"Key": "k", "Value": "tagvalue"}], "Nested": {"Password": "p"}
        });
        redact_json(&mut v);
        let text = v.to_string();
        assert!(!text.contains("hunter2") && !text.contains("s3cr3t") && !text.contains("\"p\""));
        assert!(text.contains("/a"));
        let p = redact_params(&[
            ("Password".into(), "pw".into()),
            ("Tags.member.1.Value".into(), "visible".into()),
            ("UserName".into(), "bob".into()),
        ]);
        assert_eq!(p["Password"], "<redacted>");
        assert_eq!(p["Tags.member.1.Value"], "visible");
    }

    #[test]
    fn redacts_federation_tokens_and_presigned_query_credentials() {
        let p = redact_params(&[
            ("Action".into(), "AssumeRoleWithWebIdentity".into()),
            ("WebIdentityToken".into(), "eyJhbGciOi.jwt".into()),
            ("SAMLAssertion".into(), "PHNhbWw+".into()),
            ("TokenCode".into(), "123456".into()),
            ("X-Amz-Credential".into(), "AKIDEXAMPLE/20250101/us-east-1/iam/aws4_request".into()),
            ("X-Amz-Signature".into(), "deadbeef".into()),
            ("AWSAccessKeyId".into(), "AKIDV2".into()),
            ("Signature".into(), "c2lnbmVk".into()),
        ]);
        let text = p.to_string();
        for secret in ["eyJhbGciOi", "PHNhbWw", "123456", "AKIDEXAMPLE", "deadbeef", "AKIDV2", "c2lnbmVk"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(p["Action"], "AssumeRoleWithWebIdentity");
    }

    #[test]
    fn formats_time() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
