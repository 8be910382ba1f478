//! restJson (Lambda, API Gateway, ...): without a service model the operation is
//! named by the method and the first non-version path segment, e.g. `GET:functions`.

use http::{Method, Uri};

use super::{ParsedRequest, Protocol, StoredResponse};

pub(super) fn parse(parsed: &mut ParsedRequest, method: &Method, uri: &Uri, body: &[u8]) {
    let segment = uri
        .path()
        .split('/')
        .find(|s| !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or("");
    parsed.info.protocol = Protocol::RestJson;
    parsed.info.operation = format!("{method}:{segment}");
    parsed.json = serde_json::from_slice(body).ok();
}

pub(super) fn render_error(code: &str, message: &str) -> StoredResponse {
    let body = serde_json::json!({ "message": message, "Message": message });
    let mut response =
        StoredResponse::new(http::StatusCode::BAD_REQUEST, "application/json", body.to_string());
    if let Ok(v) = http::HeaderValue::from_str(code) {
        response.headers.insert("x-amzn-errortype", v);
    }
    response
}
