//! Per-service eventual-consistency rules, as data: which writes touch which resource
//! (and how that resource is named), which reads of it to snapshot before the write,
//! and the status lag DynamoDB shows instead of absence.
//!
//! A resource key is `class:name`, e.g. `ssm-parameter:/app/db`. A snapshot is kept per
//! key and *read id* (the read operation, plus a variant such as `WithDecryption`).

pub(crate) mod propagation;
pub(crate) mod tagging;

/// Every service with built-in rules, one line each: its module (`rules/<module>.rs`, whose
/// `RULES` is its table) becomes an entry of [`ALL`].
macro_rules! services {
    ($($module:ident),* $(,)?) => {
        $(pub(crate) mod $module;)*
        /// Every service with built-in rules.
        pub(crate) const ALL: &[&ServiceRules] = &[$(&$module::RULES),*];
    };
}

services! {
    ssm,
    secretsmanager,
    s3,
    iam,
    dynamodb,
    sqs,
    kms,
    logs,
    sns,
    ec2,
    lambda,
    route53,
}

use std::borrow::Cow;

use serde::Serialize;

use crate::protocol::{ParsedRequest, StoredResponse, percent_encode};
use crate::visibility::Mark;

/// What a write does to its resource (informational: the snapshot model is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteKind {
    /// Creates the resource: reads see it absent during the lag.
    Create,
    /// Creates or replaces it (e.g. PutParameter): reads see the previous state.
    Put,
    /// Changes it: reads see the old value.
    Update,
    /// Deletes it: reads still see it.
    Delete,
    /// Changes its tags: tag reads see the old tags.
    Tag,
}

/// How a rule finds the resource name(s) in a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyFrom {
    /// A string field of the JSON body.
    Json(&'static str),
    /// An SSM parameter name field, without a `:version` or `:label` selector (a selector
    /// becomes part of the read id, so `name:label` reads have snapshots of their own).
    Parameter(&'static str),
    /// A list-of-strings field of the JSON body (one key per element).
    JsonList(&'static str),
    /// A JSON field (or query parameter), only when another has a given value.
    JsonIf(&'static str, &'static str, &'static str),
    /// A Secrets Manager secret name or ARN (the ARN's random suffix is dropped).
    SecretId(&'static str),
    /// A DynamoDB table ARN (the name is what follows `table/`).
    TableArn(&'static str),
    /// A JSON field (or query parameter) whose name is what follows the last `sep` (all of it
    /// if there is none), less a trailing `:*`: an SQS queue URL, a KMS key ARN, a CloudWatch
    /// Logs or SNS ARN. The reference is `[name, value as sent]`: templates use `{0}` or `{1}`.
    Tail(&'static str, &'static str),
    /// A JSON field (or query parameter) whose last `sep` segment is dropped: the parent it
    /// names is [`KeyFrom::Tail`] of the rest (an SNS subscription ARN names its topic).
    Parent(&'static str, &'static str),
    /// A JSON field (or query parameter) holding a name, and `[name, ARN]` as the reference:
    /// `arn:aws:SERVICE:REGION:ACCOUNT:NAME` in the request's region and the default account.
    NameArn(&'static str, &'static str),
    /// A query parameter.
    Query(&'static str),
    /// Two query parameters, named `a/b`.
    QueryPair(&'static str, &'static str),
    /// An IAM policy ARN query parameter (the name is the last path segment).
    PolicyArn,
    /// IAM CreatePolicy: `PolicyName` (+ `Path`), referenced by the default account's ARN.
    PolicyName,
    /// The S3 bucket.
    S3Bucket,
    /// The S3 object (`bucket/key`).
    S3Object,
    /// Query parameters `prefix.1`, `prefix.2`, … (EC2's lists: `InstanceId.1`, `ResourceId.1`).
    QueryList(&'static str),
    /// Resources named by the write's *answer* (a create that learns its id only then), and
    /// those the request names under [`Answer::request`]: see [`Answer`].
    Answer(&'static Answer),
}

/// A create whose resource ids only its answer holds (EC2 RunInstances, KMS CreateKey, SNS
/// Subscribe). No pre-write snapshot can be read of an id not yet known, so during the lag the
/// proxy answers the [`Absent`] reads itself, as AWS does while the new id has not propagated.
#[derive(Debug)]
pub(crate) struct Answer {
    /// Keys the request names as well (snapshotted before the write like any other).
    pub request: Option<KeyFrom>,
    /// The class of the answer's keys.
    pub class: &'static str,
    /// Where the answer holds the new id(s).
    pub ids: AnswerIds,
    /// The operations answered with an error while the create lags.
    pub absent: &'static [Absent],
    /// A status shown after the absence, for as long again: see [`Then`].
    pub then: Option<Then>,
}

/// Where an answer holds the ids it created.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AnswerIds {
    /// The text of every XML element of this local name (EC2 `instanceId`, SNS `SubscriptionArn`).
    Xml(&'static str),
    /// A string at this path of the JSON answer (`KeyMetadata`, `KeyId`).
    Json(&'static [&'static str]),
}

/// An operation refused while a create lags: AWS's status, code and message (`{0}` is the id).
#[derive(Debug)]
pub(crate) struct Absent {
    pub op: &'static str,
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

/// The second phase of an [`Answer`] create: once reads find the resource, they show `status`
/// (EC2 `pending`, rewritten by the service's `show_status` hook) until this phase ends too.
/// A timed lag shows it for as long again; a held one until released on its own (its write is
/// recorded under `op`, e.g. `RunInstances:pending`, so `release_operation("RunInstances")` ends
/// the absence only, and releasing the resource or all ends both).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Then {
    pub op: &'static str,
    pub status: &'static str,
    pub read: &'static str,
}

/// A resource named by a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub class: &'static str,
    pub name: String,
    /// The identifiers to put in a snapshot read (`{0}`, `{1}` in templates).
    pub reference: Vec<String>,
}

impl Key {
    pub(crate) fn id(&self) -> String {
        format!("{}:{}", self.class, self.name)
    }
}

/// How to issue a read of a resource.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Template {
    /// awsJson body; `{0}`, `{1}` become JSON strings, `{v}` the variant.
    Json(&'static str),
    /// Query form body; `{0}`, `{1}` are percent-encoded.
    Query(&'static str),
    /// S3: method and sub-resource query on the resource's raw path.
    S3(&'static str, &'static str),
    /// restJson: method and path; `{0}`, `{1}` are percent-encoded.
    RestJson(&'static str, &'static str),
}

/// A REST route: the operation a method and path name (`{Label}` matches one path segment,
/// whose percent-decoded value becomes the request parameter `Label`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub op: &'static str,
}

/// The operation a REST request names by its method and path under `service`'s route table,
/// and its path labels (percent-decoded).
pub(crate) fn route(
    service: &str,
    method: &str,
    path: &str,
) -> Option<(&'static str, Vec<(String, String)>)> {
    wire(service).routes.iter().find_map(|r| route_match(r, method, path))
}

/// The operation and path labels of a request, if `route` matches it (a trailing `/` is ignored).
fn route_match(route: &Route, method: &str, path: &str) -> Option<(&'static str, Vec<(String, String)>)> {
    if route.method != method {
        return None;
    }
    let mut sent = path.trim_end_matches('/').split('/');
    let mut labels = Vec::new();
    for part in route.path.split('/') {
        let segment = sent.next()?;
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(label) if !segment.is_empty() => {
                labels.push((label.to_string(), crate::protocol::percent_decode(segment, false)))
            }
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    sent.next().is_none().then_some((route.op, labels))
}

/// An error answer of a service's own: HTTP status, code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorShape {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

/// How a service speaks where its protocol's defaults do not say: the per-service wire facts the
/// protocol layer reads (it names no service itself).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wire {
    /// REST operations by method and path (Lambda, Route 53); empty: the protocol names them.
    pub routes: &'static [Route],
    /// Its own throttling error, instead of its protocol's (DynamoDB, SQS, Route 53).
    pub throttle: Option<ErrorShape>,
    /// Its own internal error, instead of its protocol's.
    pub internal: Option<ErrorShape>,
    /// restXml errors wrapped in `<ErrorResponse xmlns="…"><Error>` (Route 53), not S3's `<Error>`.
    pub error_namespace: Option<&'static str>,
    /// Adds what the proxy knows of a routed request to its parameters (Route 53: the id it
    /// gives a change), from its headers and body.
    pub parsed: Option<fn(&mut ParsedRequest, &http::HeaderMap, &[u8])>,
}

impl Wire {
    /// A service that speaks its protocol's defaults.
    pub(crate) const DEFAULT: Wire =
        Wire { routes: &[], throttle: None, internal: None, error_namespace: None, parsed: None };
}

/// The wire facts of `service` (the defaults for a service without rules).
pub(crate) fn wire(service: &str) -> &'static Wire {
    const DEFAULT: &Wire = &Wire::DEFAULT;
    for_service(service).map_or(DEFAULT, |rules| &rules.wire)
}

/// A read the proxy can snapshot and answer from the snapshot.
#[derive(Debug)]
pub(crate) struct Read {
    pub op: &'static str,
    pub class: &'static str,
    pub key: KeyFrom,
    pub template: Template,
    /// A boolean body field that changes the answer (snapshotted both ways).
    pub variant: Option<&'static str>,
}

/// A status the read-back shows during the lag, instead of absence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatusLag {
    /// The status shown, e.g. `CREATING`.
    pub status: &'static str,
    /// The read whose answer is rewritten (several are separated by `|`).
    pub read: &'static str,
    /// Rewrite the pre-write snapshot (delete) rather than the live answer (create/update).
    pub from_snapshot: bool,
    /// Operations answered `ResourceNotFoundException` during the lag.
    pub blocks: &'static [&'static str],
}

/// A write the proxy delays the visibility of.
#[derive(Debug)]
pub(crate) struct Write {
    pub op: &'static str,
    pub class: &'static str,
    pub key: KeyFrom,
    pub kind: WriteKind,
    /// Read operations (of the same service and class) to snapshot.
    pub reads: &'static [&'static str],
    pub status: Option<StatusLag>,
    /// Whether the write changes tags, so the Resource Groups Tagging API view lags too.
    pub tagging: bool,
}

/// The rules of one service.
#[derive(Debug)]
pub(crate) struct ServiceRules {
    pub service: &'static str,
    pub writes: &'static [Write],
    pub reads: &'static [Read],
    pub hooks: Hooks,
    /// How the Resource Groups Tagging API lists the service's tagged resources, if it does.
    pub tag_view: Option<TagView>,
    /// How it speaks beyond its protocol's defaults.
    pub wire: Wire,
}

/// A service's resources in the Resource Groups Tagging API view (GetResources).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagView {
    /// The `ResourceTypeFilters` entry that lists them, e.g. `ssm:parameter`.
    pub type_filter: &'static str,
    /// Whether an ARN in the view is the resource a key names.
    pub names: fn(&Key, &str) -> bool,
}

/// What a resource must be before an operation may go on, and AWS's refusal otherwise.
#[derive(Debug, Clone)]
pub(crate) struct Ready {
    /// The resource key whose status window blocks the operation.
    pub key: String,
    pub code: &'static str,
    pub message: Cow<'static, str>,
}

/// A service's behaviour that is not a table: plain functions the pipeline calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hooks {
    /// After a successful write: the conflict mark it sets or clears on its keys (name reuse).
    pub mark: Option<fn(&ParsedRequest) -> Option<Mark>>,
    /// The resource an operation needs ready (refused while a status window blocks it).
    pub needs_ready: Option<fn(&ParsedRequest) -> Option<Ready>>,
    /// Rewrites the status shown in an answer; whether it changed it.
    pub show_status: Option<fn(&mut StoredResponse, &str) -> bool>,
    /// Rewrites a successful write's answer (Route 53: puts in the change id the proxy made).
    pub answer: Option<fn(&ParsedRequest, &mut StoredResponse)>,
}

impl Hooks {
    /// A service with tables only.
    pub(crate) const NONE: Hooks = Hooks { mark: None, needs_ready: None, show_status: None, answer: None };
}

/// The rules of a service.
pub(crate) fn for_service(service: &str) -> Option<&'static ServiceRules> {
    ALL.iter().copied().find(|r| r.service == service)
}

/// Most labels of one LabelParameterVersion call that get a snapshot of their own (AWS's limit).
const MAX_LABELS: usize = 10;

/// Most elements of an EC2 list parameter (`InstanceId.N`) read as keys.
const MAX_LIST: usize = 10;

/// The default account moto uses, for ARNs the proxy has to make up.
pub(crate) const DEFAULT_ACCOUNT: &str = "123456789012";

/// The keys a request names under a rule.
pub(crate) fn keys(from: KeyFrom, class: &'static str, req: &ParsedRequest) -> Vec<Key> {
    let one = |name: String, reference: Vec<String>| vec![Key { class, name, reference }];
    let simple = |s: &str| one(s.to_string(), vec![s.to_string()]);
    match from {
        KeyFrom::Json(field) => req.json_str(field).map(simple).unwrap_or_default(),
        KeyFrom::Parameter(field) => {
            req.json_str(field).map(|n| simple(parameter_selector(n).0)).unwrap_or_default()
        }
        KeyFrom::JsonList(field) => req
            .json
            .as_ref()
            .and_then(|j| j.get(field))
            .and_then(|v| v.as_array())
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str())
                    .map(|n| Key { class, name: n.to_string(), reference: vec![n.to_string()] })
                    .collect()
            })
            .unwrap_or_default(),
        KeyFrom::JsonIf(field, cond, value) => {
            if req.json_str(cond).or_else(|| req.param(cond)) == Some(value) {
                req.json_str(field).or_else(|| req.param(field)).map(simple).unwrap_or_default()
            } else {
                Vec::new()
            }
        }
        KeyFrom::SecretId(field) => req
            .json_str(field)
            .map(|id| one(secretsmanager::secret_name(id).to_string(), vec![id.to_string()]))
            .unwrap_or_default(),
        KeyFrom::TableArn(field) => req
            .json_str(field)
            .and_then(|arn| {
                let name = arn.split_once(":table/")?.1.split('/').next()?;
                Some(one(name.to_string(), vec![arn.to_string()]))
            })
            .unwrap_or_default(),
        KeyFrom::Tail(field, sep) => req
            .json_str(field)
            .or_else(|| req.param(field))
            .map(|value| {
                let name = tail_name(value, sep).to_string();
                one(name.clone(), vec![name, value.to_string()])
            })
            .unwrap_or_default(),
        KeyFrom::Parent(field, sep) => req
            .json_str(field)
            .or_else(|| req.param(field))
            .and_then(|value| value.rsplit_once(sep))
            .map(|(parent, _)| {
                let name = tail_name(parent, sep).to_string();
                one(name.clone(), vec![name, parent.to_string()])
            })
            .unwrap_or_default(),
        KeyFrom::NameArn(field, service) => req
            .json_str(field)
            .or_else(|| req.param(field))
            .map(|name| {
                let region = req.region.as_deref().unwrap_or("us-east-1");
                one(
                    name.to_string(),
                    vec![name.to_string(), format!("arn:aws:{service}:{region}:{DEFAULT_ACCOUNT}:{name}")],
                )
            })
            .unwrap_or_default(),
        KeyFrom::Query(name) => req.param(name).map(simple).unwrap_or_default(),
        KeyFrom::QueryPair(a, b) => match (req.param(a), req.param(b)) {
            (Some(a), Some(b)) => one(format!("{a}/{b}"), vec![a.to_string(), b.to_string()]),
            _ => Vec::new(),
        },
        KeyFrom::PolicyArn => req
            .param("PolicyArn")
            .map(|arn| one(arn.rsplit('/').next().unwrap_or(arn).to_string(), vec![arn.to_string()]))
            .unwrap_or_default(),
        KeyFrom::PolicyName => req
            .param("PolicyName")
            .map(|name| {
                let path = req.param("Path").unwrap_or("/");
                one(name.to_string(), vec![format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy{path}{name}")])
            })
            .unwrap_or_default(),
        KeyFrom::S3Bucket => match &req.s3 {
            Some(loc) if loc.key.is_none() => match &loc.bucket {
                Some(bucket) => one(bucket.clone(), vec![loc.raw_path.clone()]),
                None => Vec::new(),
            },
            _ => Vec::new(),
        },
        KeyFrom::QueryList(prefix) => (1..=MAX_LIST)
            .map_while(|i| req.param(&format!("{prefix}.{i}")))
            .map(|id| Key { class, name: id.to_string(), reference: vec![id.to_string()] })
            .collect(),
        KeyFrom::Answer(answer) => answer.request.map(|from| keys(from, class, req)).unwrap_or_default(),
        KeyFrom::S3Object => match &req.s3 {
            Some(loc) => match (&loc.bucket, &loc.key) {
                (Some(bucket), Some(key)) => one(format!("{bucket}/{key}"), vec![loc.raw_path.clone()]),
                _ => Vec::new(),
            },
            None => Vec::new(),
        },
    }
}

/// The keys a successful write's answer names under an [`Answer`] rule (at most [`MAX_LIST`]).
pub(crate) fn answer_keys(answer: &Answer, body: &[u8]) -> Vec<Key> {
    let mut ids = match answer.ids {
        AnswerIds::Xml(element) => xml_texts(body, element),
        AnswerIds::Json(path) => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| path.iter().try_fold(v, |v, field| v.get(field).cloned()))
            .and_then(|v| v.as_str().map(str::to_string))
            .into_iter()
            .collect(),
    };
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids.truncate(MAX_LIST);
    ids.into_iter().map(|id| Key { class: answer.class, name: id.clone(), reference: vec![id] }).collect()
}

/// The trimmed text of every element named `name` (any namespace prefix); none if the XML is bad.
fn xml_texts(body: &[u8], name: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let (mut out, mut current): (Vec<String>, Option<String>) = (Vec::new(), None);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == name.as_bytes() => {
                current = Some(String::new())
            }
            Ok(Event::Text(t)) if current.is_some() => {
                let Ok(text) = t.decode() else { return Vec::new() };
                current.as_mut().into_iter().for_each(|c| c.push_str(text.trim()));
            }
            Ok(Event::End(_)) => out.extend(current.take().filter(|c| !c.is_empty())),
            Ok(Event::Eof) => return out,
            Err(_) => return Vec::new(),
            _ => {}
        }
        buf.clear();
    }
}

/// The name a value stands for under [`KeyFrom::Tail`]: what follows the last `sep`, less `:*`.
fn tail_name<'a>(value: &'a str, sep: &str) -> &'a str {
    let tail = value.rsplit_once(sep).map_or(value, |(_, tail)| tail);
    tail.strip_suffix(":*").unwrap_or(tail)
}

/// Whether a tagging-view ARN of `service` names `key` under the [`KeyFrom::Tail`] rule with
/// `sep` (an SQS queue and an SNS topic may share a name: the service tells them apart).
pub(crate) fn arn_names(key: &Key, arn: &str, service: &str, sep: &str) -> bool {
    arn.split(':').nth(2) == Some(service)
        && arn.starts_with("arn:")
        && arn.contains(sep)
        && tail_name(arn, sep) == key.name
}

/// The idempotency key (operation and client token) of a request AWS answers once per token.
pub(crate) fn idempotency_key(req: &ParsedRequest) -> Option<String> {
    ec2::client_token(req)
}

/// The write rule for a request, if any.
pub(crate) fn write_rule(req: &ParsedRequest) -> Option<&'static Write> {
    for_service(&req.info.service)?.writes.iter().find(|w| w.op == req.info.operation)
}

/// The read rule for a request, if any.
pub(crate) fn read_rule(req: &ParsedRequest) -> Option<&'static Read> {
    for_service(&req.info.service)?.reads.iter().find(|r| r.op == req.info.operation)
}

/// The read id of an incoming read: the operation and its variant.
pub(crate) fn read_id(read: &Read, req: &ParsedRequest) -> String {
    let mut id = match read.variant {
        Some(field) => {
            let on = req.json.as_ref().and_then(|j| j.get(field)).and_then(|v| v.as_bool()).unwrap_or(false);
            format!("{}|{on}", read.op)
        }
        None => read.op.to_string(),
    };
    if let KeyFrom::Parameter(field) = read.key
        && let Some(selector) = req.json_str(field).and_then(|n| parameter_selector(n).1)
    {
        id = format!("{id}|:{selector}");
    }
    id
}

/// An SSM parameter reference split into its name and its `:version`/`:label` selector
/// (ARNs keep their colons; the selector is what follows the name's last `:` after `parameter/`).
pub(crate) fn parameter_selector(reference: &str) -> (&str, Option<&str>) {
    let name_start = reference.find(":parameter/").map_or(0, |i| i + ":parameter".len());
    match reference[name_start..].rfind(':') {
        Some(i) => (&reference[..name_start + i], Some(&reference[name_start + i + 1..])),
        None => (reference, None),
    }
}

/// The resource key a request names (the first, for multi-key requests), for the recording.
pub(crate) fn resource_of(req: &ParsedRequest) -> Option<String> {
    if let Some(w) = write_rule(req) {
        return keys(w.key, w.class, req).first().map(Key::id);
    }
    if let Some(r) = read_rule(req) {
        return keys(r.key, r.class, req).first().map(Key::id);
    }
    if let Some(s3) = &req.s3 {
        return match (&s3.bucket, &s3.key) {
            (Some(b), Some(k)) => Some(format!("s3-object:{b}/{k}")),
            (Some(b), None) => Some(format!("s3-bucket:{b}")),
            _ => None,
        };
    }
    dynamodb::data_plane_table(req).map(|t| format!("dynamodb-table:{t}"))
}

/// A read request to issue upstream for a snapshot.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotRead {
    /// The read id the snapshot answers.
    pub read_id: String,
    pub method: http::Method,
    /// Path and query.
    pub path: String,
    /// `X-Amz-Target`, for awsJson.
    pub target: Option<String>,
    pub content_type: Option<&'static str>,
    pub body: String,
}

/// The snapshot reads for a key under a write rule.
pub(crate) fn snapshot_reads(
    rules: &ServiceRules,
    write: &Write,
    key: &Key,
    req: &ParsedRequest,
) -> Vec<SnapshotRead> {
    let mut out = Vec::new();
    let mut read_ops: Vec<&str> = write.reads.to_vec();
    if let Some(status) = write.status
        && status.from_snapshot
        && !read_ops.contains(&status.read)
    {
        read_ops.push(status.read);
    }
    for op in read_ops {
        let Some(read) = rules.reads.iter().find(|r| r.op == op && r.class == write.class) else { continue };
        let variants: Vec<Option<bool>> = match read.variant {
            Some(_) => vec![Some(false), Some(true)],
            None => vec![None],
        };
        // A labelling write also snapshots `name:label` for each label it sets.
        let mut selectors: Vec<(String, Vec<String>)> = vec![(String::new(), key.reference.clone())];
        if matches!(read.key, KeyFrom::Parameter(_)) {
            let labels = req.json.as_ref().and_then(|j| j.get("Labels")).and_then(|l| l.as_array());
            // AWS takes at most 10 labels a call: no more snapshot reads than that.
            for label in labels.into_iter().flatten().filter_map(|l| l.as_str()).take(MAX_LABELS) {
                selectors.push((format!("|:{label}"), vec![format!("{}:{label}", key.name)]));
            }
        }
        for variant in variants {
            for (suffix, reference) in &selectors {
                let read_id = match variant {
                    Some(v) => format!("{op}|{v}{suffix}"),
                    None => format!("{op}{suffix}"),
                };
                let fill = |tpl: &str, encode: &dyn Fn(&str) -> String| {
                    let mut text = tpl.to_string();
                    for (i, r) in reference.iter().enumerate() {
                        text = text.replace(&format!("{{{i}}}"), &encode(r));
                    }
                    text.replace("{v}", &variant.unwrap_or(false).to_string())
                };
                let snapshot = match read.template {
                    Template::Json(tpl) => SnapshotRead {
                        read_id,
                        method: http::Method::POST,
                        path: "/".into(),
                        target: Some(format!("{}.{op}", req.target_prefix.as_deref().unwrap_or(""))),
                        content_type: Some(crate::protocol::awsjson::content_type(rules.service)),
                        body: fill(tpl, &|s| serde_json::Value::from(s).to_string()),
                    },
                    Template::Query(tpl) => SnapshotRead {
                        read_id,
                        method: http::Method::POST,
                        path: "/".into(),
                        target: None,
                        content_type: Some("application/x-www-form-urlencoded; charset=utf-8"),
                        body: fill(tpl, &percent_encode),
                    },
                    Template::RestJson(method, path) => SnapshotRead {
                        read_id,
                        method: method.parse().unwrap_or(http::Method::GET),
                        path: fill(path, &percent_encode),
                        target: None,
                        content_type: None,
                        body: String::new(),
                    },
                    Template::S3(method, query) => {
                        let base = reference.first().cloned().unwrap_or_else(|| "/".into());
                        SnapshotRead {
                            read_id,
                            method: method.parse().unwrap_or(http::Method::GET),
                            path: if query.is_empty() { base } else { format!("{base}?{query}") },
                            target: None,
                            content_type: None,
                            body: String::new(),
                        }
                    }
                };
                out.push(snapshot);
            }
        }
    }
    out
}

/// A compact description of every built-in rule, for `GET /__settle/rules` and the docs.
pub fn describe() -> serde_json::Value {
    let services: Vec<serde_json::Value> = ALL
        .iter()
        .map(|rules| {
            let writes: Vec<serde_json::Value> = rules
                .writes
                .iter()
                .map(|w| {
                    serde_json::json!({
                        "operation": w.op,
                        "resource": w.class,
                        "kind": w.kind,
                        "snapshots": w.reads,
                        "status": w.status.map(|s| s.status),
                        "taggingView": w.tagging,
                    })
                })
                .collect();
            serde_json::json!({ "service": rules.service, "writes": writes })
        })
        .collect();
    serde_json::json!(services)
}

#[cfg(test)]
mod tests {
    use super::{Key, KeyFrom, arn_names, keys, parameter_selector};
    use crate::protocol::{ParsedRequest, Protocol, RequestInfo};

    fn request(json: serde_json::Value, params: &[(&str, &str)]) -> ParsedRequest {
        let info = RequestInfo {
            service: String::new(),
            operation: String::new(),
            resource: None,
            protocol: Protocol::AwsJson,
        };
        let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ParsedRequest { info, target_prefix: None, json: Some(json), params, s3: None, region: None }
    }

    #[test]
    fn tail_keys_name_queues_keys_and_log_groups_by_their_last_segment() {
        let key = |from, json| keys(from, "c", &request(json, &[])).pop().map(|k| (k.name, k.reference));
        let url = "http://localhost:4566/123456789012/q1";
        let queue = key(KeyFrom::Tail("QueueUrl", "/"), serde_json::json!({ "QueueUrl": url }));
        assert_eq!(queue, Some(("q1".into(), vec!["q1".into(), url.into()])));
        let arn = "arn:aws:logs:us-east-1:123456789012:log-group:/a/b:*";
        let group =
            key(KeyFrom::Tail("resourceArn", ":log-group:"), serde_json::json!({ "resourceArn": arn }));
        assert_eq!(group.map(|g| g.0).as_deref(), Some("/a/b"), "the :* suffix is dropped");
        let alias = key(KeyFrom::Tail("KeyId", "/"), serde_json::json!({ "KeyId": "alias/app" }));
        assert_eq!(alias.map(|a| a.1), Some(vec!["app".into(), "alias/app".into()]), "sent as it came");
        let topic =
            keys(KeyFrom::NameArn("Name", "sns"), "c", &request(serde_json::json!({}), &[("Name", "t")]));
        assert_eq!(topic[0].reference[1], "arn:aws:sns:us-east-1:123456789012:t");
        assert!(key(KeyFrom::Tail("QueueUrl", "/"), serde_json::json!({})).is_none());
        let subscription = "arn:aws:sns:us-east-1:123456789012:t:0b1c";
        let parent = key(
            KeyFrom::Parent("SubscriptionArn", ":"),
            serde_json::json!({ "SubscriptionArn": subscription }),
        );
        assert_eq!(
            parent,
            Some(("t".into(), vec!["t".into(), "arn:aws:sns:us-east-1:123456789012:t".into()]))
        );
    }

    #[test]
    fn tagging_view_arns_name_a_key_of_their_own_service_only() {
        let key = Key { class: "sqs-queue", name: "shared".into(), reference: vec![] };
        assert!(arn_names(&key, "arn:aws:sqs:us-east-1:123456789012:shared", "sqs", ":"));
        assert!(!arn_names(&key, "arn:aws:sns:us-east-1:123456789012:shared", "sqs", ":"));
        assert!(!arn_names(&key, "arn:aws:sqs:us-east-1:123456789012:shared2", "sqs", ":"));
    }

    #[test]
    fn parameter_selectors_split_off_versions_and_labels_but_not_arn_colons() {
        assert_eq!(parameter_selector("/app/db"), ("/app/db", None));
        assert_eq!(parameter_selector("/app/db:3"), ("/app/db", Some("3")));
        assert_eq!(parameter_selector("/app/db:stable"), ("/app/db", Some("stable")));
        let arn = "arn:aws:ssm:us-east-1:123456789012:parameter/app/db";
        assert_eq!(parameter_selector(arn), (arn, None));
        assert_eq!(parameter_selector(&format!("{arn}:blue")), (arn, Some("blue")));
    }
}
