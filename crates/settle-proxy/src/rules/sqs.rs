//! SQS (awsJson 1.0, query-compatible errors): a new queue is not found by name nor usable
//! (AWS: "wait at least one second after the queue is created"), attribute changes read old
//! (up to 60 s on AWS), a deleted queue is still there, and its name cannot be reused at once.
//!
//! Queues are keyed by name: a `QueueUrl` names its queue by its last path segment, and the
//! snapshot reads pass the bare name as `QueueUrl`, which SQS (and moto) accept.

use super::{
    ErrorShape, Hooks, KeyFrom as K, Read, Ready, ServiceRules, StatusLag, TagView, Template as T, Wire,
    Write, WriteKind as W, arn_names,
};
use crate::protocol::ParsedRequest;
use crate::visibility::Mark;

const QUEUE: &str = "sqs-queue";
const URL: K = K::Tail("QueueUrl", "/");
const ALL_READS: &[&str] = &["GetQueueUrl", "GetQueueAttributes", "ListQueueTags"];
/// Message operations refused with NonExistentQueue while a new queue's create lags.
const MESSAGES: &[&str] = &[
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "PurgeQueue",
];

const TAG_QUEUE: Write = Write {
    op: "TagQueue",
    class: QUEUE,
    key: URL,
    kind: W::Tag,
    reads: &["ListQueueTags"],
    status: None,
    tagging: true,
};

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "sqs",
    writes: &[
        Write {
            op: "CreateQueue",
            class: QUEUE,
            key: K::Json("QueueName"),
            kind: W::Create,
            reads: ALL_READS,
            // SQS shows no status (no `show_status` hook): the window only refuses MESSAGES.
            status: Some(StatusLag {
                status: "CREATING",
                read: "GetQueueUrl",
                from_snapshot: false,
                blocks: MESSAGES,
            }),
            tagging: false,
        },
        Write {
            op: "SetQueueAttributes",
            class: QUEUE,
            key: URL,
            kind: W::Update,
            reads: &["GetQueueAttributes"],
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteQueue",
            class: QUEUE,
            key: URL,
            kind: W::Delete,
            reads: ALL_READS,
            status: None,
            tagging: false,
        },
        TAG_QUEUE,
        Write { op: "UntagQueue", ..TAG_QUEUE },
    ],
    reads: &[
        Read {
            op: "GetQueueUrl",
            class: QUEUE,
            key: K::Json("QueueName"),
            template: T::Json(r#"{"QueueName":{0}}"#),
            variant: None,
        },
        Read {
            op: "GetQueueAttributes",
            class: QUEUE,
            key: URL,
            template: T::Json(r#"{"QueueUrl":{0},"AttributeNames":["All"]}"#),
            variant: None,
        },
        Read {
            op: "ListQueueTags",
            class: QUEUE,
            key: URL,
            template: T::Json(r#"{"QueueUrl":{0}}"#),
            variant: None,
        },
    ],
    hooks: Hooks { mark: Some(deleted_recently), needs_ready: Some(created_queue), ..Hooks::NONE },
    // `arn:aws:sqs:r:a:NAME`
    tag_view: Some(TagView { type_filter: "sqs", names: |key, arn| arn_names(key, arn, "sqs", ":") }),
    // SQS's own (query-compatible) code, which its SDKs model and classify as throttling.
    wire: Wire {
        throttle: Some(ErrorShape {
            status: 400,
            code: "RequestThrottled",
            message: "Request is throttled.",
        }),
        ..Wire::DEFAULT
    },
};

/// AWS's refusal of a name deleted less than 60 s before.
const DELETED_RECENTLY: (&str, &str) = (
    "AWS.SimpleQueueService.QueueDeletedRecently",
    "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
);

/// A deleted queue's name cannot be re-created for the write's window. AWS's window is a fixed
/// 60 s; the proxy's is the delete's lag (or its hold), the one window it can open.
fn deleted_recently(req: &ParsedRequest) -> Option<Mark> {
    (req.info.operation == "DeleteQueue").then_some(Mark::ForTheLag(DELETED_RECENTLY.0, DELETED_RECENTLY.1))
}

/// Message operations need their queue created: AWS answers NonExistentQueue meanwhile.
fn created_queue(req: &ParsedRequest) -> Option<Ready> {
    if !MESSAGES.contains(&req.info.operation.as_str()) {
        return None;
    }
    let key = super::keys(URL, QUEUE, req).pop()?;
    Some(Ready {
        key: key.id(),
        code: "AWS.SimpleQueueService.NonExistentQueue",
        message: "The specified queue does not exist.".into(),
    })
}
