//! KMS (awsJson 1.1, `TrentService`): key state, description, policy, rotation and tags read
//! old after a change; a new alias is not found, a deleted one still resolves.
//!
//! Keys are keyed by their id: a key ARN `arn:aws:kms:r:a:key/ID` names `ID`, and an alias
//! (`alias/name` or its ARN) names `name`, so a write and a read that use different spellings
//! of one alias meet; a key written by its id and read by an alias do not (no lookup is made).
//! A new key's id exists only in CreateKey's answer: its reads answer NotFoundException during
//! the lag, made up by the proxy ([`Answer`]).

use super::{
    Absent, Answer, AnswerIds, Hooks, KeyFrom as K, Read, ServiceRules, TagView, Template as T, Write,
    WriteKind as W, arn_names,
};

const KEY: &str = "kms-key";
const ID: K = K::Tail("KeyId", "/");
const DESCRIBE: &[&str] = &["DescribeKey"];

/// A change DescribeKey shows (state, description, pending deletion).
const KEY_UPDATE: Write = Write {
    op: "EnableKey",
    class: KEY,
    key: ID,
    kind: W::Update,
    reads: DESCRIBE,
    status: None,
    tagging: false,
};
const ROTATION: Write = Write { op: "EnableKeyRotation", reads: &["GetKeyRotationStatus"], ..KEY_UPDATE };
const TAG: Write =
    Write { op: "TagResource", kind: W::Tag, reads: &["ListResourceTags"], tagging: true, ..KEY_UPDATE };
const ALIAS: Write =
    Write { op: "CreateAlias", key: K::Tail("AliasName", "/"), kind: W::Create, ..KEY_UPDATE };

/// A new key: NotFoundException to its reads until its id propagates.
const NEW_KEY: Answer = Answer {
    request: None,
    class: KEY,
    ids: AnswerIds::Json(&["KeyMetadata", "KeyId"]),
    absent: &[
        Absent { op: "DescribeKey", status: 400, code: NOT_FOUND, message: "Key '{0}' does not exist" },
        Absent { op: "GetKeyPolicy", status: 400, code: NOT_FOUND, message: "Key '{0}' does not exist" },
    ],
    then: None,
};
const NOT_FOUND: &str = "NotFoundException";

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "kms",
    writes: &[
        Write { op: "CreateKey", key: K::Answer(&NEW_KEY), kind: W::Create, reads: &[], ..KEY_UPDATE },
        KEY_UPDATE,
        Write { op: "DisableKey", ..KEY_UPDATE },
        Write { op: "UpdateKeyDescription", ..KEY_UPDATE },
        Write { op: "ScheduleKeyDeletion", kind: W::Delete, ..KEY_UPDATE },
        Write { op: "CancelKeyDeletion", ..KEY_UPDATE },
        Write { op: "PutKeyPolicy", reads: &["GetKeyPolicy"], ..KEY_UPDATE },
        ROTATION,
        Write { op: "DisableKeyRotation", ..ROTATION },
        TAG,
        Write { op: "UntagResource", ..TAG },
        ALIAS,
        Write { op: "DeleteAlias", kind: W::Delete, ..ALIAS },
    ],
    reads: &[
        Read { op: "DescribeKey", class: KEY, key: ID, template: T::Json(r#"{"KeyId":{1}}"#), variant: None },
        Read {
            op: "GetKeyPolicy",
            class: KEY,
            key: ID,
            template: T::Json(r#"{"KeyId":{1},"PolicyName":"default"}"#),
            variant: None,
        },
        Read {
            op: "GetKeyRotationStatus",
            class: KEY,
            key: ID,
            template: T::Json(r#"{"KeyId":{1}}"#),
            variant: None,
        },
        Read {
            op: "ListResourceTags",
            class: KEY,
            key: ID,
            template: T::Json(r#"{"KeyId":{1}}"#),
            variant: None,
        },
    ],
    hooks: Hooks::NONE,
    // `arn:aws:kms:r:a:key/ID`
    tag_view: Some(TagView { type_filter: "kms", names: |key, arn| arn_names(key, arn, "kms", ":key/") }),
    wire: super::Wire::DEFAULT,
};
