//! A CloudFormation-style handler for a small stack, as call chains: create an execution role,
//! attach its policy, create a Lambda function that uses it, and map an SQS queue to the function.
//!
//! No step retries by hand: the Lambda client is attached to a
//! [`Propagation`](aws_settle::propagate::Propagation), so CreateFunction waits until Lambda can
//! assume the new role; the chain retries throttling and transient errors. The first invocation
//! returns IN_PROGRESS after the IAM steps (a callback, as CloudFormation handlers do); the next
//! one, resumed from the memo, creates the function and the mapping.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_settle::chain::{Chain, Memo, ProgressEvent};
use serde::{Deserialize, Serialize};

/// The trust policy of a Lambda execution role.
pub const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// The managed policy a function needs to read an SQS queue.
pub const QUEUE_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole";
/// The smallest zip archive (an empty one): nothing is invoked.
const EMPTY_ZIP: &[u8] = &[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// The resource model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stack {
    pub role: String,
    pub function: String,
    pub queue_arn: String,
    pub role_arn: Option<String>,
    pub mapping: Option<String>,
}

/// The clients the handler calls (`lambda` attached to a `Propagation`).
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
}

/// One invocation of the handler.
pub async fn handler(clients: &Clients, model: Stack, memo: &mut Memo) -> ProgressEvent<Stack> {
    let Clients { iam, lambda } = clients;
    let role = Chain::new(memo)
        .initiate("create-role", model)
        .translate(|m| m.role.clone())
        .call(|name| iam.create_role().role_name(name).assume_role_policy_document(TRUST).send())
        .record(|out| out.role().map(|r| r.arn().to_string()))
        .done(|m, arn| {
            ProgressEvent::progress(Stack { role_arn: arn.or(m.role_arn.clone()), ..m }, Memo::default(), 0)
        })
        .await;
    let policy = role
        .then(|m| {
            Chain::new(memo)
                .initiate("attach-policy", m)
                .translate(|m| m.role.clone())
                .call(|name| iam.attach_role_policy().role_name(name).policy_arn(QUEUE_POLICY).send())
                .callback_in(std::time::Duration::from_secs(1)) // the IAM steps are made: come back in 1 s
                .progress()
        })
        .await;
    if !policy.can_continue() {
        return policy; // a callback (IN_PROGRESS) or a failure
    }
    policy
        .then(|m| {
            Chain::new(memo)
                .initiate("create-function", m)
                .translate(|m| (m.function.clone(), m.role_arn.clone().unwrap_or_default()))
                .call(|(name, role)| {
                    let code = FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP)).build();
                    let create = lambda.create_function().function_name(name).role(role);
                    create.runtime(Runtime::Python312).handler("index.handler").code(code).send()
                })
                .progress()
        })
        .await
        .then(|m| {
            Chain::new(memo)
                .initiate("create-mapping", m)
                .translate(|m| (m.function.clone(), m.queue_arn.clone()))
                .call(|(function, queue)| {
                    lambda
                        .create_event_source_mapping()
                        .function_name(function)
                        .event_source_arn(queue)
                        .send()
                })
                .record(|out| out.uuid().map(str::to_string))
                .done(|m, uuid| ProgressEvent::success(Stack { mapping: uuid, ..m }))
        })
        .await
}
