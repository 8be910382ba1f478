//! SNS (query): a new topic is not found, attribute changes read old, a deleted topic is still
//! there, a new subscription is missing from its topic's list (a removed one still listed), and
//! tags read old. A new subscription's ARN exists only in Subscribe's answer: GetSubscriptionAttributes
//! answers NotFound during the lag, made up by the proxy ([`Answer`]).
//!
//! Topics are keyed by name: a `TopicArn` names its topic by its last `:` segment, and a
//! CreateTopic's snapshot reads use the ARN made from its name, region and the default account.

use super::{
    Absent, Answer, AnswerIds, Hooks, KeyFrom as K, Read, ServiceRules, TagView, Template as T, Write,
    WriteKind as W, arn_names,
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

const UNSUBSCRIBE: Write = Write { reads: &["ListSubscriptionsByTopic"], ..UPDATE };
const SUBSCRIPTION: &str = "sns-subscription";
/// The topic the request names, and the subscription the answer names.
const NEW_SUBSCRIPTION: Answer = Answer {
    request: Some(ARN),
    class: SUBSCRIPTION,
    ids: AnswerIds::Xml("SubscriptionArn"),
    absent: &[Absent {
        op: "GetSubscriptionAttributes",
        status: 404,
        code: "NotFound",
        message: "Subscription does not exist",
    }],
    then: None,
};
const SUBSCRIBE: Write = Write {
    op: "Subscribe",
    key: K::Answer(&NEW_SUBSCRIPTION),
    reads: &["ListSubscriptionsByTopic"],
    ..UPDATE
};

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "sns",
    writes: &[
        Write { op: "CreateTopic", key: K::NameArn("Name", "sns"), kind: W::Create, ..UPDATE },
        UPDATE,
        Write { op: "DeleteTopic", kind: W::Delete, ..UPDATE },
        SUBSCRIBE,
        // `arn:aws:sns:r:a:TOPIC:ID` names its topic.
        Write { op: "Unsubscribe", key: K::Parent("SubscriptionArn", ":"), kind: W::Delete, ..UNSUBSCRIBE },
        TAG,
        Write { op: "UntagResource", ..TAG },
    ],
    reads: &[
        Read {
            op: "GetSubscriptionAttributes",
            class: SUBSCRIPTION,
            key: K::Query("SubscriptionArn"),
            template: T::Query("Action=GetSubscriptionAttributes&Version=2010-03-31&SubscriptionArn={0}"),
            variant: None,
        },
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
    wire: super::Wire::DEFAULT,
};
