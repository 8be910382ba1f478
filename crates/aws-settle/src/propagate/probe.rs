//! Settling a producer for a named consumer, where a cheap probe without side effects exists.
//!
//! | consumer | probe | when it applies |
//! |---|---|---|
//! | the caller itself (`sts:AssumeRole`) | [`Propagation::until_assumable`] | a role whose trust policy names the caller's account or principal |
//! | Lambda, ECS, EKS, Glue, CodeBuild, Firehose, Scheduler | none | the role trusts a *service* (`lambda.amazonaws.com`): only that service can assume it, so nothing the caller can call tells when it sees the role; retry the consumer ([`attach`](super::attach)) |
//! | EC2 (instance profile) | none | `RunInstances` with `DryRun` checks the caller's permissions, not the profile |
//! | KMS, SNS, SQS, Secrets Manager policies | none | validating a policy means writing it; retry the write |

use std::time::Duration;

use super::{Propagation, Waited};
use crate::wait::{WaitError, Waiter};

/// How long a new role may take to become assumable (Terraform's IAM `propagationTimeout`).
pub const ASSUMABLE_BUDGET: Duration = Duration::from_secs(120);

/// The session name of the probe's sessions (visible in CloudTrail as such).
const SESSION: &str = "aws-settle-probe";

impl Propagation {
    /// Waits until the caller can assume `role_arn` with `sts:AssumeRole`, retrying while STS
    /// answers `AccessDenied` (the role is new to STS), up to [`ASSUMABLE_BUDGET`], with this
    /// propagation's delays. Each probe opens a 15-minute session whose credentials are dropped
    /// at once, never logged or kept. The wait is recorded in [`waits`](Self::waits).
    ///
    /// Only for a role that trusts the caller: for a role that trusts a service no probe exists
    /// (see the [module table](self)). Any error other than `AccessDenied` ends the wait at once.
    pub async fn until_assumable(
        &self,
        sts: &aws_sdk_sts::Client,
        role_arn: &str,
    ) -> Result<Waited, WaitError> {
        let waiter = Waiter::<()>::new(self.delays.clone().max_wait(ASSUMABLE_BUDGET))
            .named("RoleAssumable")
            .operation("AssumeRole")
            .success_when(|_| true)
            .retry_on_error_code("AccessDenied");
        let started = tokio::time::Instant::now();
        let result = waiter
            .wait(|| async {
                let call =
                    sts.assume_role().role_arn(role_arn).role_session_name(SESSION).duration_seconds(900);
                call.send().await.map(drop) // the credentials end here
            })
            .await;
        let (attempts, succeeded) = match &result {
            Ok(success) => (success.attempts, true),
            Err(e) => (e.attempts(), false),
        };
        let waited = Waited {
            service: "sts",
            operation: "AssumeRole".to_string(),
            waits_for: "IAM role",
            retries: attempts.saturating_sub(1),
            waited: started.elapsed(),
            succeeded,
        };
        self.record(waited.clone());
        result.map(|_| waited)
    }
}
