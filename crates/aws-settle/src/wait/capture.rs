//! [`CaptureBody`]: an SDK interceptor that keeps the raw request and response bodies, the JSON
//! view that JMESPath acceptors see.

use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

/// Keeps the body of the last request and response of the operations it is attached to.
///
/// SDK outputs are not serializable, so JMESPath acceptors read the raw response body instead:
/// exact for awsJson services (DynamoDB, SSM, Secrets Manager, ECS, …) and for restJson
/// members bound to the body (members bound to headers or the status code are not in it; an
/// empty body is an error, not `{}`). It also records the operation's name, so that a model's
/// waiter can check it polls the model's `operation`.
/// Values keep their wire form: timestamps are epoch seconds (awsJson) or strings, not dates.
/// XML-protocol services (S3, EC2, IAM, CloudFormation, … — restXml, query, ec2) are **not
/// supported**: a JMESPath acceptor over such a response fails with
/// [`WaitError::Unsupported`](super::WaitError::Unsupported); use closure matchers there.
///
/// Attach one `CaptureBody` per wait, to the polled operation only, and give it to the waiter:
///
/// ```no_run
/// # #[cfg(feature = "dynamodb")]
/// # async fn f(client: aws_sdk_dynamodb::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use aws_settle::wait::{CaptureBody, Model};
/// let model = Model::from_json_str(r#"{"version": 2, "waiters": {"TableExists": {
///     "delay": 20, "maxAttempts": 25, "operation": "DescribeTable", "acceptors": [
///     {"state": "success", "matcher": "path", "argument": "Table.TableStatus", "expected": "ACTIVE"},
///     {"state": "retry", "matcher": "error", "expected": "ResourceNotFoundException"}]}}}"#)?;
/// let capture = CaptureBody::new();
/// model
///     .waiter("TableExists")?
///     .typed::<aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput>()
///     .capture(&capture)
///     .wait(|| client.describe_table().table_name("t").customize().interceptor(capture.clone()).send())
///     .await?;
/// # Ok(()) }
/// # fn main() {}
/// ```
///
/// Its `Debug` shows the operation, the status and the body sizes, never the bodies (they may
/// hold secrets).
#[derive(Clone, Default)]
pub struct CaptureBody {
    inner: Arc<Mutex<Captured>>,
}

#[derive(Default, Clone)]
pub(crate) struct Captured {
    pub(crate) operation: Option<String>,
    pub(crate) request: Option<Vec<u8>>,
    pub(crate) status: Option<u16>,
    pub(crate) content_type: Option<String>,
    pub(crate) response: Option<Vec<u8>>,
}

impl fmt::Debug for CaptureBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let captured = self.inner.lock().expect("capture");
        f.debug_struct("CaptureBody")
            .field("operation", &captured.operation)
            .field("status", &captured.status)
            .field("request_bytes", &captured.request.as_ref().map(Vec::len))
            .field("response_bytes", &captured.response.as_ref().map(Vec::len))
            .finish()
    }
}

impl CaptureBody {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets what was captured (the waiter does this before each attempt).
    pub fn clear(&self) {
        *self.inner.lock().expect("capture") = Captured::default();
    }

    /// The operation of the last request (e.g. `HeadObject`), if any.
    pub fn operation(&self) -> Option<String> {
        self.inner.lock().expect("capture").operation.clone()
    }

    /// The HTTP status of the last response, if any.
    pub fn status(&self) -> Option<u16> {
        self.inner.lock().expect("capture").status
    }

    /// The raw body of the last response, if it was read into memory.
    pub fn response_body(&self) -> Option<Vec<u8>> {
        self.inner.lock().expect("capture").response.clone()
    }

    /// The JSON view of the last response body; an error naming the problem for an empty body
    /// (an operation whose output is in headers or the status, e.g. S3 HeadObject: an empty
    /// body is not an empty output), an XML or otherwise non-JSON body, or when nothing was
    /// captured.
    pub fn response_json(&self) -> Result<Value, String> {
        let captured = self.inner.lock().expect("capture").clone();
        let Some(body) = captured.response else {
            return Err("no response body was captured: attach this CaptureBody to the polled operation \
                        (`.customize().interceptor(capture.clone())`)"
                .to_string());
        };
        body_to_json(&body, captured.content_type.as_deref())
    }

    /// The JSON view of the last request body (the input, for `inputOutput` paths), if it is JSON.
    pub fn request_json(&self) -> Option<Value> {
        let body = self.inner.lock().expect("capture").request.clone()?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Some(Value::Object(Default::default()));
        }
        serde_json::from_slice(&body).ok()
    }
}

pub(crate) fn body_to_json(body: &[u8], content_type: Option<&str>) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("the response body is empty: this operation carries its output in headers or the \
                    status line (e.g. S3 HeadObject, HeadBucket, many restJson operations), so JMESPath \
                    acceptors cannot see it; use status or error matchers, or closure matchers over the \
                    typed output"
            .to_string());
    }
    let xml = content_type.is_some_and(|c| c.contains("xml"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    if xml {
        return Err("the response is XML: JMESPath acceptors are not supported for XML-protocol services \
                    (restXml, query, ec2); use closure matchers over the typed output"
            .to_string());
    }
    serde_json::from_slice(body).map_err(|e| format!("the response body is not JSON: {e}"))
}

impl Intercept for CaptureBody {
    fn name(&self) -> &'static str {
        "aws_settle::wait::CaptureBody"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().map(<[u8]>::to_vec);
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string());
        let mut captured = self.inner.lock().expect("capture");
        captured.request = body;
        captured.operation = operation;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let mut captured = self.inner.lock().expect("capture");
        captured.status = Some(response.status().as_u16());
        captured.content_type = response.headers().get("content-type").map(str::to_string);
        captured.response = response.body().bytes().map(<[u8]>::to_vec);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::body_to_json;
    use serde_json::json;

    #[test]
    fn an_empty_body_is_not_an_empty_object() {
        for (body, content_type) in [(&b""[..], None), (&b" \n"[..], Some("application/json"))] {
            let message = body_to_json(body, content_type).unwrap_err();
            assert!(
                message.contains("body is empty") && message.contains("status or error matchers"),
                "{message}"
            );
        }
    }

    #[test]
    fn debug_shows_sizes_not_bodies() {
        let capture = super::CaptureBody::new();
        {
            let mut captured = capture.inner.lock().unwrap();
            captured.request = Some(br#"{"SecretId": "db"}"#.to_vec());
            captured.response = Some(br#"{"SecretString": "hunter2"}"#.to_vec());
            captured.status = Some(200);
        }
        let printed = format!("{capture:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("104, 117"), "{printed}");
        assert!(printed.contains("response_bytes: Some(27)"), "{printed}");
    }

    #[test]
    fn a_json_body_is_parsed() {
        assert_eq!(body_to_json(br#"{"A": [1, 2]}"#, Some("application/json")), Ok(json!({"A": [1, 2]})));
    }

    #[test]
    fn xml_is_refused_with_a_clear_message() {
        let by_type = body_to_json(b"{}", Some("application/xml")).unwrap_err();
        let by_body = body_to_json(b"  <ListBucketResult/>", None).unwrap_err();
        for message in [by_type, by_body] {
            assert!(message.contains("XML-protocol services") && message.contains("closure"), "{message}");
        }
        assert!(body_to_json(b"not json", None).unwrap_err().contains("not JSON"));
    }

    #[test]
    fn nothing_captured_says_how_to_attach_it() {
        let message = super::CaptureBody::new().response_json().unwrap_err();
        assert!(message.contains(".customize().interceptor("), "{message}");
    }
}
