//! restXml (S3): bucket and key from the path (path style) or the Host header
//! (virtual-hosted style), the operation from method, sub-resource and `x-id`.

use http::{HeaderMap, Method, Uri};

use super::query::parse_form;
use super::{ParsedRequest, Protocol, S3Location, StoredResponse, header_str, percent_decode, xml_escape};

/// Sub-resources that name bucket/object operations, in priority order.
const SUB_RESOURCES: &[(&str, &str)] = &[
    ("tagging", "Tagging"),
    ("acl", "Acl"),
    ("policy", "Policy"),
    ("versioning", "Versioning"),
    ("cors", "Cors"),
    ("lifecycle", "LifecycleConfiguration"),
    ("encryption", "Encryption"),
    ("website", "Website"),
    ("notification", "NotificationConfiguration"),
    ("logging", "Logging"),
    ("replication", "Replication"),
    ("ownershipControls", "OwnershipControls"),
    ("publicAccessBlock", "PublicAccessBlock"),
    ("object-lock", "ObjectLockConfiguration"),
    ("accelerate", "AccelerateConfiguration"),
    ("requestPayment", "RequestPayment"),
    ("retention", "Retention"),
    ("legal-hold", "LegalHold"),
    ("attributes", "Attributes"),
];

/// A restXml service with a route table (Route 53): the operation and its path labels from
/// method and path, query parameters, and what the service's wire facts add.
pub(super) fn parse_routed(
    parsed: &mut ParsedRequest,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) {
    parsed.info.protocol = Protocol::RestXml;
    let wire = crate::rules::wire(&parsed.info.service);
    let Some((operation, params)) = crate::rules::route(&parsed.info.service, method.as_str(), uri.path())
    else {
        return;
    };
    parsed.info.operation = operation.to_string();
    parsed.params = params;
    if let Some(query) = uri.query() {
        parsed.params.extend(parse_form(query.as_bytes()));
    }
    if let Some(add) = wire.parsed {
        add(parsed, headers, body);
    }
}

pub(super) fn parse(parsed: &mut ParsedRequest, method: &Method, uri: &Uri, headers: &HeaderMap) {
    let query = uri.query().map(|q| parse_form(q.as_bytes())).unwrap_or_default();
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    let raw_path = uri.path().to_string();
    let host = header_str(headers, "host").unwrap_or("");
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let virtual_bucket = (host.contains(".s3.") || host.contains(".s3-") || host.ends_with(".localhost"))
        .then(|| host.split('.').next().unwrap_or("").to_string())
        .filter(|b| !b.is_empty() && b != "s3");
    let trimmed = raw_path.trim_start_matches('/');
    let (bucket, key) = match virtual_bucket {
        Some(bucket) => (Some(bucket), (!trimmed.is_empty()).then(|| percent_decode(trimmed, false))),
        None => {
            let (b, k) = trimmed.split_once('/').unwrap_or((trimmed, ""));
            (
                (!b.is_empty()).then(|| percent_decode(b, false)),
                (!k.is_empty()).then(|| percent_decode(k, false)),
            )
        }
    };
    let sub = SUB_RESOURCES.iter().find(|(q, _)| has(q)).map(|(_, name)| *name);
    let x_id = query.iter().find(|(k, _)| k == "x-id").map(|(_, v)| v.clone());
    let verb = match *method {
        Method::GET => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        Method::HEAD => "Head",
        Method::POST => "Post",
        _ => "Other",
    };
    let operation = match (&bucket, &key) {
        (None, _) => {
            if *method == Method::GET {
                "ListBuckets".into()
            } else {
                format!("{verb}Service")
            }
        }
        (Some(_), None) => match (method.as_str(), sub) {
            (_, Some(sub)) => format!("{verb}Bucket{sub}"),
            ("PUT", None) => "CreateBucket".into(),
            ("HEAD", None) => "HeadBucket".into(),
            ("DELETE", None) => "DeleteBucket".into(),
            ("POST", None) if has("delete") => "DeleteObjects".into(),
            ("GET", None) if has("location") => "GetBucketLocation".into(),
            ("GET", None) if has("uploads") => "ListMultipartUploads".into(),
            ("GET", None) if has("versions") => "ListObjectVersions".into(),
            ("GET", None) if query.iter().any(|(k, v)| k == "list-type" && v == "2") => {
                "ListObjectsV2".into()
            }
            ("GET", None) => "ListObjects".into(),
            _ => format!("{verb}Bucket"),
        },
        (Some(_), Some(_)) => match (x_id, method.as_str(), sub) {
            (Some(x_id), _, _) if !x_id.is_empty() => x_id,
            (_, _, Some(sub)) => format!("{verb}Object{sub}"),
            (_, "PUT", None) if headers.contains_key("x-amz-copy-source") => "CopyObject".into(),
            (_, "PUT", None) if has("partNumber") => "UploadPart".into(),
            (_, "POST", None) if has("uploads") => "CreateMultipartUpload".into(),
            (_, "POST", None) if has("uploadId") => "CompleteMultipartUpload".into(),
            (_, "DELETE", None) if has("uploadId") => "AbortMultipartUpload".into(),
            _ => format!("{verb}Object"),
        },
    };
    parsed.info.protocol = Protocol::RestXml;
    parsed.info.operation = operation;
    parsed.s3 = Some(S3Location { bucket, key, raw_path });
}

pub(super) fn render_error(service: &str, code: &str, message: &str) -> StoredResponse {
    if let Some(namespace) = crate::rules::wire(service).error_namespace {
        // Wrapped errors (`<ErrorResponse><Error>`), unlike S3's.
        let body = format!(
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"{namespace}\">\
             <Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error>\
             <RequestId>settle-proxy-injected</RequestId></ErrorResponse>",
            xml_escape(code),
            xml_escape(message)
        );
        return StoredResponse::new(http::StatusCode::BAD_REQUEST, "text/xml", body);
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
         <RequestId>settle-proxy-injected</RequestId><HostId>settle-proxy</HostId></Error>",
        xml_escape(code),
        xml_escape(message)
    );
    StoredResponse::new(http::StatusCode::BAD_REQUEST, "application/xml", body)
}
