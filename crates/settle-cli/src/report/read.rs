//! Stage 1: read proxy recordings (one `settle_proxy::record::RecordLine` JSON object a line) and
//! the library's event logs (one `aws_settle::observe::Event::to_json_line` a line, written by
//! `Telemetry::log_to_file`) into [`Event`]s; the two may be mixed, even in one file. Every
//! problem names the file and, for content, the line.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::kind::{Kind, classify};

/// What went wrong reading a recording.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a recording line.
    #[error("{path}:{line}: not a settle-proxy recording line: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What was wrong with it.
        reason: String,
    },
}

/// The fields of a recording line the report reads (`params`, `resource` and the rest are
/// ignored). Borrowed from the line where JSON allows.
#[derive(Debug, Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    service: Cow<'a, str>,
    #[serde(borrow)]
    operation: Cow<'a, str>,
    status: u16,
    #[serde(borrow)]
    error_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    fault: Option<Cow<'a, str>>,
    total_ms: f64,
}

/// The fields of a library event-log line the report reads. Only `attempt_end` lines become
/// events (one per attempt, as the proxy records one per request); the other kinds are skipped.
#[derive(Debug, Deserialize)]
struct LibraryLine<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow)]
    service: Cow<'a, str>,
    #[serde(borrow)]
    operation: Cow<'a, str>,
    duration_ms: Option<f64>,
    status: Option<u16>,
    #[serde(borrow)]
    error_code: Option<Cow<'a, str>>,
    ok: Option<bool>,
    #[serde(default)]
    read_back: bool,
}

/// A service and operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Operation {
    /// SigV4 service name.
    pub service: String,
    /// Operation name.
    pub operation: String,
}

/// One recorded request, in 24 bytes: a million-line recording is ~24 MB in memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// When it arrived, ms since the Unix epoch.
    pub at_ms: u64,
    /// Index into [`Recording::operations`].
    pub op: u32,
    /// What it was answered with.
    pub kind: Kind,
    /// Time in the proxy, ms.
    pub total_ms: f32,
}

/// Every event read, with the operations they name (each once).
#[derive(Debug, Default)]
pub struct Recording {
    /// The distinct operations, in order of first appearance.
    pub operations: Vec<Operation>,
    /// The events, in file order.
    pub events: Vec<Event>,
    /// `service\noperation` to index in `operations`.
    index: HashMap<String, u32>,
}

impl Recording {
    /// The index of an operation, added on first sight.
    fn op(&mut self, service: &str, operation: &str, key: &mut String) -> u32 {
        key.clear();
        key.push_str(service);
        key.push('\n');
        key.push_str(operation);
        if let Some(&op) = self.index.get(key.as_str()) {
            return op;
        }
        let op = self.operations.len() as u32;
        self.operations.push(Operation { service: service.to_string(), operation: operation.to_string() });
        self.index.insert(key.clone(), op);
        op
    }
}

/// Reads every file, in order; blank lines are skipped.
pub fn read_all(paths: &[PathBuf]) -> Result<Recording, ReadError> {
    let mut recording = Recording::default();
    for path in paths {
        read_file(path, &mut recording)?;
    }
    Ok(recording)
}

fn read_file(path: &Path, recording: &mut Recording) -> Result<(), ReadError> {
    let io = |source| ReadError::Io { path: path.to_path_buf(), source };
    let mut lines = BufReader::new(std::fs::File::open(path).map_err(io)?);
    let (mut text, mut key) = (String::new(), String::new());
    for number in 1.. {
        text.clear();
        let malformed =
            |reason: String| ReadError::Malformed { path: path.to_path_buf(), line: number, reason };
        match lines.read_line(&mut text) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(malformed("not UTF-8".into()));
            }
            Err(e) => return Err(io(e)),
        }
        if text.trim().is_empty() {
            continue;
        }
        // An event-log line names its kind; a recording line never has that key.
        if text.contains("\"event\":")
            && let Ok(line) = serde_json::from_str::<LibraryLine>(&text)
        {
            if let Some(event) = library_event(&line, recording, &mut key).map_err(malformed)? {
                recording.events.push(event);
            }
            continue;
        }
        let line: Line = serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        let at_ms = arrival(&line).map_err(malformed)?;
        let op = recording.op(&line.service, &line.operation, &mut key);
        let kind = classify(line.fault.as_deref(), line.error_code.as_deref(), line.status);
        recording.events.push(Event { at_ms, op, kind, total_ms: line.total_ms as f32 });
    }
    Ok(())
}

/// The line's arrival time, ms since the Unix epoch, after checking its duration.
fn arrival(line: &Line) -> Result<u64, String> {
    let at_ms = unix_ms(&line.time)?;
    duration("total_ms", line.total_ms)?;
    Ok(at_ms)
}

/// An RFC 3339 time as ms since the Unix epoch.
fn unix_ms(time: &str) -> Result<u64, String> {
    let at = humantime::parse_rfc3339_weak(time)
        .map_err(|e| format!("`time` {time:?} is not an RFC 3339 time: {e}"))?;
    Ok(at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("`time` {time:?} is before 1970"))?
        .as_millis() as u64)
}

fn duration(field: &str, ms: f64) -> Result<f64, String> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(format!("`{field}` {ms} is not a duration"));
    }
    Ok(ms)
}

/// The event of a library `attempt_end` line (`None` for the other kinds): it began `duration_ms`
/// before its `time`; a read-back's operation is named `Operation (read-back)`, apart from the
/// program's own calls as in the library's report.
fn library_event(
    line: &LibraryLine,
    recording: &mut Recording,
    key: &mut String,
) -> Result<Option<Event>, String> {
    let end_ms = unix_ms(&line.time)?;
    if line.event != "attempt_end" {
        return Ok(None);
    }
    let total_ms = duration("duration_ms", line.duration_ms.unwrap_or(0.0))?;
    let operation = match line.read_back {
        true => Cow::Owned(format!("{} (read-back)", line.operation)),
        false => Cow::Borrowed(line.operation.as_ref()),
    };
    let op = recording.op(&line.service, &operation, key);
    // No response (a transport failure) is status 0: an error unless the attempt said ok.
    let status = line.status.unwrap_or(if line.ok == Some(false) { 599 } else { 200 });
    let status = if line.ok == Some(false) && status < 400 { 599 } else { status };
    let kind = classify(None, line.error_code.as_deref(), status);
    Ok(Some(Event { at_ms: end_ms.saturating_sub(total_ms as u64), op, kind, total_ms: total_ms as f32 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("settle-report-{}-{name}.jsonl", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    const GOOD: &str = r#"{"time":"2026-11-25T14:00:00.250Z","service":"ssm","operation":"GetParameter","resource":"ssm-parameter:/a","method":"POST","status":400,"error_code":"ThrottlingException","fault":"throttle","upstream_ms":0.0,"total_ms":0.4}"#;

    #[test]
    fn a_recording_line_becomes_an_event() {
        let path = write("good", &format!("{GOOD}\n\n"));
        let recording = read_all(&[path.clone(), path.clone()]).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(recording.events.len(), 2, "the blank lines are skipped");
        let e = recording.events[0];
        assert_eq!((e.at_ms, e.op, e.kind, e.total_ms), (1_795_615_200_250, 0, Kind::Throttled, 0.4));
        assert_eq!(recording.events[1], e);
        let op = &recording.operations[0];
        assert_eq!((op.service.as_str(), op.operation.as_str()), ("ssm", "GetParameter"));
        assert_eq!(recording.operations.len(), 1, "each operation once");
    }

    #[test]
    fn library_attempts_become_events_and_other_kinds_are_skipped() {
        let lines = [
            r#"{"time":"2026-11-25T14:00:00.1Z","event":"call_start","call_id":1,"service":"ssm","operation":"GetParameter","attempt":0,"read_back":false}"#,
            r#"{"time":"2026-11-25T14:00:00.3Z","event":"attempt_end","call_id":1,"service":"ssm","operation":"GetParameter","attempt":1,"read_back":false,"duration_ms":50.0,"status":400,"error_code":"ThrottlingException","ok":false}"#,
            r#"{"time":"2026-11-25T14:00:00.3Z","event":"retry","call_id":1,"service":"ssm","operation":"GetParameter","attempt":1,"read_back":false,"backoff_ms":40.0}"#,
            r#"{"time":"2026-11-25T14:00:00.5Z","event":"attempt_end","call_id":1,"service":"ssm","operation":"GetParameter","attempt":2,"read_back":true,"duration_ms":20.0,"ok":false}"#,
            r#"{"time":"2026-11-25T14:00:00.6Z","event":"attempt_end","call_id":2,"service":"ssm","operation":"GetParameter","attempt":1,"read_back":false,"duration_ms":10.0,"status":200,"ok":true}"#,
            GOOD,
        ];
        let path = write("library", &lines.join("\n"));
        let recording = read_all(std::slice::from_ref(&path)).unwrap();
        std::fs::remove_file(&path).unwrap();
        let kinds: Vec<_> = recording.events.iter().map(|e| (e.op, e.kind)).collect();
        assert_eq!(
            kinds,
            [(0, Kind::Throttled), (1, Kind::OtherError), (0, Kind::Ok), (0, Kind::Throttled)],
            "attempts only, mixed with a recording line"
        );
        assert_eq!(recording.events[0].at_ms, 1_795_615_200_250, "the attempt began 50 ms before its end");
        assert_eq!(recording.operations[1].operation, "GetParameter (read-back)");
        let bad = write(
            "library-bad",
            &lines[1].replace("\"time\":\"2026-11-25T14:00:00.3Z\"", "\"time\":\"soon\""),
        );
        let err = read_all(std::slice::from_ref(&bad)).unwrap_err();
        std::fs::remove_file(&bad).unwrap();
        assert!(err.to_string().contains("\"soon\""), "{err}");
    }

    #[test]
    fn a_malformed_line_names_its_file_and_line() {
        let path = write("bad", &format!("{GOOD}\n{{\"time\":\"x\"}}\n"));
        let err = read_all(std::slice::from_ref(&path)).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        let text = err.to_string();
        assert!(matches!(err, ReadError::Malformed { line: 2, .. }), "{err:?}");
        assert!(text.starts_with(&format!("{}:2: ", path.display())), "{text}");
        assert!(text.contains("missing field"), "says what is wrong: {text}");
    }

    #[test]
    fn a_bad_time_is_malformed_not_a_panic() {
        let path = write("time", &GOOD.replace("2026-11-25T14:00:00.250Z", "yesterday"));
        let err = read_all(std::slice::from_ref(&path)).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(err, ReadError::Malformed { line: 1, .. }), "{err:?}");
        assert!(err.to_string().contains("\"yesterday\""), "{err}");
    }

    #[test]
    fn a_line_that_is_not_utf8_is_malformed() {
        let path = write("utf8", "");
        std::fs::write(&path, [GOOD.as_bytes(), b"\n\xff\xfe\n"].concat()).unwrap();
        let err = read_all(std::slice::from_ref(&path)).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(err, ReadError::Malformed { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn a_missing_file_names_the_file() {
        let path = PathBuf::from("/nonexistent/settle-recording.jsonl");
        let err = read_all(std::slice::from_ref(&path)).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
        assert!(err.to_string().starts_with("/nonexistent/settle-recording.jsonl: "), "{err}");
    }
}
