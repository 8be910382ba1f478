//! Secrets Manager: secrets and their tags, and the name-reuse conflict: re-creating a name
//! scheduled for deletion, or force-deleted moments ago, is refused as AWS does.

use super::{Hooks, Key, KeyFrom as K, Read, ServiceRules, TagView, Template as T, Write, WriteKind as W};
use crate::protocol::ParsedRequest;
use crate::visibility::Mark;

const SECRET: &str = "secretsmanager-secret";
const ID: K = K::SecretId("SecretId");
const ALL_READS: &[&str] = &["GetSecretValue", "DescribeSecret"];

pub(crate) static RULES: ServiceRules = ServiceRules {
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
    hooks: Hooks { mark: Some(name_reuse), ..Hooks::NONE },
    tag_view: Some(TagView { type_filter: "secretsmanager:secret", names: secret_arn }),
    wire: super::Wire::DEFAULT,
};

/// `arn:aws:secretsmanager:r:a:secret:NAME-AbCdEf` names `NAME`.
fn secret_arn(key: &Key, arn: &str) -> bool {
    arn.split_once(":secret:").is_some_and(|(_, rest)| secret_name(arn) == key.name || rest == key.name)
}

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
const SCHEDULED_FOR_DELETION: &str =
    "You can't create this secret because a secret with this name is already scheduled for deletion.";

/// A deleted name cannot be re-created: while scheduled for deletion (until restored), or for
/// the lag after a force delete; a create or restore clears the mark.
fn name_reuse(req: &ParsedRequest) -> Option<Mark> {
    let refused = ("InvalidRequestException", SCHEDULED_FOR_DELETION);
    match req.info.operation.as_str() {
        "DeleteSecret" => {
            let force = req.json.as_ref().and_then(|j| j.get("ForceDeleteWithoutRecovery"));
            Some(if force.and_then(|v| v.as_bool()).unwrap_or(false) {
                Mark::ForTheLag(refused.0, refused.1)
            } else {
                Mark::Standing(refused.0, refused.1)
            })
        }
        "RestoreSecret" | "CreateSecret" => Some(Mark::Clear),
        _ => None,
    }
}
