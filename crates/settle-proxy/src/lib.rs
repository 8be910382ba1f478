//! settle-proxy: sits between any AWS SDK and an AWS emulator (moto) and adds what
//! AWS really does: eventual-consistency lag, throttling, transient errors and
//! latency, recording every request with secrets redacted.
//!
//! ```no_run
//! # async fn demo() -> Result<(), settle_proxy::ProxyError> {
//! let config = settle_proxy::Config::with_lag("1s".parse().unwrap());
//! let proxy = settle_proxy::Proxy::builder().upstream("http://127.0.0.1:5000").config(config).seed(7).start().await?;
//! // point any SDK's endpoint at proxy.endpoint()
//! println!("{:?}", proxy.counters());
//! # Ok(()) }
//! ```
//!
//! See [`rules`] for what each service's writes do, [`control`] for the run-time
//! endpoint, [`config`] for the TOML form.

#![warn(missing_docs)]

pub mod config;
pub mod control;
pub mod lag;
mod pipeline;
pub mod protocol;
pub mod record;
pub mod rules;
mod server;
pub mod throttle;
mod upstream;
pub mod visibility;

pub use config::{Config, ConfigError, Faults, Flags, ServiceConfig};
pub use control::{Counters, WriteVisibility};
pub use lag::{Dist, Lag};
pub use protocol::{Protocol, RequestInfo};
pub use server::{Proxy, ProxyBuilder, ProxyError, ProxyHandle};
pub use throttle::Throttle;
pub use visibility::{Hold, Release};
