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
//! Deterministic tests hold writes invisible until released ([`Config::held`]):
//!
//! ```no_run
//! # async fn held(ssm: aws_sdk_ssm::Client, proxy: settle_proxy::ProxyHandle) {
//! ssm.put_parameter().name("/app/db").value("v1").r#type(aws_sdk_ssm::types::ParameterType::String).send().await.unwrap();
//! assert!(ssm.get_parameter().name("/app/db").send().await.is_err());   // held: ParameterNotFound, every time
//! proxy.release_resource("ssm-parameter:/app/db");                      // or release_operation("PutParameter"), release_all()
//! assert!(ssm.get_parameter().name("/app/db").send().await.is_ok());    // visible at once
//! # }
//! ```
//!
//! [`mitm`] intercepts HTTPS (`CONNECT`) for SDKs that keep their real endpoints.
//!
//! See [`rules`] for what each service's writes do, [`control`] for the run-time
//! endpoint, [`config`] for the TOML form.

#![warn(missing_docs)]

pub mod config;
mod connection;
pub mod control;
pub mod lag;
pub mod mitm;
mod pipeline;
pub mod protocol;
pub mod record;
pub mod rules;
mod server;
pub mod throttle;
mod upstream;
pub mod visibility;

pub use config::{Config, ConfigError, Faults, Flags, ServiceConfig};
pub use connection::{Limits, TOKEN_HEADER};
pub use control::{Counters, WriteVisibility};
pub use lag::{Dist, Lag};
pub use mitm::{MitmConfig, MitmError};
pub use protocol::{Protocol, RequestInfo};
pub use server::{Proxy, ProxyBuilder, ProxyError, ProxyHandle};
pub use throttle::Throttle;
pub use visibility::{Flap, Hold, Release};
