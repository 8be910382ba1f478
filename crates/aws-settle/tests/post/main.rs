//! Post-conditions through the real `aws-sdk-*` clients against moto, straight or through
//! settle-proxy with eventual-consistency lag.
//!
//! Each rule's test shows the pitfall and the cure on two resources: the naive sequence (write,
//! then an immediate dependent read, on a plain client) sees the old state while the proxy's lag
//! lasts; the same write on an attached client with `.settled()` is readable at once afterwards.

mod batch;
mod coverage;
mod dynamodb;
mod iam;
mod plumbing;
mod s3;
mod scenario;
mod secretsmanager;
mod ssm;
mod tagging;

use aws_settle::post::{Enforcer, attach};

/// An `SdkConfig` pointed at this process's moto server, straight (no proxy).
pub fn moto_config() -> aws_types::SdkConfig {
    settle_testbed::sdk_config(&settle_testbed::shared_moto().endpoint())
}

/// The lag of the rule tests: within the 0.5–3 s of AWS's typical propagation, short enough for
/// a quick suite.
pub const LAG: &str = "700ms..1200ms";

/// A settle-proxy with lag in front of moto, and clients through it. Stopped when dropped.
pub struct Lagged {
    pub proxy: settle_proxy::ProxyHandle,
    pub config: aws_types::SdkConfig,
    pub enforcer: Enforcer,
}

impl Lagged {
    pub fn new(lag: &str) -> Self {
        let proxy =
            settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::with_lag(lag.parse().unwrap()));
        let config = settle_testbed::sdk_config(&proxy.endpoint());
        Lagged { proxy, config, enforcer: Enforcer::new() }
    }

    /// A plain client and the same client with the enforcer attached.
    pub fn clients<C: aws_settle::post::Attach + Clone>(
        &self,
        new: impl Fn(&aws_types::SdkConfig) -> C,
    ) -> (C, C) {
        let plain = new(&self.config);
        (plain.clone(), attach(plain, &self.enforcer))
    }

    /// Asserts every check the enforcer ran settled and none was left pending.
    pub fn assert_all_settled(&self, at_least: u64) {
        let stats = self.enforcer.stats();
        assert!(stats.checks_passed >= at_least, "expected ≥ {at_least} settled checks: {stats:?}");
        assert_eq!((stats.checks_failed, stats.pending), (0, 0), "{stats:?}");
        assert!(stats.unchecked.is_empty(), "every write of the test has a rule: {stats:?}");
        assert!(self.proxy.counters().served_from_snapshot > 0, "the proxy's lag was exercised");
    }
}

impl Drop for Lagged {
    fn drop(&mut self) {
        self.proxy.shutdown();
    }
}

/// A unique resource name.
pub fn unique(prefix: &str) -> String {
    settle_testbed::unique_name(prefix)
}
