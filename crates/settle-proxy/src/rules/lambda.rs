//! Lambda (restJson): its operations named from a route table, function states, and tags.
//!
//! moto makes a function `Active` and every update `Successful` at once; AWS does not:
//! - CreateFunction answers `State: Pending`, and GetFunction / GetFunctionConfiguration show
//!   `Pending` until the function is `Active` (the lag);
//! - UpdateFunctionCode / UpdateFunctionConfiguration answer `LastUpdateStatus: InProgress`, shown
//!   until `Successful`, and a second update meanwhile is refused with `ResourceConflictException`;
//! - TagResource / UntagResource: ListTags and the tagging view read the old tags.
//!
//! Functions are keyed by name: a function ARN (`arn:aws:lambda:r:a:function:NAME`) names `NAME`.
//! Not simulated: `Pending` refusing updates (AWS also answers ResourceConflictException then),
//! `Failed` states, Invoke (moto needs Docker for it).

use std::borrow::Cow;

use super::{
    Hooks, Key, KeyFrom as K, Read, Ready, Route, ServiceRules, StatusLag, TagView, Template as T, Wire,
    Write, WriteKind as W,
};
use crate::protocol::{ParsedRequest, StoredResponse};

const FUNCTION: &str = "lambda-function";
/// A function name, partial ARN or ARN, from the JSON body (create) or the path.
const NAME: K = K::Tail("FunctionName", ":function:");
/// A function ARN in the tags path.
const ARN: K = K::Tail("ARN", ":function:");
/// The status an update shows until it is `Successful`.
const IN_PROGRESS: &str = "InProgress";
/// The state a new function shows until it is `Active`.
const PENDING: &str = "Pending";
/// The reads that show a function's state.
const STATE_READS: &str = "GetFunction|GetFunctionConfiguration";
/// Updates refused while another update of the function is in progress.
const UPDATES: &[&str] = &["UpdateFunctionCode", "UpdateFunctionConfiguration"];

/// Lambda's REST routes: method, path template (`{Label}` is one path segment) and operation.
const ROUTES: &[Route] = &[
    Route { method: "POST", path: "/2015-03-31/functions", op: "CreateFunction" },
    Route { method: "GET", path: "/2015-03-31/functions", op: "ListFunctions" },
    Route { method: "GET", path: "/2015-03-31/functions/{FunctionName}", op: "GetFunction" },
    Route { method: "DELETE", path: "/2015-03-31/functions/{FunctionName}", op: "DeleteFunction" },
    Route {
        method: "GET",
        path: "/2015-03-31/functions/{FunctionName}/configuration",
        op: "GetFunctionConfiguration",
    },
    Route {
        method: "PUT",
        path: "/2015-03-31/functions/{FunctionName}/configuration",
        op: "UpdateFunctionConfiguration",
    },
    Route { method: "PUT", path: "/2015-03-31/functions/{FunctionName}/code", op: "UpdateFunctionCode" },
    Route { method: "POST", path: "/2015-03-31/functions/{FunctionName}/invocations", op: "Invoke" },
    Route { method: "POST", path: "/2015-03-31/functions/{FunctionName}/versions", op: "PublishVersion" },
    Route {
        method: "GET",
        path: "/2015-03-31/functions/{FunctionName}/versions",
        op: "ListVersionsByFunction",
    },
    Route { method: "POST", path: "/2015-03-31/functions/{FunctionName}/aliases", op: "CreateAlias" },
    Route { method: "GET", path: "/2015-03-31/functions/{FunctionName}/aliases", op: "ListAliases" },
    Route { method: "GET", path: "/2015-03-31/functions/{FunctionName}/aliases/{Name}", op: "GetAlias" },
    Route { method: "PUT", path: "/2015-03-31/functions/{FunctionName}/aliases/{Name}", op: "UpdateAlias" },
    Route {
        method: "DELETE",
        path: "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        op: "DeleteAlias",
    },
    Route { method: "POST", path: "/2015-03-31/functions/{FunctionName}/policy", op: "AddPermission" },
    Route { method: "GET", path: "/2015-03-31/functions/{FunctionName}/policy", op: "GetPolicy" },
    Route {
        method: "DELETE",
        path: "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
        op: "RemovePermission",
    },
    Route {
        method: "PUT",
        path: "/2017-10-31/functions/{FunctionName}/concurrency",
        op: "PutFunctionConcurrency",
    },
    Route {
        method: "GET",
        path: "/2019-09-30/functions/{FunctionName}/concurrency",
        op: "GetFunctionConcurrency",
    },
    Route {
        method: "DELETE",
        path: "/2017-10-31/functions/{FunctionName}/concurrency",
        op: "DeleteFunctionConcurrency",
    },
    Route { method: "POST", path: "/2015-03-31/event-source-mappings", op: "CreateEventSourceMapping" },
    Route { method: "GET", path: "/2015-03-31/event-source-mappings", op: "ListEventSourceMappings" },
    Route { method: "GET", path: "/2015-03-31/event-source-mappings/{UUID}", op: "GetEventSourceMapping" },
    Route { method: "PUT", path: "/2015-03-31/event-source-mappings/{UUID}", op: "UpdateEventSourceMapping" },
    Route {
        method: "DELETE",
        path: "/2015-03-31/event-source-mappings/{UUID}",
        op: "DeleteEventSourceMapping",
    },
    Route { method: "POST", path: "/2017-03-31/tags/{ARN}", op: "TagResource" },
    Route { method: "GET", path: "/2017-03-31/tags/{ARN}", op: "ListTags" },
    Route { method: "DELETE", path: "/2017-03-31/tags/{ARN}", op: "UntagResource" },
];

/// A function write that shows a state until its lag ends.
const UPDATE: Write = Write {
    op: "UpdateFunctionCode",
    class: FUNCTION,
    key: NAME,
    kind: W::Update,
    reads: &[],
    status: Some(StatusLag { status: IN_PROGRESS, read: STATE_READS, from_snapshot: false, blocks: UPDATES }),
    tagging: false,
};
const TAG: Write = Write {
    op: "TagResource",
    key: ARN,
    kind: W::Tag,
    reads: &["ListTags"],
    status: None,
    tagging: true,
    ..UPDATE
};

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "lambda",
    writes: &[
        Write {
            op: "CreateFunction",
            kind: W::Create,
            status: Some(StatusLag { status: PENDING, read: STATE_READS, from_snapshot: false, blocks: &[] }),
            ..UPDATE
        },
        UPDATE,
        Write { op: "UpdateFunctionConfiguration", ..UPDATE },
        TAG,
        Write { op: "UntagResource", ..TAG },
    ],
    reads: &[
        Read {
            op: "GetFunction",
            class: FUNCTION,
            key: NAME,
            template: T::RestJson("GET", "/2015-03-31/functions/{1}"),
            variant: None,
        },
        Read {
            op: "GetFunctionConfiguration",
            class: FUNCTION,
            key: NAME,
            template: T::RestJson("GET", "/2015-03-31/functions/{1}/configuration"),
            variant: None,
        },
        Read {
            op: "ListTags",
            class: FUNCTION,
            key: ARN,
            template: T::RestJson("GET", "/2017-03-31/tags/{1}"),
            variant: None,
        },
    ],
    hooks: Hooks { needs_ready: Some(no_update_in_progress), show_status: Some(show_state), ..Hooks::NONE },
    // `arn:aws:lambda:r:a:function:NAME`
    tag_view: Some(TagView { type_filter: "lambda:function", names: function_arn }),
    wire: Wire { routes: ROUTES, ..Wire::DEFAULT },
};

/// `arn:aws:lambda:r:a:function:NAME[:qualifier]` names `NAME`.
fn function_arn(key: &Key, arn: &str) -> bool {
    arn.starts_with("arn:aws:lambda:")
        && arn.split_once(":function:").is_some_and(|(_, rest)| rest.split(':').next() == Some(&key.name))
}

/// An update while another is in progress: AWS's ResourceConflictException, naming the function.
fn no_update_in_progress(req: &ParsedRequest) -> Option<Ready> {
    if !UPDATES.contains(&req.info.operation.as_str()) {
        return None;
    }
    let key = super::keys(NAME, FUNCTION, req).pop()?;
    let region = req.region.as_deref().unwrap_or("us-east-1");
    let arn = format!("arn:aws:lambda:{region}:{}:function:{}", super::DEFAULT_ACCOUNT, key.name);
    Some(Ready {
        key: key.id(),
        code: "ResourceConflictException",
        message: Cow::Owned(format!(
            "The operation cannot be performed at this time. An update is in progress for resource: {arn}"
        )),
    })
}

/// Shows `Pending` (State) or `InProgress` (LastUpdateStatus) in a function configuration: the
/// answer's root (CreateFunction, Update*, GetFunctionConfiguration) or its `Configuration`
/// (GetFunction). Only successful answers are rewritten.
fn show_state(response: &mut StoredResponse, status: &str) -> bool {
    if !response.status.is_success() {
        return false;
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&response.body) else { return false };
    let nested = value.get("Configuration").is_some();
    let config = if nested { value.get_mut("Configuration") } else { Some(&mut value) };
    let Some(config) = config.and_then(|c| c.as_object_mut()) else { return false };
    if !config.contains_key("FunctionName") {
        return false;
    }
    if status == PENDING {
        config.insert("State".into(), PENDING.into());
        config.insert("StateReason".into(), "The function is being created.".into());
        config.insert("StateReasonCode".into(), "Creating".into());
    } else {
        config.insert("LastUpdateStatus".into(), status.into());
    }
    let Ok(body) = serde_json::to_vec(&value) else { return false };
    response.body = bytes::Bytes::from(body);
    true
}
