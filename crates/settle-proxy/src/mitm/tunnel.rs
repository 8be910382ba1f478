//! A `CONNECT` request: answered 200, then TLS is ended here with a leaf for the target and the
//! decrypted HTTP/1.1 requests are served like plain ones, forwarded to the target.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

use super::Target;
use crate::server::Shared;

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("settle-proxy: {text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    response
}

/// `host:port` of a `CONNECT` request (443 when no port is given).
fn target_of(uri: &http::Uri) -> Option<Target> {
    let authority = uri.authority()?;
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some(Target { host: host.to_ascii_lowercase(), port: authority.port_u16().unwrap_or(443) })
}

/// Answers a `CONNECT` and serves the tunnel on its own task once the client has the answer.
pub(crate) fn connect(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    stop: watch::Receiver<bool>,
) -> Response<Full<Bytes>> {
    let Some(mitm) = shared.mitm.clone() else {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "CONNECT (HTTPS_PROXY) is served only with --mitm; point the SDK's endpoint at this proxy instead",
        );
    };
    let Some(target) = target_of(req.uri()) else {
        return plain(StatusCode::BAD_REQUEST, "CONNECT needs a HOST:PORT target");
    };
    if super::current_target().is_some() {
        return plain(StatusCode::BAD_REQUEST, "CONNECT inside an intercepted tunnel");
    }
    let Ok(permit) = mitm.tunnels.clone().try_acquire_owned() else {
        shared.lock().counters.connections_refused += 1;
        return plain(StatusCode::SERVICE_UNAVAILABLE, "too many tunnels, retry later");
    };
    let tls = match mitm.ca.server_config(&target.host) {
        Ok(tls) => tls,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, &e.to_string()),
    };
    let handshake_limit = shared.limits.header_read;
    tokio::spawn(async move {
        let Ok(Ok(upgraded)) = tokio::time::timeout(handshake_limit, hyper::upgrade::on(req)).await else {
            return;
        };
        let accept = tokio_rustls::TlsAcceptor::from(tls).accept(TokioIo::new(upgraded));
        match tokio::time::timeout(handshake_limit, accept).await {
            Ok(Ok(stream)) => crate::connection::connection(stream, shared, stop, Some(target)).await,
            // A client that does not trust the CA hangs up here: say how to make it.
            Ok(Err(e)) => tracing::warn!(
                host = %target.host,
                error = %e,
                ca = %mitm.ca.cert_path().display(),
                "TLS handshake with the client failed: does it trust the proxy's CA (AWS_CA_BUNDLE)?"
            ),
            Err(_) => tracing::warn!(host = %target.host, "TLS handshake with the client timed out"),
        }
        drop(permit);
    });
    Response::new(Full::new(Bytes::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_targets_default_to_port_443() {
        let t = |s: &str| target_of(&s.parse().unwrap());
        assert_eq!(t("ssm.us-east-1.amazonaws.com:443").unwrap().port, 443);
        assert_eq!(t("SSM.example.com:8443").unwrap(), Target { host: "ssm.example.com".into(), port: 8443 });
        assert_eq!(t("[::1]:443").unwrap().host, "::1");
        assert_eq!(t("/just/a/path"), None);
    }
}
