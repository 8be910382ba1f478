//! Stage 1: read proxy recordings (one `settle_proxy::record::RecordLine` JSON object a line)
//! into [`Event`]s. Every problem names the file and, for content, the line.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Deserialize;

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

/// The fields of a recording line the report reads (`params` and `resource` are ignored).
#[derive(Debug, Deserialize)]
struct Line {
    time: String,
    service: String,
    operation: String,
    status: u16,
    error_code: Option<String>,
    fault: Option<String>,
    total_ms: f64,
}

/// One recorded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it arrived, ms since the Unix epoch.
    pub at_ms: u64,
    /// SigV4 service name.
    pub service: String,
    /// Operation.
    pub operation: String,
    /// HTTP status answered.
    pub status: u16,
    /// Error code answered.
    pub error_code: Option<String>,
    /// Fault the proxy injected.
    pub fault: Option<String>,
    /// Time in the proxy, ms.
    pub total_ms: f64,
}

/// Reads every file, in order; blank lines are skipped.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Event>, ReadError> {
    let mut events = Vec::new();
    for path in paths {
        read_file(path, &mut events)?;
    }
    Ok(events)
}

fn read_file(path: &Path, events: &mut Vec<Event>) -> Result<(), ReadError> {
    let io = |source| ReadError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    for (index, text) in BufReader::new(file).lines().enumerate() {
        let text = text.map_err(io)?;
        if text.trim().is_empty() {
            continue;
        }
        let malformed =
            |reason: String| ReadError::Malformed { path: path.to_path_buf(), line: index + 1, reason };
        let line: Line = serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        events.push(event(line).map_err(malformed)?);
    }
    Ok(())
}

fn event(line: Line) -> Result<Event, String> {
    let at = humantime::parse_rfc3339_weak(&line.time)
        .map_err(|e| format!("`time` {:?} is not an RFC 3339 time: {e}", line.time))?;
    let at_ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("`time` {:?} is before 1970", line.time))?
        .as_millis() as u64;
    if !line.total_ms.is_finite() || line.total_ms < 0.0 {
        return Err(format!("`total_ms` {} is not a duration", line.total_ms));
    }
    Ok(Event {
        at_ms,
        service: line.service,
        operation: line.operation,
        status: line.status,
        error_code: line.error_code,
        fault: line.fault,
        total_ms: line.total_ms,
    })
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
        let events = read_all(std::slice::from_ref(&path)).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(events.len(), 1, "the blank line is skipped");
        let e = &events[0];
        assert_eq!(e.at_ms, 1_795_615_200_250);
        assert_eq!((e.service.as_str(), e.operation.as_str(), e.status), ("ssm", "GetParameter", 400));
        assert_eq!(e.fault.as_deref(), Some("throttle"));
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
    fn a_missing_file_names_the_file() {
        let path = PathBuf::from("/nonexistent/settle-recording.jsonl");
        let err = read_all(std::slice::from_ref(&path)).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
        assert!(err.to_string().starts_with("/nonexistent/settle-recording.jsonl: "), "{err}");
    }
}
