//! CloudWatch Logs (awsJson 1.1, `Logs_20140328`): a new log group is missing from
//! DescribeLogGroups, a deleted one is still listed, retention and tags read old.
//!
//! DescribeLogGroups is a list read: only a read whose `logGroupNamePrefix` is the group's
//! whole name is answered from the snapshot (a shorter prefix lists the live groups).
//! Tag writes by ARN (`arn:…:log-group:NAME`, with or without `:*`) and the legacy
//! name-based tag calls each snapshot their own read.

use super::{
    Hooks, KeyFrom as K, Read, ServiceRules, TagView, Template as T, Write, WriteKind as W, arn_names,
};

const GROUP: &str = "logs-log-group";
const NAME: K = K::Json("logGroupName");
const ARN: K = K::Tail("resourceArn", ":log-group:");

const RETENTION: Write = Write {
    op: "PutRetentionPolicy",
    class: GROUP,
    key: NAME,
    kind: W::Update,
    reads: &["DescribeLogGroups"],
    status: None,
    tagging: false,
};
const TAG: Write = Write {
    op: "TagResource",
    key: ARN,
    kind: W::Tag,
    reads: &["ListTagsForResource"],
    tagging: true,
    ..RETENTION
};
const TAG_BY_NAME: Write =
    Write { op: "TagLogGroup", kind: W::Tag, reads: &["ListTagsLogGroup"], tagging: true, ..RETENTION };

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "logs",
    writes: &[
        Write { op: "CreateLogGroup", kind: W::Create, ..RETENTION },
        Write { op: "DeleteLogGroup", kind: W::Delete, ..RETENTION },
        RETENTION,
        Write { op: "DeleteRetentionPolicy", ..RETENTION },
        TAG,
        Write { op: "UntagResource", ..TAG },
        TAG_BY_NAME,
        Write { op: "UntagLogGroup", ..TAG_BY_NAME },
    ],
    reads: &[
        Read {
            op: "DescribeLogGroups",
            class: GROUP,
            key: K::Json("logGroupNamePrefix"),
            template: T::Json(r#"{"logGroupNamePrefix":{0}}"#),
            variant: None,
        },
        Read {
            op: "ListTagsForResource",
            class: GROUP,
            key: ARN,
            template: T::Json(r#"{"resourceArn":{1}}"#),
            variant: None,
        },
        Read {
            op: "ListTagsLogGroup",
            class: GROUP,
            key: NAME,
            template: T::Json(r#"{"logGroupName":{0}}"#),
            variant: None,
        },
    ],
    hooks: Hooks::NONE,
    // `arn:aws:logs:r:a:log-group:NAME` (or `…:NAME:*`)
    tag_view: Some(TagView {
        type_filter: "logs",
        names: |key, arn| arn_names(key, arn, "logs", ":log-group:"),
    }),
    wire: super::Wire::DEFAULT,
};
