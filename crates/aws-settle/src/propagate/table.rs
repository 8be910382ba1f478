//! The built-in propagation signatures: the consumer errors AWS answers while a principal (an IAM
//! role, an instance profile, a key policy's principal) is new to the consumer service.
//!
//! Each row is one error code + message substring that Terraform's AWS provider
//! (hashicorp/terraform-provider-aws) retries at that call site, with its timeout as the budget;
//! the comment beside each group names the file. An empty message matches any message of that
//! code (Terraform retries the code alone there). Rows marked *not a Terraform site* are consumers
//! settle-proxy simulates that Terraform does not retry (it never sends that field to that call).

use std::time::Duration;

use super::Signature;

/// Terraform's IAM `propagationTimeout` / `iamPropagationTimeout` (2 minutes), in most packages.
const IAM: Duration = Duration::from_secs(120);
/// `internal/service/lambda/consts.go`: `lambdaPropagationTimeout = 15 * time.Minute`.
const LAMBDA: Duration = Duration::from_secs(900);
/// `internal/service/ecs/service.go`: `propagationTimeout + serviceCreateTimeout` (2 + 2 minutes).
const ECS: Duration = Duration::from_secs(240);
/// `internal/service/kms/wait.go`: `propagationTimeout = 3 * time.Minute` (KMS's own).
const KMS: Duration = Duration::from_secs(180);
/// `internal/service/logs/subscription_filter.go`: `tfresource.RetryWhen(ctx, 5*time.Minute, …)`.
const LOGS: Duration = Duration::from_secs(300);
/// `internal/service/sqs/attribute_funcs.go`: `d.Timeout(schema.TimeoutCreate)/2`, the SDK's
/// default create timeout (20 minutes) halved.
const SQS: Duration = Duration::from_secs(600);

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
const ROLE_POLICY: &str = "IAM role policy";
const PRINCIPAL: &str = "policy principal";
const IPVE: &str = "InvalidParameterValueException";
const IPE: &str = "InvalidParameterException";
const IIE: &str = "InvalidInputException";
const IAE: &str = "InvalidArgumentException";

const LAMBDA_ASSUME: &str = "The role defined for the function cannot be assumed by Lambda";
const LAMBDA_PERMISSIONS: &str = "The provided execution role does not have permissions";
const LAMBDA_KMS_GRANT: &str = "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant";
const ESM_ASSUME: &str = "cannot be assumed by Lambda";
const ESM_PERMISSIONS: &str = "execution role does not have permissions";
const ESM_CAN_PERFORM: &str = "ensure the role can perform";
const ECS_ROLE: &str = "verify that the ECS service role being passed has the proper permissions";
const ECS_LINKED: &str = "Unable to assume the service linked role";
const ECS_TARGET_GROUP: &str = "does not have an associated load balancer";
const CODEBUILD: &str = "ot authorized to perform";
const SCHEDULER: &str =
    "The execution role you provide must allow AWS EventBridge Scheduler to assume the role.";
const SQS_POLICY: &str = "Invalid value for the parameter Policy";

/// The built-in rows.
pub(crate) const SIGNATURES: &[Signature] = &[
    // internal/service/lambda/function.go `retryFunctionOp` (CreateFunction and
    // UpdateFunctionConfiguration), `lambdaPropagationTimeout`. Not rows: "throttled by EC2"
    // (throttling) and ResourceConflictException (an update in progress), which it also retries.
    row("lambda", "CreateFunction", IPVE, LAMBDA_ASSUME, ROLE, LAMBDA),
    row("lambda", "CreateFunction", IPVE, LAMBDA_PERMISSIONS, ROLE_POLICY, LAMBDA),
    row("lambda", "CreateFunction", IPVE, LAMBDA_KMS_GRANT, "KMS key grant", LAMBDA),
    row("lambda", "UpdateFunctionConfiguration", IPVE, LAMBDA_ASSUME, ROLE, LAMBDA),
    row("lambda", "UpdateFunctionConfiguration", IPVE, LAMBDA_PERMISSIONS, ROLE_POLICY, LAMBDA),
    row("lambda", "UpdateFunctionConfiguration", IPVE, LAMBDA_KMS_GRANT, "KMS key grant", LAMBDA),
    // internal/service/lambda/event_source_mapping.go `retryEventSourceMapping`, `lambdaPropagationTimeout`.
    row("lambda", "CreateEventSourceMapping", IPVE, ESM_ASSUME, ROLE, LAMBDA),
    row("lambda", "CreateEventSourceMapping", IPVE, ESM_PERMISSIONS, ROLE_POLICY, LAMBDA),
    row("lambda", "CreateEventSourceMapping", IPVE, ESM_CAN_PERFORM, ROLE_POLICY, LAMBDA),
    row("lambda", "UpdateEventSourceMapping", IPVE, ESM_ASSUME, ROLE, LAMBDA),
    row("lambda", "UpdateEventSourceMapping", IPVE, ESM_PERMISSIONS, ROLE_POLICY, LAMBDA),
    row("lambda", "UpdateEventSourceMapping", IPVE, ESM_CAN_PERFORM, ROLE_POLICY, LAMBDA),
    // internal/service/ec2/ec2_instance.go (RunInstances), `iamPropagationTimeout`: the substring
    // covers EC2's "Invalid IAM Instance Profile name" and "… ARN"; Terraform's second substring
    // is " has no associated IAM Roles" (a profile whose AddRoleToInstanceProfile is propagating).
    row(
        "ec2",
        "RunInstances",
        "InvalidParameterValue",
        "Invalid IAM Instance Profile",
        "IAM instance profile",
        IAM,
    ),
    row(
        "ec2",
        "RunInstances",
        "InvalidParameterValue",
        "has no associated IAM Roles",
        "instance profile role",
        IAM,
    ),
    // internal/service/ecs/service.go `retryServiceCreate` and the UpdateService retry. Not a row:
    // ClusterNotFoundException (ECS's own consistency, not another service's).
    row("ecs", "CreateService", IPE, ECS_ROLE, ROLE, ECS),
    row("ecs", "CreateService", IPE, ECS_LINKED, "ECS service-linked role", ECS),
    row("ecs", "CreateService", IPE, ECS_TARGET_GROUP, "ELB target group", ECS),
    row("ecs", "UpdateService", IPE, ECS_ROLE, ROLE, ECS),
    row("ecs", "UpdateService", IPE, ECS_TARGET_GROUP, "ELB target group", ECS),
    // internal/service/eks/cluster.go (CreateCluster), `propagationTimeout`. AWS words the new role
    // "Role with arn: … could not be assumed because it does not exist or the trusted entity is not
    // correct", which the first row matches.
    row("eks", "CreateCluster", IPE, "does not exist", ROLE, IAM),
    row("eks", "CreateCluster", IPE, "Error in role params", ROLE, IAM),
    row(
        "eks",
        "CreateCluster",
        IPE,
        "Role could not be assumed because the trusted entity is not correct",
        ROLE,
        IAM,
    ),
    row(
        "eks",
        "CreateCluster",
        IPE,
        "The provided role doesn't have the Amazon EKS Managed Policies associated with it",
        ROLE_POLICY,
        IAM,
    ),
    row("eks", "CreateCluster", IPE, "IAM role's policy must include", ROLE_POLICY, IAM),
    // internal/service/firehose/delivery_stream.go `retryDeliveryStreamOp`, `propagationTimeout`.
    row("firehose", "CreateDeliveryStream", IAE, "Access was denied", ROLE_POLICY, IAM),
    row("firehose", "CreateDeliveryStream", IAE, "is not authorized to", ROLE_POLICY, IAM),
    row(
        "firehose",
        "CreateDeliveryStream",
        IAE,
        "Please make sure the role specified in VpcConfiguration has permissions",
        ROLE_POLICY,
        IAM,
    ),
    row("firehose", "CreateDeliveryStream", IAE, "Verify that the IAM role has access", ROLE_POLICY, IAM),
    row("firehose", "CreateDeliveryStream", IAE, "Firehose is unable to assume role", ROLE, IAM),
    // internal/service/codebuild/project.go (CreateProject) and fleet.go (CreateFleet),
    // `propagationTimeout`: "CodeBuild is not authorized to perform" and "Not authorized to
    // perform DescribeSecurityGroups", hence Terraform's "ot authorized to perform".
    row("codebuild", "CreateProject", IIE, CODEBUILD, ROLE, IAM),
    row("codebuild", "CreateFleet", IIE, CODEBUILD, ROLE, IAM),
    // internal/service/glue/crawler.go (CreateCrawler and UpdateCrawler), `propagationTimeout`.
    row(
        "glue",
        "CreateCrawler",
        IIE,
        "Insufficient Lake Formation permission",
        "Lake Formation permission",
        IAM,
    ),
    row("glue", "CreateCrawler", IIE, "Service is unable to assume provided role", ROLE, IAM),
    row("glue", "CreateCrawler", IIE, "Please verify the role's TrustPolicy", ROLE, IAM),
    row("glue", "CreateCrawler", IIE, "is not authorized", ROLE_POLICY, IAM),
    row(
        "glue",
        "CreateCrawler",
        IIE,
        "does not exist or the role provided does not have access to it",
        ROLE_POLICY,
        IAM,
    ),
    row(
        "glue",
        "UpdateCrawler",
        IIE,
        "Insufficient Lake Formation permission",
        "Lake Formation permission",
        IAM,
    ),
    row("glue", "UpdateCrawler", IIE, "Service is unable to assume provided role", ROLE, IAM),
    row("glue", "UpdateCrawler", IIE, "Please verify the role's TrustPolicy", ROLE, IAM),
    row("glue", "UpdateCrawler", IIE, "is not authorized", ROLE_POLICY, IAM),
    row(
        "glue",
        "UpdateCrawler",
        IIE,
        "does not exist or the role provided does not have access to it",
        ROLE_POLICY,
        IAM,
    ),
    // internal/service/scheduler/retry.go `retryWhenIAMNotPropagated` (schedule.go's create and
    // update), `iamPropagationTimeout`.
    row("scheduler", "CreateSchedule", "ValidationException", SCHEDULER, ROLE, IAM),
    row("scheduler", "UpdateSchedule", "ValidationException", SCHEDULER, ROLE, IAM),
    // internal/service/sns/topic.go `putTopicAttribute`: any InvalidParameterException (wire code
    // `InvalidParameter`), 2 minutes; and around it in `resourceTopicCreate`, AuthorizationError
    // "no identity-based policy allows" (the topic's tags, for ABAC), `propagationTimeout`.
    row("sns", "SetTopicAttributes", "InvalidParameter", "", PRINCIPAL, IAM),
    row(
        "sns",
        "SetTopicAttributes",
        "AuthorizationError",
        "no identity-based policy allows",
        "ABAC tags",
        IAM,
    ),
    // Not a Terraform site (it sets Policy with SetTopicAttributes): SNS's answer to a Policy
    // attribute naming a new role on CreateTopic.
    row("sns", "CreateTopic", "InvalidParameter", "Policy Error: PrincipalNotFound", PRINCIPAL, IAM),
    // internal/service/sqs/attribute_funcs.go (SetQueueAttributes), half the create timeout.
    row("sqs", "SetQueueAttributes", "InvalidAttributeValue", SQS_POLICY, PRINCIPAL, SQS),
    // Not a Terraform site (its CreateQueue retry is for QueueDeletedRecently): the same answer
    // to a Policy attribute on CreateQueue.
    row("sqs", "CreateQueue", "InvalidAttributeValue", SQS_POLICY, PRINCIPAL, IAM),
    // internal/service/secretsmanager/secret_policy.go (PutResourcePolicy), `PropagationTimeout`.
    row(
        "secretsmanager",
        "PutResourcePolicy",
        "MalformedPolicyDocumentException",
        "This resource policy contains an unsupported principal",
        PRINCIPAL,
        IAM,
    ),
    // internal/service/logs/subscription_filter.go (PutSubscriptionFilter), 5 minutes. Not a row:
    // OperationAbortedException "Please try again" (a concurrent change, not propagation).
    row(
        "logs",
        "PutSubscriptionFilter",
        IPE,
        "Could not deliver test message to specified",
        "destination permission",
        LOGS,
    ),
    row(
        "logs",
        "PutSubscriptionFilter",
        IPE,
        "Could not execute the lambda function",
        "destination permission",
        LOGS,
    ),
    // internal/service/kms/key.go: CreateKey through wait.go `waitIAMPropagation` (any
    // MalformedPolicyDocumentException) for the create timeout (`iamPropagationTimeout`);
    // `updateKeyPolicy` (PutKeyPolicy) retries MalformedPolicyDocumentException and
    // NotFoundException (the new key) for KMS's `propagationTimeout`.
    row("kms", "CreateKey", "MalformedPolicyDocumentException", "", PRINCIPAL, IAM),
    row("kms", "PutKeyPolicy", "MalformedPolicyDocumentException", "", PRINCIPAL, KMS),
    row("kms", "PutKeyPolicy", "NotFoundException", "", "new KMS key", KMS),
];
