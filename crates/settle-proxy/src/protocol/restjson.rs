//! restJson (Lambda, API Gateway, ...): a service with a route table in its rules (Lambda) has
//! its operations named as AWS names them, and each path label and query parameter becomes a
//! request parameter; without one the operation is named by the method and the first
//! non-version path segment, e.g. `GET:functions`.

use http::{HeaderMap, Method, Uri};

use super::{ParsedRequest, Protocol, StoredResponse};

pub(super) fn parse(
    parsed: &mut ParsedRequest,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) {
    let segment = uri
        .path()
        .split('/')
        .find(|s| !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or("");
    parsed.info.protocol = Protocol::RestJson;
    parsed.info.operation = format!("{method}:{segment}");
    parsed.json = serde_json::from_slice(body).ok();
    if let Some((op, labels)) = crate::rules::route(&parsed.info.service, method.as_str(), uri.path()) {
        parsed.info.operation = op.to_string();
        parsed.params = labels;
        if let Some(query) = uri.query() {
            parsed.params.extend(super::query::parse_form(query.as_bytes()));
        }
        if let Some(add) = crate::rules::wire(&parsed.info.service).parsed {
            add(parsed, headers, body);
        }
    }
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

#[cfg(test)]
mod tests {
    use http::Method;

    fn name(method: Method, path: &str) -> Option<(&'static str, Vec<(String, String)>)> {
        crate::rules::route("lambda", method.as_str(), path)
    }

    #[test]
    fn lambda_routes_name_operations_and_decode_their_labels() {
        assert_eq!(name(Method::POST, "/2015-03-31/functions").map(|n| n.0), Some("CreateFunction"));
        assert_eq!(name(Method::GET, "/2015-03-31/functions/").map(|n| n.0), Some("ListFunctions"));
        let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af1";
        let (op, labels) = name(Method::GET, &format!("/2015-03-31/functions/{arn}/configuration")).unwrap();
        assert_eq!(op, "GetFunctionConfiguration");
        assert_eq!(
            labels,
            [("FunctionName".into(), "arn:aws:lambda:us-east-1:123456789012:function:f1".into())]
        );
        assert_eq!(
            name(Method::PUT, "/2015-03-31/functions/f1/code").map(|n| n.0),
            Some("UpdateFunctionCode")
        );
        assert_eq!(name(Method::GET, "/2015-03-31/functions/f1/code"), None, "no such route");
        assert_eq!(name(Method::GET, "/2015-03-31/functions/f1/configuration/x"), None, "longer path");
        assert_eq!(name(Method::GET, "/2015-03-31/functions//configuration"), None, "empty label");
    }
}
