//! [`CaptureBody`]: an SDK interceptor that keeps the raw request and response bodies, the JSON
//! view that JMESPath acceptors see.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

/// Keeps the body of the last request and response of the operations it is attached to.
///
/// SDK outputs are not serializable, so JMESPath acceptors read the raw response body instead:
/// exact for awsJson services (DynamoDB, SSM, Secrets Manager, ECS, …) and for restJson
/// members bound to the body (members bound to headers or the status code are not in it).
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
#[derive(Debug, Clone, Default)]
pub struct CaptureBody {
    inner: Arc<Mutex<Captured>>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Captured {
    pub(crate) request: Option<Vec<u8>>,
    pub(crate) status: Option<u16>,
    pub(crate) content_type: Option<String>,
    pub(crate) response: Option<Vec<u8>>,
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

    /// The HTTP status of the last response, if any.
    pub fn status(&self) -> Option<u16> {
        self.inner.lock().expect("capture").status
    }

    /// The raw body of the last response, if it was read into memory.
    pub fn response_body(&self) -> Option<Vec<u8>> {
        self.inner.lock().expect("capture").response.clone()
    }

    /// The JSON view of the last response body: `{}` for an empty body; an error naming the
    /// problem for an XML or otherwise non-JSON body, or when nothing was captured.
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
        return Ok(Value::Object(Default::default()));
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
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().map(<[u8]>::to_vec);
        self.inner.lock().expect("capture").request = body;
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
    fn an_empty_body_is_an_empty_object() {
        assert_eq!(body_to_json(b"", None), Ok(json!({})));
        assert_eq!(body_to_json(b" \n", Some("application/x-amz-json-1.0")), Ok(json!({})));
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
