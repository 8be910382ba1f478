//! The query protocol: `Action=Operation&Version=...` form-encoded (IAM, STS, SQS, SNS...),
//! and EC2's variant of it, which spells its errors differently.

use http::{StatusCode, Uri};

use super::{ParsedRequest, Protocol, StoredResponse, xml_escape};

/// Decodes `a=b&c=d` form data.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub(super) fn parse(parsed: &mut ParsedRequest, uri: &Uri, body: &[u8]) {
    let mut params = uri.query().map(|q| parse_form(q.as_bytes())).unwrap_or_default();
    params.extend(parse_form(body));
    if let Some((_, action)) = params.iter().find(|(k, _)| k == "Action") {
        parsed.info.operation = action.clone();
        parsed.info.protocol = if parsed.info.service == "ec2" { Protocol::Ec2 } else { Protocol::Query };
    }
    parsed.params = params;
}

pub(super) fn render_error(status: StatusCode, code: &str, message: &str) -> StoredResponse {
    let kind = if status.is_server_error() { "Receiver" } else { "Sender" };
    let body = format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error>\
         <RequestId>settle-proxy-injected</RequestId></ErrorResponse>",
        xml_escape(code),
        xml_escape(message)
    );
    StoredResponse::new(status, "text/xml", body)
}

/// EC2's error shape: no `ErrorResponse` and no `Type`, the request id spelled `RequestID`.
pub(super) fn render_ec2_error(status: StatusCode, code: &str, message: &str) -> StoredResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code>\
         <Message>{}</Message></Error></Errors><RequestID>settle-proxy-injected</RequestID></Response>",
        xml_escape(code),
        xml_escape(message)
    );
    StoredResponse::new(status, "text/xml;charset=UTF-8", body)
}
