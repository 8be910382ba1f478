//! Secrets Manager: secrets and their tags. The name-reuse conflict (re-creating a name
//! scheduled for deletion, or force-deleted moments ago) is applied by the server.

use super::{KeyFrom as K, Read, ServiceRules, Template as T, Write, WriteKind as W};

const SECRET: &str = "secretsmanager-secret";
const ID: K = K::SecretId("SecretId");
const ALL_READS: &[&str] = &["GetSecretValue", "DescribeSecret"];

pub(super) static RULES: ServiceRules = ServiceRules {
    service: "secretsmanager",
    writes: &[
        Write {
            op: "CreateSecret",
            class: SECRET,
            key: K::SecretId("Name"),
            kind: W::Create,
            reads: ALL_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "PutSecretValue",
            class: SECRET,
            key: ID,
            kind: W::Update,
            reads: ALL_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "UpdateSecret",
            class: SECRET,
            key: ID,
            kind: W::Update,
            reads: ALL_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "UpdateSecretVersionStage",
            class: SECRET,
            key: ID,
            kind: W::Update,
            reads: ALL_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteSecret",
            class: SECRET,
            key: ID,
            kind: W::Delete,
            reads: ALL_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "RestoreSecret",
            class: SECRET,
            key: ID,
            kind: W::Update,
            reads: ALL_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "TagResource",
            class: SECRET,
            key: ID,
            kind: W::Tag,
            reads: &["DescribeSecret"],
            status: None,
            tagging: true,
        },
        Write {
            op: "UntagResource",
            class: SECRET,
            key: ID,
            kind: W::Tag,
            reads: &["DescribeSecret"],
            status: None,
            tagging: true,
        },
    ],
    reads: &[
        Read {
            op: "GetSecretValue",
            class: SECRET,
            key: ID,
            template: T::Json(r#"{"SecretId":{0}}"#),
            variant: None,
        },
        Read {
            op: "DescribeSecret",
            class: SECRET,
            key: ID,
            template: T::Json(r#"{"SecretId":{0}}"#),
            variant: None,
        },
    ],
};

/// The secret name of a name or ARN (`arn:aws:secretsmanager:r:a:secret:NAME-AbCdEf`).
pub(crate) fn secret_name(id: &str) -> &str {
    match id.split_once(":secret:") {
        Some((prefix, rest)) if prefix.starts_with("arn:") => match rest.rsplit_once('-') {
            Some((name, suffix)) if suffix.len() == 6 => name,
            _ => rest,
        },
        _ => id,
    }
}

/// AWS's answer to re-creating a name that is scheduled for deletion.
pub(crate) const SCHEDULED_FOR_DELETION: &str =
    "You can't create this secret because a secret with this name is already scheduled for deletion.";
