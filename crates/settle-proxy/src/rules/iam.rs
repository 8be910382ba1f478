//! IAM: roles (and their tags, inline and attached policies), managed policies, users, instance
//! profiles (and the roles in them).
//!
//! Roles are not in the Resource Groups Tagging API view: moto 5.2.5 does not list IAM there, so
//! there is no view of role tags to make lag.

use super::{Hooks, KeyFrom as K, Read, ServiceRules, Template as T, Write, WriteKind as W};

const ROLE: &str = "iam-role";
const ROLE_POLICY: &str = "iam-role-policy";
const ROLE_ATTACHED: &str = "iam-role-attached";
const POLICY: &str = "iam-policy";
const USER: &str = "iam-user";
const PROFILE: &str = "iam-instance-profile";
const PROFILE_NAME: K = K::Query("InstanceProfileName");
/// An instance profile change GetInstanceProfile shows (its roles).
const PROFILE_WRITE: Write = Write {
    op: "AddRoleToInstanceProfile",
    class: PROFILE,
    key: PROFILE_NAME,
    kind: W::Update,
    reads: &["GetInstanceProfile"],
    status: None,
    tagging: false,
};
const ROLE_NAME: K = K::Query("RoleName");
const INLINE: K = K::QueryPair("RoleName", "PolicyName");
const ROLE_READS: &[&str] = &["GetRole", "ListRoleTags"];

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "iam",
    writes: &[
        Write {
            op: "CreateRole",
            class: ROLE,
            key: ROLE_NAME,
            kind: W::Create,
            reads: ROLE_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteRole",
            class: ROLE,
            key: ROLE_NAME,
            kind: W::Delete,
            reads: ROLE_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "UpdateRole",
            class: ROLE,
            key: ROLE_NAME,
            kind: W::Update,
            reads: &["GetRole"],
            status: None,
            tagging: false,
        },
        Write {
            op: "UpdateRoleDescription",
            class: ROLE,
            key: ROLE_NAME,
            kind: W::Update,
            reads: &["GetRole"],
            status: None,
            tagging: false,
        },
        Write {
            op: "UpdateAssumeRolePolicy",
            class: ROLE,
            key: ROLE_NAME,
            kind: W::Update,
            reads: &["GetRole"],
            status: None,
            tagging: false,
        },
        Write {
            op: "TagRole",
            class: ROLE,
            key: ROLE_NAME,
            kind: W::Tag,
            reads: ROLE_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "UntagRole",
            class: ROLE,
            key: ROLE_NAME,
            kind: W::Tag,
            reads: ROLE_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "PutRolePolicy",
            class: ROLE_POLICY,
            key: INLINE,
            kind: W::Put,
            reads: &["GetRolePolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteRolePolicy",
            class: ROLE_POLICY,
            key: INLINE,
            kind: W::Delete,
            reads: &["GetRolePolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "AttachRolePolicy",
            class: ROLE_ATTACHED,
            key: ROLE_NAME,
            kind: W::Update,
            reads: &["ListAttachedRolePolicies"],
            status: None,
            tagging: false,
        },
        Write {
            op: "DetachRolePolicy",
            class: ROLE_ATTACHED,
            key: ROLE_NAME,
            kind: W::Update,
            reads: &["ListAttachedRolePolicies"],
            status: None,
            tagging: false,
        },
        Write {
            op: "CreatePolicy",
            class: POLICY,
            key: K::PolicyName,
            kind: W::Create,
            reads: &["GetPolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "DeletePolicy",
            class: POLICY,
            key: K::PolicyArn,
            kind: W::Delete,
            reads: &["GetPolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "CreatePolicyVersion",
            class: POLICY,
            key: K::PolicyArn,
            kind: W::Update,
            reads: &["GetPolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "SetDefaultPolicyVersion",
            class: POLICY,
            key: K::PolicyArn,
            kind: W::Update,
            reads: &["GetPolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "CreateUser",
            class: USER,
            key: K::Query("UserName"),
            kind: W::Create,
            reads: &["GetUser"],
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteUser",
            class: USER,
            key: K::Query("UserName"),
            kind: W::Delete,
            reads: &["GetUser"],
            status: None,
            tagging: false,
        },
        Write { op: "CreateInstanceProfile", kind: W::Create, ..PROFILE_WRITE },
        PROFILE_WRITE,
        Write { op: "RemoveRoleFromInstanceProfile", ..PROFILE_WRITE },
        Write { op: "DeleteInstanceProfile", kind: W::Delete, ..PROFILE_WRITE },
    ],
    reads: &[
        Read {
            op: "GetRole",
            class: ROLE,
            key: ROLE_NAME,
            template: T::Query("Action=GetRole&Version=2010-05-08&RoleName={0}"),
            variant: None,
        },
        Read {
            op: "ListRoleTags",
            class: ROLE,
            key: ROLE_NAME,
            template: T::Query("Action=ListRoleTags&Version=2010-05-08&RoleName={0}"),
            variant: None,
        },
        Read {
            op: "GetRolePolicy",
            class: ROLE_POLICY,
            key: INLINE,
            template: T::Query("Action=GetRolePolicy&Version=2010-05-08&RoleName={0}&PolicyName={1}"),
            variant: None,
        },
        Read {
            op: "ListAttachedRolePolicies",
            class: ROLE_ATTACHED,
            key: ROLE_NAME,
            template: T::Query("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName={0}"),
            variant: None,
        },
        Read {
            op: "GetPolicy",
            class: POLICY,
            key: K::PolicyArn,
            template: T::Query("Action=GetPolicy&Version=2010-05-08&PolicyArn={0}"),
            variant: None,
        },
        Read {
            op: "GetUser",
            class: USER,
            key: K::Query("UserName"),
            template: T::Query("Action=GetUser&Version=2010-05-08&UserName={0}"),
            variant: None,
        },
        Read {
            op: "GetInstanceProfile",
            class: PROFILE,
            key: PROFILE_NAME,
            template: T::Query("Action=GetInstanceProfile&Version=2010-05-08&InstanceProfileName={0}"),
            variant: None,
        },
    ],
    hooks: Hooks::NONE,
    tag_view: None,
    wire: super::Wire::DEFAULT,
};
