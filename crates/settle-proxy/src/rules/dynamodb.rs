//! DynamoDB: tables read back as CREATING / UPDATING / DELETING during the lag
//! (moto is ACTIVE at once), item operations on a CREATING table fail, and tags lag; item reads
//! lag behind item writes ([`items`]).

pub(crate) mod items;

use http::{HeaderValue, StatusCode};

use super::{
    ErrorShape, Hooks, Key, KeyFrom as K, Read, Ready, ServiceRules, StatusLag, TagView, Template as T, Wire,
    Write, WriteKind as W,
};
use crate::protocol::{ParsedRequest, StoredResponse};

const TABLE: &str = "dynamodb-table";
const NAME: K = K::Json("TableName");
const ARN: K = K::TableArn("ResourceArn");
/// Item operations that fail with ResourceNotFoundException while a table is CREATING.
pub(crate) const DATA_PLANE: &[&str] =
    &["PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTimeToLive"];

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "dynamodb",
    writes: &[
        Write {
            op: "CreateTable",
            class: TABLE,
            key: NAME,
            kind: W::Create,
            reads: &[],
            status: Some(StatusLag {
                status: "CREATING",
                read: "DescribeTable",
                from_snapshot: false,
                blocks: DATA_PLANE,
            }),
            tagging: false,
        },
        Write {
            op: "UpdateTable",
            class: TABLE,
            key: NAME,
            kind: W::Update,
            reads: &[],
            status: Some(StatusLag {
                status: "UPDATING",
                read: "DescribeTable",
                from_snapshot: false,
                blocks: &[],
            }),
            tagging: false,
        },
        Write {
            op: "DeleteTable",
            class: TABLE,
            key: NAME,
            kind: W::Delete,
            reads: &[],
            status: Some(StatusLag {
                status: "DELETING",
                read: "DescribeTable",
                from_snapshot: true,
                blocks: &[],
            }),
            tagging: false,
        },
        Write {
            op: "TagResource",
            class: TABLE,
            key: ARN,
            kind: W::Tag,
            reads: &["ListTagsOfResource"],
            status: None,
            tagging: true,
        },
        Write {
            op: "UntagResource",
            class: TABLE,
            key: ARN,
            kind: W::Tag,
            reads: &["ListTagsOfResource"],
            status: None,
            tagging: true,
        },
    ],
    reads: &[
        Read {
            op: "DescribeTable",
            class: TABLE,
            key: NAME,
            template: T::Json(r#"{"TableName":{0}}"#),
            variant: None,
        },
        Read {
            op: "ListTagsOfResource",
            class: TABLE,
            key: ARN,
            template: T::Json(r#"{"ResourceArn":{0}}"#),
            variant: None,
        },
    ],
    hooks: Hooks {
        needs_ready: Some(needs_active_table),
        show_status: Some(show_table_status),
        ..Hooks::NONE
    },
    tag_view: Some(TagView { type_filter: "dynamodb:table", names: table_arn }),
    wire: Wire {
        throttle: Some(ErrorShape {
            status: 400,
            code: "ProvisionedThroughputExceededException",
            message: "The level of configured provisioned throughput for the table was exceeded. \
                      Consider increasing your provisioning level with the UpdateTable API.",
        }),
        internal: Some(ErrorShape {
            status: 500,
            code: "InternalServerError",
            message: "Internal server error",
        }),
        ..Wire::DEFAULT
    },
};

/// `arn:aws:dynamodb:r:a:table/NAME` names `NAME`.
fn table_arn(key: &Key, arn: &str) -> bool {
    arn.split_once(":table/").is_some_and(|(_, n)| n == key.name)
}

/// The table an item operation names.
pub(crate) fn data_plane_table(req: &ParsedRequest) -> Option<&str> {
    if req.info.service == "dynamodb" && DATA_PLANE.contains(&req.info.operation.as_str()) {
        req.json_str("TableName")
    } else {
        None
    }
}

/// Item operations need their table out of CREATING; AWS answers ResourceNotFoundException.
fn needs_active_table(req: &ParsedRequest) -> Option<Ready> {
    let table = data_plane_table(req)?;
    Some(Ready {
        key: format!("{TABLE}:{table}"),
        code: "ResourceNotFoundException",
        message: "Requested resource not found".into(),
    })
}

/// Rewrites the table status of a JSON answer (a success, or the 400 of a refused call) and
/// recomputes its `x-amz-crc32`, which the SDK checks.
fn show_table_status(response: &mut StoredResponse, status: &str) -> bool {
    if !response.status.is_success() && response.status != StatusCode::BAD_REQUEST {
        return false;
    }
    let Some(body) = rewrite_status(&response.body, status) else { return false };
    set_body(response, body);
    true
}

/// Replaces a JSON answer's body and recomputes its `x-amz-crc32` (the SDK checks it).
pub(crate) fn set_body(response: &mut StoredResponse, body: Vec<u8>) {
    response.headers.insert("x-amz-crc32", HeaderValue::from(crc32fast::hash(&body)));
    response.body = bytes::Bytes::from(body);
}

/// Sets `Table.TableStatus` / `TableDescription.TableStatus` in a JSON body; `None` if absent.
fn rewrite_status(body: &[u8], status: &str) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut changed = false;
    for field in ["Table", "TableDescription"] {
        if let Some(table) = value.get_mut(field).and_then(|t| t.as_object_mut())
            && table.contains_key("TableStatus")
        {
            table.insert("TableStatus".into(), status.into());
            changed = true;
        }
    }
    changed.then(|| serde_json::to_vec(&value).ok()).flatten()
}
