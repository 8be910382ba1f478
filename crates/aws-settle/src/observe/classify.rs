//! The error code of a failed response, read cheaply from the `x-amzn-errortype` header or the
//! first bytes of the error body (`__type`, `code`, `<Code>`). Success bodies are never read, and
//! only a code-shaped token is ever kept. Which codes are throttling or retryable is
//! [`crate::errors`]' vocabulary.

/// How much of an error body is searched for its code.
const BODY_PREFIX: usize = 4096;

/// The error code of an error response (status ≥ 300): the `x-amzn-errortype` header, else the
/// body's JSON `__type` / `code` or XML `<Code>`. Namespaces (`aws.foo#Code`) and suffixes
/// (`Code:http://…`) are stripped; anything not shaped like a code is dropped.
pub(crate) fn error_code(status: u16, header: Option<&str>, body: Option<&[u8]>) -> Option<String> {
    if status < 300 {
        return None;
    }
    if let Some(code) = header.and_then(clean) {
        return Some(code);
    }
    let body = body?;
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_PREFIX)]);
    json_field(&text, "__type")
        .or_else(|| json_field(&text, "code"))
        .or_else(|| json_field(&text, "Code"))
        .and_then(clean)
        .or_else(|| xml_code(&text).as_deref().and_then(clean))
}

/// The string value of the first `"name": "value"` in `text`.
fn json_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\"");
    let rest = &text[text.find(&key)? + key.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// The text of the first `Code` element of an XML error body (query: `<ErrorResponse><Error>
/// <Code>`, EC2: `<Response><Errors><Error><Code>`, S3: `<Error><Code>`), read with an XML parser: comments, CDATA, namespaces prefixes and
/// attributes are what XML says they are. `None` when the prefix holds no complete `Code`
/// element, or it holds an entity reference (no code is spelled with one).
fn xml_code(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut code: Option<String> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if code.is_none() && e.local_name().as_ref() == b"Code" => {
                code = Some(String::new())
            }
            Event::Text(t) if code.is_some() => code.as_mut()?.push_str(&t.decode().ok()?),
            Event::CData(t) if code.is_some() => code.as_mut()?.push_str(&t.decode().ok()?),
            Event::GeneralRef(_) if code.is_some() => return None,
            Event::End(_) if code.is_some() => return code,
            Event::Start(_) | Event::Empty(_) if code.is_some() => return None,
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// `aws.ns#Code:http://…` → `Code`, if what is left is a plausible code.
fn clean(raw: &str) -> Option<String> {
    let code = raw.rsplit('#').next()?.split(':').next()?.trim();
    let shaped = !code.is_empty()
        && code.len() <= 128
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    shaped.then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_each_protocol() {
        let json = br#"{"__type":"com.amazonaws.ssm#ThrottlingException","message":"Rate exceeded"}"#;
        assert_eq!(error_code(400, None, Some(json)).as_deref(), Some("ThrottlingException"));
        let json = br#"{ "__type" : "ProvisionedThroughputExceededException" }"#;
        assert_eq!(
            error_code(400, None, Some(json)).as_deref(),
            Some("ProvisionedThroughputExceededException")
        );
        let header = Some("TooManyRequestsException:http://internal.amazon.com/coral/com.amazon/");
        assert_eq!(error_code(429, header, Some(b"{}")).as_deref(), Some("TooManyRequestsException"));
        let query = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
        assert_eq!(error_code(400, None, Some(query)).as_deref(), Some("Throttling"));
        let s3 =
            b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>";
        assert_eq!(error_code(503, None, Some(s3)).as_deref(), Some("SlowDown"));
        let ec2 = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
                    <Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>";
        assert_eq!(error_code(503, None, Some(ec2)).as_deref(), Some("RequestLimitExceeded"));
        assert!(crate::errors::is_throttling(Some("RequestLimitExceeded"), Some(503)));
        let rest_json = br#"{"code":"ThrottledException","message":"x"}"#;
        assert_eq!(error_code(400, None, Some(rest_json)).as_deref(), Some("ThrottledException"));
    }

    #[test]
    fn xml_codes_are_read_as_xml() {
        let commented = b"<Error><!-- <Code>Fake</Code> --><Code>SlowDown</Code></Error>";
        assert_eq!(error_code(503, None, Some(commented)).as_deref(), Some("SlowDown"));
        let cdata = b"<Error><Code><![CDATA[Throttling]]></Code></Error>";
        assert_eq!(error_code(400, None, Some(cdata)).as_deref(), Some("Throttling"));
        let prefixed =
            b"<e:Error xmlns:e=\"urn:x\"><e:Code attr=\"1\">ThrottlingException</e:Code></e:Error>";
        assert_eq!(error_code(400, None, Some(prefixed)).as_deref(), Some("ThrottlingException"));
        let spaced = b"<Error><Code>\n  InternalError\n</Code></Error>";
        assert_eq!(error_code(500, None, Some(spaced)).as_deref(), Some("InternalError"));
        assert_eq!(error_code(400, None, Some(b"<Error><Code>Thr")), None, "cut before the element ends");
        assert_eq!(error_code(400, None, Some(b"<Error><Code>A&amp;B</Code></Error>")), None);
        assert_eq!(error_code(400, None, Some(b"<Error><Code><X/>Y</Code></Error>")), None);
        assert_eq!(error_code(400, None, Some(b"<Error><Codes>NoSuchKey</Codes></Error>")), None);
    }

    #[test]
    fn success_and_garbage_give_no_code() {
        let secret = br#"{"__type":"NotAnError","SecretString":"hunter2"}"#;
        assert_eq!(error_code(200, None, Some(secret)), None, "success bodies are never read");
        assert_eq!(error_code(500, None, Some(b"<html>oops</html>")), None);
        assert_eq!(error_code(500, None, None), None);
        assert_eq!(error_code(400, None, Some(br#"{"__type":"has space"}"#)), None);
        assert_eq!(error_code(400, Some(""), Some(br#"{"__type":"Real"}"#)).as_deref(), Some("Real"));
    }

    #[test]
    fn throttling_and_retryable() {
        use crate::errors::{is_retryable, is_throttling};
        assert!(is_throttling(Some("ThrottlingException"), Some(400)));
        assert!(is_throttling(Some("SlowDown"), Some(503)));
        assert!(is_throttling(None, Some(429)));
        assert!(!is_throttling(Some("ParameterNotFound"), Some(400)));
        assert!(is_retryable(None, Some(503)));
        assert!(is_retryable(None, None), "no response: timeout or transport error");
        assert!(!is_retryable(Some("ValidationException"), Some(400)));
    }
}
