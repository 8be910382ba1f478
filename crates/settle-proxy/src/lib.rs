//! settle-proxy: sits between any AWS SDK and an AWS emulator (moto) and adds what
//! AWS really does: eventual-consistency lag, throttling, transient errors and
//! latency, recording every request with secrets redacted.
//!
//! Not implemented yet (issue 3).

#![warn(missing_docs)]
