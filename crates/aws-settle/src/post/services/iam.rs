//! IAM: roles, users, managed and inline policies, attachments and role tags.
//!
//! IAM is the slowest to propagate of the covered services: its checks wait up to 3 minutes.

use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::attach_role_policy::{AttachRolePolicyInput, AttachRolePolicyOutput};
use aws_sdk_iam::operation::create_policy::{CreatePolicyInput, CreatePolicyOutput};
use aws_sdk_iam::operation::create_role::{CreateRoleInput, CreateRoleOutput};
use aws_sdk_iam::operation::create_user::{CreateUserInput, CreateUserOutput};
use aws_sdk_iam::operation::delete_policy::{DeletePolicyInput, DeletePolicyOutput};
use aws_sdk_iam::operation::delete_role::{DeleteRoleInput, DeleteRoleOutput};
use aws_sdk_iam::operation::delete_role_policy::{DeleteRolePolicyInput, DeleteRolePolicyOutput};
use aws_sdk_iam::operation::delete_user::{DeleteUserInput, DeleteUserOutput};
use aws_sdk_iam::operation::detach_role_policy::{DetachRolePolicyInput, DetachRolePolicyOutput};
use aws_sdk_iam::operation::get_policy::GetPolicyOutput;
use aws_sdk_iam::operation::get_role::GetRoleOutput;
use aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput;
use aws_sdk_iam::operation::get_user::GetUserOutput;
use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
use aws_sdk_iam::operation::list_role_tags::ListRoleTagsOutput;
use aws_sdk_iam::operation::put_role_policy::{PutRolePolicyInput, PutRolePolicyOutput};
use aws_sdk_iam::operation::tag_role::{TagRoleInput, TagRoleOutput};
use aws_sdk_iam::operation::untag_role::{UntagRoleInput, UntagRoleOutput};
use aws_sdk_iam::types::Tag;

use super::{has_tags, lacks_keys, rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;
use crate::wait::Waiter;

const IAM_TIMEOUT: Duration = Duration::from_secs(180);
const NO_SUCH_ENTITY: &str = "NoSuchEntity";

/// Operations that change nothing: the SDK's Get/List/Describe/BatchGet/Query/Scan-style reads.
const READS: &[&str] = &[
    "GetAccessKeyLastUsed",
    "GetAccountAuthorizationDetails",
    "GetAccountPasswordPolicy",
    "GetAccountProperties",
    "GetAccountSummary",
    "GetContextKeysForCustomPolicy",
    "GetContextKeysForPrincipalPolicy",
    "GetCredentialReport",
    "GetDelegationRequest",
    "GetGroup",
    "GetGroupPolicy",
    "GetHumanReadableSummary",
    "GetInstanceProfile",
    "GetLoginProfile",
    "GetMFADevice",
    "GetOpenIDConnectProvider",
    "GetOrganizationsAccessReport",
    "GetOutboundWebIdentityFederationInfo",
    "GetPolicy",
    "GetPolicyVersion",
    "GetRole",
    "GetRolePolicy",
    "GetRoleTemplateVersion",
    "GetSAMLProvider",
    "GetSSHPublicKey",
    "GetServerCertificate",
    "GetServiceLastAccessedDetails",
    "GetServiceLastAccessedDetailsWithEntities",
    "GetServiceLinkedRoleDeletionStatus",
    "GetUser",
    "GetUserPolicy",
    "ListAccessKeys",
    "ListAccountAliases",
    "ListAttachedGroupPolicies",
    "ListAttachedRolePolicies",
    "ListAttachedUserPolicies",
    "ListDelegationRequests",
    "ListEntitiesForPolicy",
    "ListGroupPolicies",
    "ListGroups",
    "ListGroupsForUser",
    "ListInstanceProfileTags",
    "ListInstanceProfiles",
    "ListInstanceProfilesForRole",
    "ListMFADeviceTags",
    "ListMFADevices",
    "ListOpenIDConnectProviderTags",
    "ListOpenIDConnectProviders",
    "ListOrganizationsFeatures",
    "ListPolicies",
    "ListPoliciesGrantingServiceAccess",
    "ListPolicyTags",
    "ListPolicyVersions",
    "ListRolePolicies",
    "ListRoleTags",
    "ListRoles",
    "ListSAMLProviderTags",
    "ListSAMLProviders",
    "ListSSHPublicKeys",
    "ListServerCertificateTags",
    "ListServerCertificates",
    "ListServiceSpecificCredentials",
    "ListSigningCertificates",
    "ListUserPolicies",
    "ListUserTags",
    "ListUsers",
    "ListVirtualMFADevices",
    "SimulateCustomPolicy",
    "SimulatePrincipalPolicy",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "iam",
        reads: READS,
        rules: vec![
            rule("CreateRole", "GetRole: found; ListRoleTags: every tag given", create_role),
            rule("DeleteRole", "GetRole: NoSuchEntity", delete_role),
            rule("CreateUser", "GetUser: found", create_user),
            rule("DeleteUser", "GetUser: NoSuchEntity", delete_user),
            rule("CreatePolicy", "GetPolicy: found", create_policy),
            rule("DeletePolicy", "GetPolicy: NoSuchEntity", delete_policy),
            rule("AttachRolePolicy", "ListAttachedRolePolicies: the policy ARN listed", attach_role_policy),
            rule(
                "DetachRolePolicy",
                "ListAttachedRolePolicies: the policy ARN not listed",
                detach_role_policy,
            ),
            rule("PutRolePolicy", "GetRolePolicy: found", put_role_policy),
            rule("DeleteRolePolicy", "GetRolePolicy: NoSuchEntity", delete_role_policy),
            rule("TagRole", "ListRoleTags: every tag added, with its value", tag_role),
            rule("UntagRole", "ListRoleTags: no removed key", untag_role),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

super::attachable!(aws_sdk_iam, iam);

/// Found: any output; retry while NoSuchEntity.
fn found<O>() -> Waiter<O> {
    waiter::<O>().success_when(|_| true).retry_on_error_code(NO_SUCH_ENTITY)
}

/// Gone: NoSuchEntity; retry while found.
fn gone<O>() -> Waiter<O> {
    waiter::<O>().success_on_error_code(NO_SUCH_ENTITY).retry_when(|_| true)
}

fn tags(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn role_tags(iam: &Client, operation: &'static str, role: &str, wanted: Vec<(String, String)>) -> Check {
    let (iam, name) = (iam.clone(), role.to_string());
    let expected = format!("ListRoleTags shows {}", show_tags(&wanted));
    Check::new(
        operation,
        role,
        expected,
        waiter::<ListRoleTagsOutput>()
            .success_when(move |o| has_tags(o.tags().iter().map(|t| (t.key(), t.value())), &wanted))
            .retry_on_error_code(NO_SUCH_ENTITY),
        move || iam.list_role_tags().role_name(&name).send(),
    )
    .with_max_wait(IAM_TIMEOUT)
}

fn get_role(iam: &Client, operation: &'static str, role: &str, exists: bool) -> Check {
    let (iam, name) = (iam.clone(), role.to_string());
    let (waiter, expected) = if exists {
        (found::<GetRoleOutput>(), "GetRole finds the role")
    } else {
        (gone(), "GetRole answers NoSuchEntity")
    };
    Check::new(operation, role, expected, waiter, move || iam.get_role().role_name(&name).send())
        .with_max_wait(IAM_TIMEOUT)
}

fn create_role(iam: &Client, input: &CreateRoleInput, _: &CreateRoleOutput) -> Vec<Check> {
    let Some(role) = input.role_name() else { return Vec::new() };
    let mut checks = vec![get_role(iam, "CreateRole", role, true)];
    if !input.tags().is_empty() {
        checks.push(role_tags(iam, "CreateRole", role, tags(input.tags())));
    }
    checks
}

fn delete_role(iam: &Client, input: &DeleteRoleInput, _: &DeleteRoleOutput) -> Vec<Check> {
    input.role_name().map(|r| get_role(iam, "DeleteRole", r, false)).into_iter().collect()
}

fn get_user(iam: &Client, operation: &'static str, user: &str, exists: bool) -> Check {
    let (iam, name) = (iam.clone(), user.to_string());
    let (waiter, expected) = if exists {
        (found::<GetUserOutput>(), "GetUser finds the user")
    } else {
        (gone(), "GetUser answers NoSuchEntity")
    };
    Check::new(operation, user, expected, waiter, move || iam.get_user().user_name(&name).send())
        .with_max_wait(IAM_TIMEOUT)
}

fn create_user(iam: &Client, input: &CreateUserInput, _: &CreateUserOutput) -> Vec<Check> {
    input.user_name().map(|u| get_user(iam, "CreateUser", u, true)).into_iter().collect()
}

fn delete_user(iam: &Client, input: &DeleteUserInput, _: &DeleteUserOutput) -> Vec<Check> {
    input.user_name().map(|u| get_user(iam, "DeleteUser", u, false)).into_iter().collect()
}

fn get_policy(iam: &Client, operation: &'static str, arn: &str, exists: bool) -> Check {
    let (iam, policy) = (iam.clone(), arn.to_string());
    let (waiter, expected) = if exists {
        (found::<GetPolicyOutput>(), "GetPolicy finds the policy")
    } else {
        (gone(), "GetPolicy answers NoSuchEntity")
    };
    Check::new(operation, arn, expected, waiter, move || iam.get_policy().policy_arn(&policy).send())
        .with_max_wait(IAM_TIMEOUT)
}

fn create_policy(iam: &Client, _: &CreatePolicyInput, output: &CreatePolicyOutput) -> Vec<Check> {
    output
        .policy()
        .and_then(|p| p.arn())
        .map(|arn| get_policy(iam, "CreatePolicy", arn, true))
        .into_iter()
        .collect()
}

fn delete_policy(iam: &Client, input: &DeletePolicyInput, _: &DeletePolicyOutput) -> Vec<Check> {
    input.policy_arn().map(|arn| get_policy(iam, "DeletePolicy", arn, false)).into_iter().collect()
}

fn attached(iam: &Client, operation: &'static str, role: &str, arn: &str, attached: bool) -> Check {
    let (iam, name, policy) = (iam.clone(), role.to_string(), arn.to_string());
    let listed = move |o: &ListAttachedRolePoliciesOutput| {
        o.attached_policies().iter().any(|p| p.policy_arn() == Some(policy.as_str())) == attached
    };
    let expected =
        format!("ListAttachedRolePolicies {} {arn}", if attached { "lists" } else { "does not list" });
    Check::new(
        operation,
        role,
        expected,
        waiter::<ListAttachedRolePoliciesOutput>().success_when(listed).retry_on_error_code(NO_SUCH_ENTITY),
        move || iam.list_attached_role_policies().role_name(&name).max_items(1000).send(),
    )
    .with_max_wait(IAM_TIMEOUT)
}

fn attach_role_policy(iam: &Client, input: &AttachRolePolicyInput, _: &AttachRolePolicyOutput) -> Vec<Check> {
    match (input.role_name(), input.policy_arn()) {
        (Some(role), Some(arn)) => vec![attached(iam, "AttachRolePolicy", role, arn, true)],
        _ => Vec::new(),
    }
}

fn detach_role_policy(iam: &Client, input: &DetachRolePolicyInput, _: &DetachRolePolicyOutput) -> Vec<Check> {
    match (input.role_name(), input.policy_arn()) {
        (Some(role), Some(arn)) => vec![attached(iam, "DetachRolePolicy", role, arn, false)],
        _ => Vec::new(),
    }
}

fn role_policy(iam: &Client, operation: &'static str, role: &str, policy: &str, exists: bool) -> Check {
    let (iam, name, policy_name) = (iam.clone(), role.to_string(), policy.to_string());
    let (waiter, expected) = if exists {
        (found::<GetRolePolicyOutput>(), format!("GetRolePolicy finds {policy}"))
    } else {
        (gone(), format!("GetRolePolicy answers NoSuchEntity for {policy}"))
    };
    Check::new(operation, role, expected, waiter, move || {
        iam.get_role_policy().role_name(&name).policy_name(&policy_name).send()
    })
    .with_max_wait(IAM_TIMEOUT)
}

fn put_role_policy(iam: &Client, input: &PutRolePolicyInput, _: &PutRolePolicyOutput) -> Vec<Check> {
    match (input.role_name(), input.policy_name()) {
        (Some(role), Some(policy)) => vec![role_policy(iam, "PutRolePolicy", role, policy, true)],
        _ => Vec::new(),
    }
}

fn delete_role_policy(iam: &Client, input: &DeleteRolePolicyInput, _: &DeleteRolePolicyOutput) -> Vec<Check> {
    match (input.role_name(), input.policy_name()) {
        (Some(role), Some(policy)) => vec![role_policy(iam, "DeleteRolePolicy", role, policy, false)],
        _ => Vec::new(),
    }
}

fn tag_role(iam: &Client, input: &TagRoleInput, _: &TagRoleOutput) -> Vec<Check> {
    input.role_name().map(|r| role_tags(iam, "TagRole", r, tags(input.tags()))).into_iter().collect()
}

fn untag_role(iam: &Client, input: &UntagRoleInput, _: &UntagRoleOutput) -> Vec<Check> {
    let Some(role) = input.role_name() else { return Vec::new() };
    let (client, name, keys) = (iam.clone(), role.to_string(), input.tag_keys().to_vec());
    let expected = format!("ListRoleTags shows none of {}", keys.join(", "));
    vec![
        Check::new(
            "UntagRole",
            role,
            expected,
            waiter::<ListRoleTagsOutput>()
                .success_when(move |o| lacks_keys(o.tags().iter().map(|t| t.key()), &keys)),
            move || client.list_role_tags().role_name(&name).send(),
        )
        .with_max_wait(IAM_TIMEOUT),
    ]
}
