//! Property tests of the parts that read untrusted input: the protocol parser, the error-code
//! reader, the redaction of recorded parameters, and configuration text. Bounded in cases so
//! they run in a few seconds; a failure is kept in `proptest-regressions/` and replayed first.

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use proptest::prelude::*;
use settle_proxy::protocol::{Protocol, error_code, parse};
use settle_proxy::record::{redact_json, redact_params};

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::PUT),
        Just(Method::POST),
        Just(Method::DELETE),
        Just(Method::HEAD)
    ]
}

/// Paths and queries that look like AWS's, with hostile bytes mixed in.
fn uri() -> impl Strategy<Value = Uri> {
    let segment = prop_oneof![
        "[a-z0-9._-]{0,12}",
        "%[0-9A-Fa-f]{0,2}",
        "[\\x21-\\x7e]{0,8}",
        Just("__settle".to_string())
    ];
    let query = prop::collection::vec(("[A-Za-z-]{1,16}", "[\\x21-\\x7e]{0,12}"), 0..5);
    (prop::collection::vec(segment, 0..6), query).prop_filter_map("a valid URI", |(segments, query)| {
        let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let text = format!("/{}?{}", segments.join("/"), query.join("&"));
        text.parse().ok()
    })
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let name = prop_oneof![
        Just("authorization"),
        Just("x-amz-target"),
        Just("content-type"),
        Just("host"),
        Just("x-amz-security-token"),
    ];
    let value = prop_oneof![
        "AWS4-HMAC-SHA256 Credential=[A-Z]{4}/[0-9]{8}/[a-z0-9-]{0,12}/[a-z0-9-]{0,12}/aws4_request, Signature=[a-f0-9]{4}",
        "AWS [A-Z]{4}:[a-zA-Z0-9+/=]{4}",
        "(AmazonSSM|secretsmanager|DynamoDB_20120810|AmazonSQS)\\.[A-Za-z]{0,20}",
        "application/(x-amz-json-1\\.[01]|x-www-form-urlencoded|xml|json)",
        "[a-z0-9.-]{0,30}(:[0-9]{1,5})?",
        "[\\x20-\\x7e]{0,40}",
    ];
    prop::collection::vec((name, value), 0..5).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.insert(HeaderName::from_static(name), value);
            }
        }
        map
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "\\{(\"[A-Za-z]{1,10}\":(\"[\\x20-\\x7e]{0,10}\"|[0-9]{1,4}|\\[\\]|\\{\\}|null|true),?){0,6}\\}"
            .prop_map(String::into_bytes),
        "(Action=[A-Za-z]{1,20}&)?([A-Za-z.0-9]{1,20}=[\\x21-\\x7e]{0,12}&?){0,6}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn the_parser_never_panics_and_keeps_what_it_reads_consistent(
        method in method(), uri in uri(), headers in headers(), body in body(),
    ) {
        let parsed = parse(&method, &uri, &headers, &body);
        if parsed.info.protocol == Protocol::Unknown {
            prop_assert!(parsed.info.operation.is_empty(), "an operation without a protocol: {:?}", parsed.info);
        }
        // Whatever was parsed can be recorded.
        match &parsed.json {
            Some(json) => { let mut json = json.clone(); redact_json(&mut json); }
            None => { redact_params(&parsed.params); }
        }
    }

    #[test]
    fn a_value_under_a_name_off_the_allowlist_is_never_recorded(
        names in prop::collection::vec("[A-Za-z][A-Za-z0-9]{0,15}", 1..6),
        nesting in 0usize..4,
    ) {
        const MARK: &str = "SECRET-MARK-7f3a";
        let names: Vec<String> = names.into_iter()
            .filter(|n| !settle_proxy::record::RECORDED_AS_SENT.iter().any(|s| s.eq_ignore_ascii_case(n)))
            .collect();
        let mut json = serde_json::Value::Object(names.iter().map(|n| (n.clone(), MARK.into())).collect());
        for _ in 0..nesting {
            json = serde_json::json!({ "Name": "visible", "Items": [json] });
        }
        redact_json(&mut json);
        prop_assert!(!json.to_string().contains(MARK), "{json}");
        let params: Vec<(String, String)> = names.iter().map(|n| (format!("Entries.member.1.{n}"), MARK.to_string())).collect();
        prop_assert!(!redact_params(&params).to_string().contains(MARK));
    }

    #[test]
    fn the_error_code_reader_never_panics(status in 100u16..600, body in body(), xml in "<[A-Za-z:]{1,8}>(<Code>[\\x20-\\x7e]{0,12}(</Code>)?)?") {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        let _ = error_code(status, &HeaderMap::new(), &body);
        let _ = error_code(status, &HeaderMap::new(), xml.as_bytes());
    }

    #[test]
    fn configuration_text_is_parsed_or_refused_never_a_panic(text in "[\\x09\\x0a\\x20-\\x7e]{0,120}") {
        let _ = settle_proxy::Config::from_text(&text);
        let _ = settle_proxy::Config::from_text(&format!("{{{text}}}"));
    }
}
