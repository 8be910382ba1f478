//! A `tracing` capture for tests that read what was logged (e.g. to prove a secret never is).

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Everything a `tracing` subscriber writes, kept in memory. Clones share the text.
///
/// ```
/// let logs = settle_testbed::LogCapture::default();
/// let _guard = tracing::subscriber::set_default(logs.subscriber(tracing::Level::DEBUG));
/// tracing::debug!(answer = 42, "said");
/// assert!(logs.text().contains("answer=42"));
/// ```
#[derive(Clone, Default, Debug)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// A plain-text subscriber (no colours) at `level` and below, for every target, writing here.
    pub fn subscriber(&self, level: tracing::Level) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
    }

    /// What was written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
