//! IAM: roles (and their description, session duration, trust policy), users, managed policies
//! and their versions, inline policies, attachments, role tags, and instance profiles (and the
//! role in each).
//!
//! IAM is the slowest to propagate of the covered services: its checks wait up to 3 minutes.

use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::add_role_to_instance_profile::{
    AddRoleToInstanceProfileInput, AddRoleToInstanceProfileOutput,
};
use aws_sdk_iam::operation::attach_role_policy::{AttachRolePolicyInput, AttachRolePolicyOutput};
use aws_sdk_iam::operation::create_instance_profile::{CreateInstanceProfileInput, CreateInstanceProfileOutput};
use aws_sdk_iam::operation::create_policy::{CreatePolicyInput, CreatePolicyOutput};
use aws_sdk_iam::operation::create_policy_version::{CreatePolicyVersionInput, CreatePolicyVersionOutput};
use aws_sdk_iam::operation::create_role::{CreateRoleInput, CreateRoleOutput};
use aws_sdk_iam::operation::create_user::{CreateUserInput, CreateUserOutput};
use aws_sdk_iam::operation::delete_instance_profile::{DeleteInstanceProfileInput, DeleteInstanceProfileOutput};
use aws_sdk_iam::operation::delete_policy::{DeletePolicyInput, DeletePolicyOutput};
use aws_sdk_iam::operation::delete_role::{DeleteRoleInput, DeleteRoleOutput};
use aws_sdk_iam::operation::delete_role_policy::{DeleteRolePolicyInput, DeleteRolePolicyOutput};
use aws_sdk_iam::operation::delete_user::{DeleteUserInput, DeleteUserOutput};
use aws_sdk_iam::operation::detach_role_policy::{DetachRolePolicyInput, DetachRolePolicyOutput};
use aws_sdk_iam::operation::get_instance_profile::GetInstanceProfileOutput;
use aws_sdk_iam::operation::get_policy::GetPolicyOutput;
use aws_sdk_iam::operation::get_policy_version::GetPolicyVersionOutput;
use aws_sdk_iam::operation::get_role::GetRoleOutput;
use aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput;
use aws_sdk_iam::operation::get_user::GetUserOutput;
use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
use aws_sdk_iam::operation::list_role_tags::ListRoleTagsOutput;
use aws_sdk_iam::operation::put_role_policy::{PutRolePolicyInput, PutRolePolicyOutput};
use aws_sdk_iam::operation::remove_role_from_instance_profile::{
    RemoveRoleFromInstanceProfileInput, RemoveRoleFromInstanceProfileOutput,
};
use aws_sdk_iam::operation::set_default_policy_version::{
    SetDefaultPolicyVersionInput, SetDefaultPolicyVersionOutput,
};
use aws_sdk_iam::operation::tag_role::{TagRoleInput, TagRoleOutput};
use aws_sdk_iam::operation::untag_role::{UntagRoleInput, UntagRoleOutput};
use aws_sdk_iam::operation::update_assume_role_policy::{
    UpdateAssumeRolePolicyInput, UpdateAssumeRolePolicyOutput,
};
use aws_sdk_iam::operation::update_role::{UpdateRoleInput, UpdateRoleOutput};
use aws_sdk_iam::types::{Role, Tag};

use super::{has_tags, lacks_keys, rule, same_json, show_tags, waiter};
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
        confirmed_by_response: &[],
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
            rule("UpdateRole", "GetRole: the description and max session duration written", update_role),
            rule(
                "UpdateAssumeRolePolicy",
                "GetRole: the trust policy written (compared as JSON)",
                update_assume_role_policy,
            ),
            rule(
                "CreatePolicyVersion",
                "GetPolicy: DefaultVersionId is the new version (when set as default), else GetPolicyVersion: found",
                create_policy_version,
            ),
            rule(
                "SetDefaultPolicyVersion",
                "GetPolicy: DefaultVersionId is the version set",
                set_default_version,
            ),
            rule("CreateInstanceProfile", "GetInstanceProfile: found", create_instance_profile),
            rule("DeleteInstanceProfile", "GetInstanceProfile: NoSuchEntity", delete_instance_profile),
            rule("AddRoleToInstanceProfile", "GetInstanceProfile: the role listed", add_role_to_profile),
            rule(
                "RemoveRoleFromInstanceProfile",
                "GetInstanceProfile: the role not listed",
                remove_role_from_profile,
            ),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

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

/// GetRole on `role` until `done` holds for it.
fn role_until(
    iam: &Client,
    operation: &'static str,
    role: &str,
    expected: String,
    done: impl Fn(&Role) -> bool + Send + Sync + 'static,
) -> Check {
    let (iam, name) = (iam.clone(), role.to_string());
    Check::new(
        operation,
        role,
        expected,
        waiter::<GetRoleOutput>()
            .success_when(move |o| o.role().is_some_and(&done))
            .retry_on_error_code(NO_SUCH_ENTITY),
        move || iam.get_role().role_name(&name).send(),
    )
    .with_max_wait(IAM_TIMEOUT)
}

fn update_role(iam: &Client, input: &UpdateRoleInput, _: &UpdateRoleOutput) -> Vec<Check> {
    let Some(role) = input.role_name() else { return Vec::new() };
    let description = input.description().map(str::to_string);
    let duration = input.max_session_duration();
    let mut expected = "GetRole shows".to_string();
    if let Some(d) = &description {
        expected += &format!(" description {d:?}");
    }
    if let Some(d) = duration {
        expected += &format!(" max session duration {d}");
    }
    if description.is_none() && duration.is_none() {
        expected += " the role";
    }
    vec![role_until(iam, "UpdateRole", role, expected, move |r| {
        description.as_deref().is_none_or(|d| r.description() == Some(d))
            && duration.is_none_or(|d| r.max_session_duration() == Some(d))
    })]
}

/// IAM answers policy documents percent-encoded.
fn decoded(document: &str) -> String {
    percent_encoding::percent_decode_str(document).decode_utf8_lossy().into_owned()
}

fn update_assume_role_policy(
    iam: &Client,
    input: &UpdateAssumeRolePolicyInput,
    _: &UpdateAssumeRolePolicyOutput,
) -> Vec<Check> {
    let (Some(role), Some(policy)) = (input.role_name(), input.policy_document()) else { return Vec::new() };
    let wanted = policy.to_string();
    vec![role_until(
        iam,
        "UpdateAssumeRolePolicy",
        role,
        "GetRole shows the trust policy written".into(),
        move |r| r.assume_role_policy_document().is_some_and(|d| same_json(&decoded(d), &wanted)),
    )]
}

/// GetPolicy on `arn` until its default version is `version`.
fn default_version(iam: &Client, operation: &'static str, arn: &str, version: &str) -> Check {
    let (iam, policy, wanted) = (iam.clone(), arn.to_string(), version.to_string());
    Check::new(
        operation,
        arn,
        format!("GetPolicy shows DefaultVersionId {version}"),
        waiter::<GetPolicyOutput>()
            .success_when(move |o| o.policy().and_then(|p| p.default_version_id()) == Some(wanted.as_str()))
            .retry_on_error_code(NO_SUCH_ENTITY),
        move || iam.get_policy().policy_arn(&policy).send(),
    )
    .with_max_wait(IAM_TIMEOUT)
}

fn create_policy_version(
    iam: &Client,
    input: &CreatePolicyVersionInput,
    output: &CreatePolicyVersionOutput,
) -> Vec<Check> {
    let version = output.policy_version().and_then(|v| v.version_id());
    let (Some(arn), Some(version)) = (input.policy_arn(), version) else { return Vec::new() };
    if input.set_as_default() == Some(true) {
        return vec![default_version(iam, "CreatePolicyVersion", arn, version)];
    }
    let (client, policy, id) = (iam.clone(), arn.to_string(), version.to_string());
    vec![
        Check::new(
            "CreatePolicyVersion",
            arn,
            format!("GetPolicyVersion finds {version}"),
            found::<GetPolicyVersionOutput>(),
            move || client.get_policy_version().policy_arn(&policy).version_id(&id).send(),
        )
        .with_max_wait(IAM_TIMEOUT),
    ]
}

fn set_default_version(
    iam: &Client,
    input: &SetDefaultPolicyVersionInput,
    _: &SetDefaultPolicyVersionOutput,
) -> Vec<Check> {
    match (input.policy_arn(), input.version_id()) {
        (Some(arn), Some(version)) => vec![default_version(iam, "SetDefaultPolicyVersion", arn, version)],
        _ => Vec::new(),
    }
}

/// GetInstanceProfile until it is found (with `role` listed or not, when given), or gone.
fn instance_profile(
    iam: &Client,
    operation: &'static str,
    profile: &str,
    exists: bool,
    role: Option<(&str, bool)>,
) -> Check {
    let (iam, name) = (iam.clone(), profile.to_string());
    let (waiter, expected) = match (exists, role) {
        (false, _) => (gone(), "GetInstanceProfile answers NoSuchEntity".to_string()),
        (true, None) => (found::<GetInstanceProfileOutput>(), "GetInstanceProfile finds the profile".into()),
        (true, Some((role, listed))) => {
            let role = role.to_string();
            let expected = if listed {
                format!("GetInstanceProfile lists role {role}")
            } else {
                format!("GetInstanceProfile does not list role {role}")
            };
            let waiter = waiter::<GetInstanceProfileOutput>()
                .success_when(move |o| {
                    let roles = o.instance_profile().map(|p| p.roles()).unwrap_or_default();
                    roles.iter().any(|r| r.role_name() == role) == listed
                })
                .retry_when(|_| true)
                .retry_on_error_code(NO_SUCH_ENTITY);
            (waiter, expected)
        }
    };
    Check::new(operation, profile, expected, waiter, move || {
        iam.get_instance_profile().instance_profile_name(&name).send()
    })
    .with_max_wait(IAM_TIMEOUT)
}

fn create_instance_profile(
    iam: &Client,
    input: &CreateInstanceProfileInput,
    _: &CreateInstanceProfileOutput,
) -> Vec<Check> {
    let name = input.instance_profile_name();
    name.map(|p| instance_profile(iam, "CreateInstanceProfile", p, true, None)).into_iter().collect()
}

fn delete_instance_profile(
    iam: &Client,
    input: &DeleteInstanceProfileInput,
    _: &DeleteInstanceProfileOutput,
) -> Vec<Check> {
    let name = input.instance_profile_name();
    name.map(|p| instance_profile(iam, "DeleteInstanceProfile", p, false, None)).into_iter().collect()
}

fn add_role_to_profile(
    iam: &Client,
    input: &AddRoleToInstanceProfileInput,
    _: &AddRoleToInstanceProfileOutput,
) -> Vec<Check> {
    let (Some(profile), Some(role)) = (input.instance_profile_name(), input.role_name()) else { return Vec::new() };
    vec![instance_profile(iam, "AddRoleToInstanceProfile", profile, true, Some((role, true)))]
}

fn remove_role_from_profile(
    iam: &Client,
    input: &RemoveRoleFromInstanceProfileInput,
    _: &RemoveRoleFromInstanceProfileOutput,
) -> Vec<Check> {
    let (Some(profile), Some(role)) = (input.instance_profile_name(), input.role_name()) else { return Vec::new() };
    vec![instance_profile(iam, "RemoveRoleFromInstanceProfile", profile, true, Some((role, false)))]
}
