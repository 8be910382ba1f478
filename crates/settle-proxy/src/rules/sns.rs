//! SNS (query): a new topic is not found, attribute changes read old, a deleted topic is still
//! there, a new subscription is missing from its topic's list (a removed one still listed), and
//! tags read old.
//!
//! Topics are keyed by name: a `TopicArn` names its topic by its last `:` segment, and a
//! CreateTopic's snapshot reads use the ARN made from its name, region and the default account.

use super::{
    Hooks, KeyFrom as K, Read, ServiceRules, TagView, Template as T, Write, WriteKind as W, arn_names,
};

const TOPIC: &str = "sns-topic";
const ARN: K = K::Tail("TopicArn", ":");
const TAGGED: K = K::Tail("ResourceArn", ":");

const UPDATE: Write = Write {
    op: "SetTopicAttributes",
    class: TOPIC,
    key: ARN,
    kind: W::Update,
    reads: &["GetTopicAttributes"],
    status: None,
    tagging: false,
};
const TAG: Write = Write {
    op: "TagResource",
    key: TAGGED,
    kind: W::Tag,
    reads: &["ListTagsForResource"],
    tagging: true,
    ..UPDATE
};

const SUBSCRIBE: Write = Write { op: "Subscribe", reads: &["ListSubscriptionsByTopic"], ..UPDATE };

pub(super) static RULES: ServiceRules = ServiceRules {
    service: "sns",
    writes: &[
        Write { op: "CreateTopic", key: K::NameArn("Name", "sns"), kind: W::Create, ..UPDATE },
        UPDATE,
        Write { op: "DeleteTopic", kind: W::Delete, ..UPDATE },
        SUBSCRIBE,
        // `arn:aws:sns:r:a:TOPIC:ID` names its topic.
        Write { op: "Unsubscribe", key: K::Parent("SubscriptionArn", ":"), kind: W::Delete, ..SUBSCRIBE },
        TAG,
        Write { op: "UntagResource", ..TAG },
    ],
    reads: &[
        Read {
            op: "GetTopicAttributes",
            class: TOPIC,
            key: ARN,
            template: T::Query("Action=GetTopicAttributes&Version=2010-03-31&TopicArn={1}"),
            variant: None,
        },
        Read {
            op: "ListSubscriptionsByTopic",
            class: TOPIC,
            key: ARN,
            template: T::Query("Action=ListSubscriptionsByTopic&Version=2010-03-31&TopicArn={1}"),
            variant: None,
        },
        Read {
            op: "ListTagsForResource",
            class: TOPIC,
            key: TAGGED,
            template: T::Query("Action=ListTagsForResource&Version=2010-03-31&ResourceArn={1}"),
            variant: None,
        },
    ],
    hooks: Hooks::NONE,
    // `arn:aws:sns:r:a:NAME`
    tag_view: Some(TagView { type_filter: "sns", names: |key, arn| arn_names(key, arn, "sns", ":") }),
};
