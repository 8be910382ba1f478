//! Post-conditions through the real `aws-sdk-*` clients against moto, straight or through
//! settle-proxy with eventual-consistency lag.
//!
//! Each rule's test shows the pitfall and the cure on two resources, through a proxy that holds
//! writes invisible until released: the naive sequence (write, then a dependent read, on a plain
//! client) sees the old state; the same write on an attached client with `.settled()` returns only
//! after the release and is readable afterwards. No assertion depends on time.

mod batch;
mod bench_suite;
mod coverage;
mod defects;
mod dynamodb;
mod ec2;
mod failclosed;
mod iam;
mod kms;
mod logs;
mod plumbing;
mod propagate;
mod readme;
mod route53;
mod rules;
mod s3;
mod scenario;
mod schedule;
mod secretsmanager;
mod sns;
mod sqs;
mod ssm;
mod tagging;

use aws_settle::post::{Enforcer, SettleOptions, attach};

/// A settle-proxy with lag in front of moto, and clients through it. Stopped when dropped.
pub struct Lagged {
    pub proxy: settle_proxy::ProxyHandle,
    pub config: aws_types::SdkConfig,
    pub enforcer: Enforcer,
}

impl Lagged {
    pub fn new(lag: &str) -> Self {
        let proxy =
            settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::with_lag(lag.parse().unwrap()));
        let config = settle_emulator::sdk_config(&proxy.endpoint());
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
}

impl Drop for Lagged {
    fn drop(&mut self) {
        self.proxy.shutdown();
    }
}

/// A unique resource name.
pub fn unique(prefix: &str) -> String {
    settle_emulator::unique_name(prefix)
}

/// A settle-proxy that holds every write invisible until released, and clients through it:
/// "not visible yet" is then a fact, not a race with a clock. Stopped when dropped.
pub struct Held {
    pub proxy: settle_proxy::ProxyHandle,
    pub config: aws_types::SdkConfig,
    pub enforcer: Enforcer,
}

impl Default for Held {
    fn default() -> Self {
        Self::with_enforcer(Enforcer::new())
    }
}

impl Held {
    pub fn new() -> Self {
        Self::default()
    }

    /// As [`Held::new`], with read-backs 5 to 20 ms apart: a rule that needs several matching
    /// reads in a row (SQS attributes 6, KMS 5) costs that many polls, not seconds of backoff.
    pub fn polling_fast() -> Self {
        let fast = SettleOptions::new()
            .with_delays(std::time::Duration::from_millis(5), std::time::Duration::from_millis(20));
        Self::with_enforcer(Enforcer::builder().with_options(fast).build())
    }

    pub fn with_enforcer(enforcer: Enforcer) -> Self {
        let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::held());
        let config = settle_emulator::sdk_config(&proxy.endpoint());
        Held { proxy, config, enforcer }
    }

    /// A proxy with `config` (holding, plus other faults), the default enforcer.
    pub fn with_proxy_config(config: settle_proxy::Config) -> Self {
        let proxy = settle_emulator::proxy_in_front_of_moto(config);
        let config = settle_emulator::sdk_config(&proxy.endpoint());
        Held { proxy, config, enforcer: Enforcer::new() }
    }

    /// Releases every held write once the proxy has answered one more read from a pre-write
    /// state than now ([`blocked_reads`]: a read-back saw the write invisible); resolves to how
    /// many it released.
    pub fn release_after_a_blocked_read(&self) -> tokio::task::JoinHandle<usize> {
        self.release_after_blocked_reads(1)
    }

    /// As [`release_after_a_blocked_read`](Self::release_after_a_blocked_read), after `reads`
    /// blocked reads.
    pub fn release_after_blocked_reads(&self, reads: u64) -> tokio::task::JoinHandle<usize> {
        let proxy = self.proxy.clone();
        let before = blocked_reads(&proxy);
        tokio::spawn(async move {
            while blocked_reads(&proxy) < before + reads {
                // Waits for a condition inside the proxy's server (another task), not for time:
                // nothing here asserts on how long it takes.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            proxy.release_all()
        })
    }
}

/// Reads the proxy answered from a pre-write state: from a snapshot, with a rewritten status
/// (DynamoDB CREATING) or from the old tagging view.
pub fn blocked_reads(proxy: &settle_proxy::ProxyHandle) -> u64 {
    let c = proxy.counters();
    c.served_from_snapshot + c.status_rewrites + c.tagging_view_rewrites
}

impl Drop for Held {
    fn drop(&mut self) {
        self.proxy.shutdown();
    }
}

/// A path-style S3 client (moto and the proxy serve buckets by path).
pub fn s3(config: &aws_types::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

/// A bucket named from `prefix` with an object `src` in it, made straight on moto (no proxy,
/// nothing held).
pub async fn bucket_with_object(prefix: &str) -> String {
    let bucket = unique(prefix).to_lowercase();
    let direct = s3(&settle_emulator::moto_sdk_config());
    direct.create_bucket().bucket(&bucket).send().await.unwrap();
    direct
        .put_object()
        .bucket(&bucket)
        .key("src")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    bucket
}

/// Captures `tracing` events at WARN and above on this thread while the guard lives.
pub fn capture_warnings() -> (settle_emulator::LogCapture, tracing::subscriber::DefaultGuard) {
    capture_warnings_at(tracing::Level::WARN)
}

/// Captures `tracing` events at `level` and above on this thread while the guard lives.
pub fn capture_warnings_at(
    level: tracing::Level,
) -> (settle_emulator::LogCapture, tracing::subscriber::DefaultGuard) {
    let captured = settle_emulator::LogCapture::default();
    let guard = tracing::subscriber::set_default(captured.subscriber(level));
    (captured, guard)
}
