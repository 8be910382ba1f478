//! Real round-trips through the real `aws-sdk-*` clients against moto.
//!
//! One module per service feature; every test talks HTTP to the shared moto
//! server of this process (see `settle-testbed`).

mod secretsmanager;
mod ssm;
