//! The built-in propagation signatures: the consumer errors AWS answers while a principal (an IAM
//! role, an instance profile, a key policy's principal) is new to the consumer service.
//!
//! Taken from the retries Terraform's AWS provider hand-writes at each of these call sites
//! (`internal/service/<service>/…`: error code + message substring, and its propagation timeout,
//! 2 minutes unless noted). An empty message matches any message of that code.

use std::time::Duration;

use super::Signature;

/// Terraform's `propagationTimeout` (IAM changes reach other services within it).
const IAM: Duration = Duration::from_secs(120);
/// Terraform's `ec2PropagationTimeout`-style budget for Lambda in a VPC (ENI permissions).
const LAMBDA_VPC: Duration = Duration::from_secs(300);

const fn row(
    service: &'static str,
    operation: &'static str,
    code: &'static str,
    message: &'static str,
    waits_for: &'static str,
    budget: Duration,
) -> Signature {
    Signature { service, operation, code, message, waits_for, budget }
}

const ROLE: &str = "IAM role";
const LAMBDA_ASSUME: &str = "The role defined for the function cannot be assumed by Lambda";
const LAMBDA_PERMISSIONS: &str = "The provided execution role does not have permissions";

/// The built-in rows.
pub(super) const SIGNATURES: &[Signature] = &[
    row("lambda", "CreateFunction", "InvalidParameterValueException", LAMBDA_ASSUME, ROLE, IAM),
    row(
        "lambda",
        "CreateFunction",
        "InvalidParameterValueException",
        LAMBDA_PERMISSIONS,
        "IAM role policy",
        LAMBDA_VPC,
    ),
    row("lambda", "UpdateFunctionConfiguration", "InvalidParameterValueException", LAMBDA_ASSUME, ROLE, IAM),
    row(
        "lambda",
        "UpdateFunctionConfiguration",
        "InvalidParameterValueException",
        LAMBDA_PERMISSIONS,
        "IAM role policy",
        LAMBDA_VPC,
    ),
    row(
        "lambda",
        "CreateEventSourceMapping",
        "InvalidParameterValueException",
        LAMBDA_PERMISSIONS,
        "IAM role policy",
        LAMBDA_VPC,
    ),
    row(
        "ec2",
        "RunInstances",
        "InvalidParameterValue",
        "Invalid IAM Instance Profile",
        "IAM instance profile",
        IAM,
    ),
    row(
        "ecs",
        "CreateService",
        "InvalidParameterException",
        "verify that the ECS service role being passed has the proper permissions",
        ROLE,
        IAM,
    ),
    row(
        "eks",
        "CreateCluster",
        "InvalidParameterException",
        "Role could not be assumed because the trusted entity is not correct",
        ROLE,
        IAM,
    ),
    row(
        "firehose",
        "CreateDeliveryStream",
        "InvalidArgumentException",
        "is unable to assume role",
        ROLE,
        IAM,
    ),
    row(
        "codebuild",
        "CreateProject",
        "InvalidInputException",
        "CodeBuild is not authorized to perform",
        ROLE,
        IAM,
    ),
    row(
        "glue",
        "CreateCrawler",
        "InvalidInputException",
        "Service is unable to assume provided role",
        ROLE,
        IAM,
    ),
    row(
        "scheduler",
        "CreateSchedule",
        "ValidationException",
        "The execution role you provide must allow AWS EventBridge Scheduler to assume the role",
        ROLE,
        IAM,
    ),
    row("sns", "CreateTopic", "InvalidParameter", "Policy Error: PrincipalNotFound", "policy principal", IAM),
    row(
        "sns",
        "SetTopicAttributes",
        "InvalidParameter",
        "Policy Error: PrincipalNotFound",
        "policy principal",
        IAM,
    ),
    row(
        "sqs",
        "CreateQueue",
        "InvalidAttributeValue",
        "Invalid value for the parameter Policy",
        "policy principal",
        IAM,
    ),
    row(
        "sqs",
        "SetQueueAttributes",
        "InvalidAttributeValue",
        "Invalid value for the parameter Policy",
        "policy principal",
        IAM,
    ),
    row(
        "secretsmanager",
        "PutResourcePolicy",
        "MalformedPolicyDocumentException",
        "This resource policy contains an unsupported principal",
        "policy principal",
        IAM,
    ),
    row(
        "logs",
        "PutSubscriptionFilter",
        "InvalidParameterException",
        "Could not deliver test message to specified",
        "destination permission",
        IAM,
    ),
    row("kms", "CreateKey", "MalformedPolicyDocumentException", "", "policy principal", IAM),
    row("kms", "PutKeyPolicy", "MalformedPolicyDocumentException", "", "policy principal", IAM),
];
