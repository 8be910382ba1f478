//! Protocol awareness without an AWS SDK: which service, operation and resource a
//! request is about, and how each protocol family spells its errors.
//!
//! Supported families: awsJson 1.0/1.1 (`X-Amz-Target` + JSON body), query (`Action`
//! in the form body or URL: IAM, STS, SQS, SNS…), EC2's own query (errors spelled apart), restXml (S3: method, bucket, key,
//! sub-resource) and restJson (operation named by method and first path segment).
//! The service comes from the SigV4 credential scope (`Authorization` header or
//! `X-Amz-Credential` query parameter), else from the `X-Amz-Target` prefix.

pub mod awsjson;
pub mod query;
pub mod restjson;
pub mod restxml;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde::{Deserialize, Serialize};

/// The wire protocol family of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Protocol {
    /// awsJson 1.0 or 1.1: `POST /`, `X-Amz-Target: Prefix.Operation`, JSON body.
    AwsJson,
    /// The query protocol: form-encoded `Action=...` (IAM, STS, SQS, SNS, ...).
    Query,
    /// EC2's own query protocol: form-encoded like [`Protocol::Query`], but its errors are
    /// `<Response><Errors><Error>…</Errors><RequestID>` and its throttling is `RequestLimitExceeded`.
    Ec2,
    /// restXml (S3).
    RestXml,
    /// restJson (Lambda, API Gateway, ...).
    RestJson,
    /// Not recognised: passed through untouched.
    Unknown,
}

/// What a request is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestInfo {
    /// The SigV4 signing name, e.g. `ssm`, `s3`, `dynamodb`; empty when unknown.
    pub service: String,
    /// The operation, e.g. `PutParameter`, `HeadBucket`; empty when unknown.
    pub operation: String,
    /// The resource key the proxy's rules use, e.g. `ssm-parameter:/a/b`.
    pub resource: Option<String>,
    /// The protocol family.
    pub protocol: Protocol,
}

/// The location of an S3 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket, if any.
    pub bucket: Option<String>,
    /// The object key (percent-decoded), if any.
    pub key: Option<String>,
    /// The raw request path (as sent), used to re-issue reads of the same resource.
    pub raw_path: String,
}

/// A request parsed once for the rules: the [`RequestInfo`] and its decoded parameters.
#[derive(Debug, Clone)]
pub struct ParsedRequest {
    /// What the request is about.
    pub info: RequestInfo,
    /// The `X-Amz-Target` prefix (awsJson), e.g. `AmazonSSM`.
    pub target_prefix: Option<String>,
    /// The JSON body (awsJson, restJson), when it parsed.
    pub json: Option<serde_json::Value>,
    /// Query-protocol parameters (form body and URL query), percent-decoded.
    pub params: Vec<(String, String)>,
    /// S3 bucket/key, for restXml.
    pub s3: Option<S3Location>,
    /// The SigV4 region, if any.
    pub region: Option<String>,
}

impl ParsedRequest {
    /// A string field of the JSON body.
    pub fn json_str(&self, field: &str) -> Option<&str> {
        self.json.as_ref()?.get(field)?.as_str()
    }

    /// A query-protocol parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Services whose requests are restXml when not signalled otherwise.
const REST_XML: &[&str] = &["s3", "route53", "cloudfront"];
/// Services that are restJson.
const REST_JSON: &[&str] = &[
    "lambda",
    "apigateway",
    "execute-api",
    "glacier",
    "eks",
    "batch",
    "appsync",
    "iot",
    "mq",
    "elasticfilesystem",
    "es",
    "backup",
    "ecr-public",
    "scheduler",
    "pipes",
    "schemas",
];

/// Parses a request. Never panics, whatever the input.
pub fn parse(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> ParsedRequest {
    let (scope_service, region) = sigv4_scope(headers, uri);
    let target = header_str(headers, "x-amz-target");
    let mut parsed = ParsedRequest {
        info: RequestInfo {
            service: scope_service.unwrap_or_default(),
            operation: String::new(),
            resource: None,
            protocol: Protocol::Unknown,
        },
        target_prefix: None,
        json: None,
        params: Vec::new(),
        s3: None,
        region,
    };
    if parsed.info.service.is_empty() && is_sigv2_s3(headers, uri) {
        parsed.info.service = "s3".into();
    }
    let content_type = header_str(headers, "content-type").unwrap_or("").to_ascii_lowercase();
    if let Some(target) = target {
        awsjson::parse(&mut parsed, target, body);
    } else if parsed.info.service.is_empty() {
        // Unsigned and no target: nothing to go by.
    } else if REST_XML.contains(&parsed.info.service.as_str()) {
        if crate::rules::wire(&parsed.info.service).routes.is_empty() {
            // S3. By signature, never by content type: an S3 object may well be form-encoded.
            restxml::parse(&mut parsed, method, uri, headers);
        } else {
            restxml::parse_routed(&mut parsed, method, uri, headers, body);
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        || uri.query().is_some_and(|q| query::parse_form(q.as_bytes()).iter().any(|(k, _)| k == "Action"))
    {
        query::parse(&mut parsed, uri, body);
    } else if REST_JSON.contains(&parsed.info.service.as_str()) || content_type.contains("json") {
        restjson::parse(&mut parsed, method, uri, headers, body);
    }
    parsed
}

/// Signature version 2, which only S3 still accepts: `Authorization: AWS AKID:signature`, or
/// a presigned URL with `AWSAccessKeyId`, `Signature` and `Expires` (boto3's older S3 URLs).
fn is_sigv2_s3(headers: &HeaderMap, uri: &Uri) -> bool {
    if header_str(headers, "authorization").is_some_and(|auth| auth.starts_with("AWS ")) {
        return true;
    }
    let Some(query) = uri.query() else { return false };
    let names: Vec<String> = query::parse_form(query.as_bytes()).into_iter().map(|(k, _)| k).collect();
    ["AWSAccessKeyId", "Signature", "Expires"].iter().all(|n| names.iter().any(|k| k == n))
}

/// The service and region of the SigV4 credential scope.
fn sigv4_scope(headers: &HeaderMap, uri: &Uri) -> (Option<String>, Option<String>) {
    let credential = header_str(headers, "authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .map(|rest| rest.split([',', ' ']).next().unwrap_or("").to_string())
        .or_else(|| {
            let query = uri.query()?;
            query::parse_form(query.as_bytes())
                .into_iter()
                .find(|(k, _)| k == "X-Amz-Credential")
                .map(|(_, v)| v)
        });
    let Some(credential) = credential else { return (None, None) };
    // AKID/date/region/service/aws4_request
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() >= 5 && parts[parts.len() - 1] == "aws4_request" {
        let n = parts.len();
        let service = parts[n - 2].to_string();
        let region = parts[n - 3].to_string();
        return ((!service.is_empty()).then_some(service), (!region.is_empty()).then_some(region));
    }
    (None, None)
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Percent-decodes (and, when `plus` is set, turns `+` into space). Invalid escapes are kept.
pub fn percent_decode(input: &str, plus: bool) -> String {
    if plus && input.contains('+') {
        percent_encoding::percent_decode_str(&input.replace('+', " ")).decode_utf8_lossy().into_owned()
    } else {
        percent_encoding::percent_decode_str(input).decode_utf8_lossy().into_owned()
    }
}

/// Everything but RFC 3986 unreserved characters.
const RESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(input: &str) -> String {
    percent_encoding::utf8_percent_encode(input, RESERVED).to_string()
}

/// A response held in memory: status, headers, body.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// The status code.
    pub status: StatusCode,
    /// The headers (hop-by-hop headers removed).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl StoredResponse {
    /// A response with the given status, content type and body.
    pub fn new(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Self {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(http::header::CONTENT_TYPE, v);
        }
        StoredResponse { status, headers, body: body.into() }
    }

    /// A plain-text error of the proxy itself.
    pub fn plain(status: StatusCode, message: &str) -> Self {
        StoredResponse::new(status, "text/plain; charset=utf-8", format!("settle-proxy: {message}\n"))
    }
}

/// An error the proxy injects, spelled the way the request's protocol spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedError {
    /// Rate limiting: `ThrottlingException`, `ProvisionedThroughputExceededException` (DynamoDB),
    /// `RequestThrottled` (SQS), `RequestLimitExceeded` (EC2), `SlowDown`, `Throttling`,
    /// `TooManyRequestsException`.
    Throttle,
    /// A transient HTTP 500.
    Internal,
    /// A transient HTTP 503.
    Unavailable,
}

/// Renders an injected error in the protocol's real shape.
pub fn render_injected(info: &RequestInfo, error: InjectedError) -> StoredResponse {
    let wire = crate::rules::wire(&info.service);
    let own = match error {
        InjectedError::Throttle => wire.throttle,
        InjectedError::Internal => wire.internal,
        InjectedError::Unavailable => None,
    };
    let (status, code, message) = match own {
        Some(shape) => (shape.status, shape.code, shape.message),
        None => protocol_default(info.protocol, error),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    render_error(info, status, code, message)
}

/// A protocol's injected error, for a service whose wire facts name none of its own.
fn protocol_default(protocol: Protocol, error: InjectedError) -> (u16, &'static str, &'static str) {
    match (protocol, error) {
        (Protocol::AwsJson, InjectedError::Throttle) => (400, "ThrottlingException", "Rate exceeded"),
        (Protocol::Ec2, InjectedError::Throttle) => (503, "RequestLimitExceeded", "Request limit exceeded."),
        (Protocol::Ec2, InjectedError::Internal) => (500, "InternalError", "An internal error has occurred."),
        (Protocol::Ec2, InjectedError::Unavailable) => {
            (503, "Unavailable", "The server is overloaded and can't handle the request.")
        }
        (Protocol::Query, InjectedError::Throttle) => (400, "Throttling", "Rate exceeded"),
        (Protocol::RestXml, InjectedError::Throttle) => (503, "SlowDown", "Please reduce your request rate."),
        (_, InjectedError::Throttle) => (429, "TooManyRequestsException", "Too Many Requests"),
        (Protocol::RestXml, InjectedError::Internal) => {
            (500, "InternalError", "We encountered an internal error. Please try again.")
        }
        (_, InjectedError::Internal) => (500, "InternalFailure", "The request processing has failed."),
        (_, InjectedError::Unavailable) => {
            (503, "ServiceUnavailable", "Service is unavailable. Please retry.")
        }
    }
}

/// Renders an error with the given status, code and message in the request's protocol.
pub fn render_error(info: &RequestInfo, status: StatusCode, code: &str, message: &str) -> StoredResponse {
    let mut response = match info.protocol {
        Protocol::AwsJson => awsjson::render_error(&info.service, status, code, message),
        Protocol::Query => query::render_error(status, code, message),
        Protocol::Ec2 => query::render_ec2_error(status, code, message),
        Protocol::RestXml => restxml::render_error(&info.service, code, message),
        Protocol::RestJson | Protocol::Unknown => restjson::render_error(code, message),
    };
    response.status = status;
    response.headers.insert("x-amzn-requestid", HeaderValue::from_static("settle-proxy-injected"));
    response
}

/// The error code of an upstream response, if it is an error.
pub fn error_code(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if status.as_u16() < 300 {
        return None;
    }
    if let Some(t) = header_str(headers, "x-amzn-errortype") {
        return Some(t.split(':').next().unwrap_or(t).to_string());
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let code = value.get("__type").or_else(|| value.get("code")).or_else(|| value.get("Code"));
        if let Some(code) = code.and_then(|c| c.as_str()) {
            return Some(code.rsplit('#').next().unwrap_or(code).to_string());
        }
    }
    xml_code(std::str::from_utf8(body).ok()?)
}

/// The text of the first `<Code>` element (any namespace prefix) of an XML error body.
fn xml_code(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut code: Option<String> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if code.is_none() && e.local_name().as_ref() == b"Code" => {
                code = Some(String::new())
            }
            Event::Text(t) if code.is_some() => code.as_mut()?.push_str(t.decode().ok()?.trim()),
            Event::CData(t) if code.is_some() => code.as_mut()?.push_str(t.decode().ok()?.trim()),
            Event::End(_) if code.is_some() => return code.filter(|c| !c.is_empty()),
            Event::Start(_) | Event::Empty(_) | Event::GeneralRef(_) if code.is_some() => return None,
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Escapes text for XML.
pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> ParsedRequest {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        parse(&method, &uri.parse().unwrap(), &map, body)
    }

    const S3_SIGV4: &str = "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, \
                            SignedHeaders=host, Signature=ab";

    #[test]
    fn an_s3_object_with_a_form_content_type_is_still_s3() {
        let headers = [("authorization", S3_SIGV4), ("content-type", "application/x-www-form-urlencoded")];
        let parsed = request(Method::PUT, "/bucket/form.txt", &headers, b"Action=DeleteRole&password=x");
        assert_eq!((parsed.info.protocol, parsed.info.operation.as_str()), (Protocol::RestXml, "PutObject"));
        assert!(parsed.params.is_empty(), "an object body is not parameters");
    }

    #[test]
    fn sigv2_presigned_and_header_signed_requests_are_s3() {
        let uri = "/bucket/a.txt?AWSAccessKeyId=AKID&Signature=c2ln&Expires=1700000000";
        let parsed = request(Method::GET, uri, &[("host", "127.0.0.1:4599")], b"");
        assert_eq!((parsed.info.service.as_str(), parsed.info.operation.as_str()), ("s3", "GetObject"));
        let parsed = request(Method::HEAD, "/bucket", &[("authorization", "AWS AKID:c2ln")], b"");
        assert_eq!((parsed.info.service.as_str(), parsed.info.operation.as_str()), ("s3", "HeadBucket"));
        let unsigned = request(Method::GET, "/bucket/a.txt?Signature=x", &[], b"");
        assert_eq!(unsigned.info.protocol, Protocol::Unknown);
    }

    #[test]
    fn error_codes_are_read_as_xml_json_or_header() {
        let code = |status: u16, body: &[u8]| {
            error_code(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body)
        };
        let commented = b"<Error><!-- <Code>Fake</Code> --><Code>SlowDown</Code></Error>";
        assert_eq!(code(503, commented).as_deref(), Some("SlowDown"));
        let ec2 =
            b"<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code></Error></Errors></Response>";
        assert_eq!(code(400, ec2).as_deref(), Some("InvalidInstanceID.NotFound"));
        assert_eq!(code(400, b"<Error><Code>Thr").as_deref(), None, "cut before the element ends");
        assert_eq!(
            code(400, br#"{"__type":"com.amazon#ThrottlingException"}"#).as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(code(200, b"<Error><Code>NotAnError</Code></Error>"), None);
    }

    #[test]
    fn percent_coding_round_trips_and_keeps_invalid_escapes() {
        assert_eq!(percent_decode("a%2Fb+c", true), "a/b c");
        assert_eq!(percent_decode("a+b%zz", false), "a+b%zz");
        assert_eq!(percent_encode("/app/db name~"), "%2Fapp%2Fdb%20name~");
    }
}
