//! The query protocol: `Action=Operation&Version=...` form-encoded (IAM, STS, SQS, SNS...).

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
        parsed.info.protocol = Protocol::Query;
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
