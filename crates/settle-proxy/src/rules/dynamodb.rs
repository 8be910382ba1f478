//! DynamoDB: tables read back as CREATING / UPDATING / DELETING during the lag
//! (moto is ACTIVE at once), item operations on a CREATING table fail, and tags lag.

use super::{KeyFrom as K, Read, ServiceRules, StatusLag, Template as T, Write, WriteKind as W};
use crate::protocol::ParsedRequest;

const TABLE: &str = "dynamodb-table";
const NAME: K = K::Json("TableName");
const ARN: K = K::TableArn("ResourceArn");
/// Item operations that fail with ResourceNotFoundException while a table is CREATING.
pub(crate) const DATA_PLANE: &[&str] =
    &["PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTimeToLive"];

pub(super) static RULES: ServiceRules = ServiceRules {
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
};

/// The table an item operation names.
pub(crate) fn data_plane_table(req: &ParsedRequest) -> Option<&str> {
    if req.info.service == "dynamodb" && DATA_PLANE.contains(&req.info.operation.as_str()) {
        req.json_str("TableName")
    } else {
        None
    }
}

/// Sets `Table.TableStatus` / `TableDescription.TableStatus` in a JSON body; `None` if absent.
pub(crate) fn rewrite_status(body: &[u8], status: &str) -> Option<Vec<u8>> {
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
