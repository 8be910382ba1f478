//! Malformed, truncated, oversized and unknown requests: answered clearly or forwarded,
//! never a panic; plus a seeded fuzz test over the request parser.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, Uri};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use settle_proxy::Config;

const SEEDS: &[&[u8]] = &[
    b"{\"Name\":\"/a\",\"WithDecryption\":true}",
    b"{\"TableName\":\"t\",\"ResourceArn\":\"arn:aws:dynamodb:us-east-1:1:table/t\"}",
    b"Action=CreateRole&Version=2010-05-08&RoleName=r&PolicyArn=arn:aws:iam::1:policy/p",
    b"{\"SecretId\":\"arn:aws:secretsmanager:us-east-1:1:secret:n-AbCdEf\",\"Names\":[\"a\",1,null]}",
    b"%zz%4&=&&==+%",
    b"",
];
const TARGETS: &[&str] = &[
    "AmazonSSM.GetParameter",
    "AmazonSSM.PutParameter",
    "DynamoDB_20120810.DescribeTable",
    "secretsmanager.CreateSecret",
    ".",
    "x.",
    "",
];
const SERVICES: &[&str] = &["ssm", "s3", "iam", "dynamodb", "secretsmanager", "tagging", "lambda", "", "ß/"];

fn random_text(rng: &mut StdRng, max: usize) -> String {
    let len = rng.random_range(0..max);
    (0..len).map(|_| char::from(rng.random_range(0x20u8..0x7f))).collect()
}

#[test]
fn the_parser_never_panics_on_random_requests() {
    let mut rng = StdRng::seed_from_u64(0x5e771e);
    let methods = [Method::GET, Method::PUT, Method::POST, Method::DELETE, Method::HEAD, Method::PATCH];
    for _ in 0..20_000 {
        let method = methods[rng.random_range(0..methods.len())].clone();
        let path = match rng.random_range(0..4) {
            0 => "/".to_string(),
            1 => format!("/{}", random_text(&mut rng, 20).replace(' ', "%20")),
            2 => format!("/b/{}?tagging&x-id=GetObject", random_text(&mut rng, 10).replace(' ', "+")),
            _ => format!("/{}?{}", rng.random_range(0..100), random_text(&mut rng, 30)),
        };
        let uri: Uri = path.parse().unwrap_or_else(|_| Uri::from_static("/"));
        let mut headers = HeaderMap::new();
        let service = SERVICES[rng.random_range(0..SERVICES.len())];
        if rng.random_bool(0.8) {
            let cred = match rng.random_range(0..3) {
                0 => format!(
                    "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/{service}/aws4_request, Signature=x"
                ),
                1 => format!("AWS4-HMAC-SHA256 Credential={}", random_text(&mut rng, 40)),
                _ => random_text(&mut rng, 60),
            };
            if let Ok(v) = HeaderValue::from_str(&cred) {
                headers.insert("authorization", v);
            }
        }
        if rng.random_bool(0.5) {
            headers.insert(
                "x-amz-target",
                HeaderValue::from_static(TARGETS[rng.random_range(0..TARGETS.len())]),
            );
        }
        if rng.random_bool(0.3) {
            headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
        }
        if rng.random_bool(0.2) {
            headers.insert("host", HeaderValue::from_static("bucket.s3.localhost:4566"));
        }
        let mut body = SEEDS[rng.random_range(0..SEEDS.len())].to_vec();
        // Mutate: truncate, flip bytes, insert garbage.
        if !body.is_empty() && rng.random_bool(0.5) {
            body.truncate(rng.random_range(0..body.len()));
        }
        for _ in 0..rng.random_range(0..4) {
            if !body.is_empty() {
                let i = rng.random_range(0..body.len());
                body[i] = rng.random();
            }
        }
        let parsed = settle_proxy::protocol::parse(&method, &uri, &headers, &body);
        let _ = settle_proxy::protocol::render_injected(
            &parsed.info,
            settle_proxy::protocol::InjectedError::Throttle,
        );
    }
}

fn raw(endpoint: &str, request: &[u8]) -> String {
    raw_with(endpoint, request, true)
}

fn raw_with(endpoint: &str, request: &[u8], half_close: bool) -> String {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The proxy may answer (413) and close before a large request is all written.
    let _ = stream.write_all(request);
    if half_close {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn bad_requests_get_clear_answers_and_the_proxy_stays_up() {
    let mut config = Config::with_lag("500ms".parse().unwrap());
    config.max_body_bytes = 1024;
    let proxy = settle_emulator::proxy_in_front_of_moto(config);
    let endpoint = proxy.endpoint();

    // Oversized (declared).
    let big = raw_with(
        &endpoint,
        b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5000\r\n\r\n",
        false,
    );
    assert!(big.starts_with("HTTP/1.1 413"), "{big}");
    assert!(big.contains("limit of 1024 bytes"), "{big}");
    // Oversized (chunked, undeclared).
    let mut chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n".to_vec();
    chunked.extend(vec![b'a'; 0x800]);
    chunked.extend(b"\r\n0\r\n\r\n");
    assert!(raw(&endpoint, &chunked).starts_with("HTTP/1.1 413"));
    // Truncated body: the client hangs up early.
    let truncated = raw(&endpoint, b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonSSM.GetParameter\r\nContent-Length: 100\r\n\r\n{\"Na");
    assert!(truncated.is_empty() || truncated.starts_with("HTTP/1.1 400"), "{truncated}");
    // Not HTTP at all.
    let garbage = raw(&endpoint, b"\x00\x01\x02 hello\r\n\r\n");
    assert!(garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"), "{garbage}");
    // Unknown service: forwarded to moto untouched (moto answers whatever it answers).
    let unknown = raw(&endpoint, b"GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(unknown.starts_with("HTTP/1.1 "), "{unknown}");
    // Malformed awsJson body for a known write: forwarded, moto's own error comes back.
    let bad_json = raw(
        &endpoint,
        b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: AmazonSSM.PutParameter\r\n\
          Authorization: AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/ssm/aws4_request, Signature=x\r\n\
          Content-Type: application/x-amz-json-1.1\r\nContent-Length: 7\r\n\r\n{\"Name\"",
    );
    assert!(bad_json.starts_with("HTTP/1.1 "), "{bad_json}");

    let health = raw(&endpoint, b"GET /__settle/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    assert_eq!(proxy.counters().too_large, 2);
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let err = settle_proxy::Proxy::builder()
        .upstream("http://127.0.0.1:9")
        .listen(addr)
        .start_background()
        .unwrap_err();
    assert!(err.to_string().contains("already taken"), "{err}");
    let err = settle_proxy::Proxy::builder().upstream("https://example.com").start_background().unwrap_err();
    assert!(err.to_string().contains("invalid upstream"), "{err}");
}

#[test]
fn an_oversized_control_body_is_refused_not_read_as_an_empty_config() {
    let mut config = Config::with_lag("500ms".parse().unwrap());
    config.max_body_bytes = 1024;
    let proxy = settle_emulator::proxy_in_front_of_moto(config.clone());
    let token = proxy.control_token().unwrap();
    let put = |body: &str| {
        format!(
            "PUT /__settle/config HTTP/1.1\r\nHost: x\r\nConnection: close\r\nx-settle-token: {token}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let huge = format!("lag = \"2s\"\n# {}\n", "x".repeat(2 * 1024 * 1024));
    let answer = raw_with(&proxy.endpoint(), put(&huge).as_bytes(), false);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(proxy.config(), config, "the configuration in force is unchanged");
    // A config larger than the AWS body limit is still accepted: the control plane has its own.
    let large = format!("lag = \"2s\"\n# {}\n", "x".repeat(4096));
    let answer = raw_with(&proxy.endpoint(), put(&large).as_bytes(), false);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(proxy.config().faults.lag, Some("2s".parse().unwrap()));
    // And a config that would lock the control plane out is refused.
    let answer = raw_with(&proxy.endpoint(), put("max_body_bytes = 0").as_bytes(), false);
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("at least 1024"), "{answer}");
}

#[test]
fn an_unreachable_upstream_is_a_502_that_says_why() {
    // Bind then drop: a loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy = settle_proxy::Proxy::builder()
        .upstream(format!("http://127.0.0.1:{port}"))
        .start_background()
        .unwrap();
    let answer = raw(&proxy.endpoint(), b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("refused"), "{answer}");
    assert_eq!(proxy.counters().upstream_failures, 1);
    proxy.shutdown();
}

#[test]
fn a_snapshot_read_that_fails_upstream_is_counted() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy = settle_proxy::Proxy::builder()
        .upstream(format!("http://127.0.0.1:{port}"))
        .config(Config::with_lag("1s".parse().unwrap()))
        .start_background()
        .unwrap();
    let body = r#"{"Name":"/a","Value":"v","Type":"String"}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: AmazonSSM.PutParameter\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ssm/aws4_request, \
         SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = raw(&proxy.endpoint(), request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    let counters = proxy.counters();
    assert!(counters.snapshot_failures >= 1, "{counters:?}");
    assert_eq!(counters.snapshot_failures, counters.snapshot_reads, "{counters:?}");
    proxy.shutdown();
}

#[test]
fn oversized_requests_are_recorded_too() {
    let path = std::env::temp_dir().join(format!("settle-proxy-too-large-{}.jsonl", std::process::id()));
    let config = Config { max_body_bytes: 16, ..Config::default() };
    let proxy = settle_proxy::Proxy::builder()
        .upstream(settle_emulator::shared_moto().endpoint())
        .config(config)
        .record(&path)
        .start_background()
        .unwrap();
    let answer = raw_with(
        &proxy.endpoint(),
        b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: AmazonSSM.PutParameter\r\n\
          Content-Length: 5000\r\n\r\n",
        false,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(proxy.flush_recording());
    let text = std::fs::read_to_string(&path).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap_or("")).unwrap();
    assert_eq!(line["status"], 413, "{text}");
    assert_eq!(line["fault"], "too-large", "{text}");
    assert_eq!(line["operation"], "PutParameter", "{text}");
    proxy.shutdown();
    let _ = std::fs::remove_file(&path);
}
