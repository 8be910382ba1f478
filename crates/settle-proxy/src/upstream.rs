//! Talking to the emulator: forwarding requests, and the proxy's own snapshot reads
//! (signed with the write's credentials, retargeted to the read's service).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full, Limited};

use crate::protocol::StoredResponse;
use crate::rules::{self, tagging};
use crate::server::Shared;

/// Largest upstream response the proxy holds in memory.
const MAX_RESPONSE: usize = 512 * 1024 * 1024;
/// Pages of GetResources read for a tagging-view snapshot.
const TAGGING_PAGES: usize = 10;

/// Why upstream gave no answer.
#[derive(Debug)]
pub(crate) enum UpstreamError {
    /// It could not be reached, or hung up (answered 502).
    Unreachable(String),
    /// It did not answer within [`crate::Limits::upstream`] (answered 504).
    TimedOut(String),
}

impl Shared {
    /// Sends a request upstream and reads the whole answer.
    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<StoredResponse, UpstreamError> {
        // A request from an intercepted tunnel goes to the tunnel's target over TLS.
        let tunnel = crate::mitm::current_target().zip(self.mitm.as_ref());
        let uri = match &tunnel {
            Some((target, mitm)) => mitm.url(target, path_and_query),
            None => format!("{}{}", self.base, path_and_query),
        };
        let mut builder = Request::builder().method(method).uri(&uri);
        for (name, value) in headers {
            if !is_hop_by_hop(name.as_str()) && name != http::header::CONTENT_LENGTH {
                builder = builder.header(name, value);
            }
        }
        builder = builder.header(http::header::CONTENT_LENGTH, body.len());
        let request = builder.body(Full::new(body)).map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
        let limit = self.limits.upstream;
        let exchange = async {
            let response = match &tunnel {
                Some((_, mitm)) => mitm.client.request(request).await,
                None => self.client.request(request).await,
            }
            .map_err(|e| UpstreamError::Unreachable(format!("upstream {uri}: {}", error_chain(&e))))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE).collect().await.map_err(|e| {
                UpstreamError::Unreachable(format!(
                    "upstream {uri}: reading the response: {}",
                    error_chain(e.as_ref())
                ))
            })?;
            Ok::<_, UpstreamError>((parts, body.to_bytes()))
        };
        let (parts, body) = tokio::time::timeout(limit, exchange).await.map_err(|_| {
            UpstreamError::TimedOut(format!("upstream {uri} did not answer within {limit:?}"))
        })??;
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        Ok(StoredResponse { status: parts.status, headers, body })
    }

    /// Issues one snapshot read with the write's credentials.
    pub(crate) async fn snapshot(
        &self,
        read: &rules::SnapshotRead,
        write_headers: &HeaderMap,
        service: &str,
    ) -> Option<StoredResponse> {
        let mut headers = HeaderMap::new();
        for name in ["host", "authorization", "x-amz-date", "x-amz-security-token", "user-agent"] {
            if let Some(v) = write_headers.get(name) {
                headers.insert(http::HeaderName::from_static(name), v.clone());
            }
        }
        retarget_scope(&mut headers, service);
        if let Some(target) = &read.target
            && let Ok(v) = HeaderValue::from_str(target)
        {
            headers.insert("x-amz-target", v);
        }
        if let Some(ct) = read.content_type {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if read.target.is_none() && read.content_type.is_none() {
            headers.insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        }
        self.lock().counters.snapshot_reads += 1;
        let response =
            self.send(read.method.clone(), &read.path, &headers, Bytes::from(read.body.clone())).await;
        if response.is_err() {
            // The write goes on unlagged for this read; say so in the counters.
            self.lock().counters.snapshot_failures += 1;
        }
        response.ok()
    }

    /// The pre-write GetResources view of a service's resources, a few pages deep.
    pub(crate) async fn tagging_pages(
        &self,
        service: &str,
        write_headers: &HeaderMap,
    ) -> Vec<serde_json::Value> {
        let Some(filter) = tagging::type_filter(service) else { return Vec::new() };
        let mut pages = Vec::new();
        let mut token = String::new();
        for _ in 0..TAGGING_PAGES {
            let mut body = serde_json::json!({"ResourceTypeFilters": [filter], "ResourcesPerPage": 100});
            if !token.is_empty() {
                body["PaginationToken"] = token.clone().into();
            }
            let read = rules::SnapshotRead {
                read_id: "GetResources".into(),
                method: Method::POST,
                path: "/".into(),
                target: Some("ResourceGroupsTaggingAPI_20170126.GetResources".into()),
                content_type: Some("application/x-amz-json-1.1"),
                body: body.to_string(),
            };
            let Some(resp) = self.snapshot(&read, write_headers, "tagging").await else { break };
            let Ok(page) = serde_json::from_slice::<serde_json::Value>(&resp.body) else { break };
            token = page.get("PaginationToken").and_then(|t| t.as_str()).unwrap_or("").to_string();
            pages.push(page);
            if token.is_empty() {
                break;
            }
        }
        pages
    }
}

/// An error and its sources, `outer: inner: ...` (hyper's own messages name only the kind).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let names: Vec<_> = headers.keys().filter(|n| is_hop_by_hop(n.as_str())).cloned().collect();
    for name in names {
        headers.remove(name);
    }
}

/// Points a SigV4 `Authorization` header's credential scope at another service
/// (moto routes by it; it does not check signatures).
fn retarget_scope(headers: &mut HeaderMap, service: &str) {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return };
    let Some((head, rest)) = auth.split_once("Credential=") else { return };
    let end = rest.find([',', ' ']).unwrap_or(rest.len());
    let mut parts: Vec<&str> = rest[..end].split('/').collect();
    if parts.len() < 5 {
        return;
    }
    let n = parts.len();
    parts[n - 2] = service;
    let new = format!("{head}Credential={}{}", parts.join("/"), &rest[end..]);
    if let Ok(v) = HeaderValue::from_str(&new) {
        headers.insert("authorization", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retargets_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=ab",
            ),
        );
        retarget_scope(&mut headers, "tagging");
        let auth = headers.get("authorization").unwrap().to_str().unwrap();
        assert!(auth.contains("/us-east-1/tagging/aws4_request, SignedHeaders"), "{auth}");
    }
}
