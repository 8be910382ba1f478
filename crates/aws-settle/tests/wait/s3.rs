//! moto: what is and is not supported on an XML-protocol service (S3, restXml).

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_settle::wait::{
    Acceptor, CaptureBody, Comparator, Delays, Model, State, VirtualClock, WaitError, Waiter,
};

fn s3() -> Client {
    let config =
        aws_sdk_s3::config::Builder::from(&settle_testbed::moto_sdk_config()).force_path_style(true).build();
    Client::from_conf(config)
}

/// A client and a new bucket.
async fn with_bucket(prefix: &str) -> (Client, String) {
    let s3 = s3();
    let bucket = settle_testbed::unique_name(prefix);
    s3.create_bucket().bucket(&bucket).send().await.expect("CreateBucket");
    (s3, bucket)
}

/// botocore's own `BucketExists` waiter over output type `O`, reading `capture`.
fn bucket_exists<O>(capture: &CaptureBody) -> Waiter<O> {
    let model = Model::from_path(crate::data("waiters/valid/s3.waiters-2.json")).unwrap();
    model.waiter("BucketExists").unwrap().typed::<O>().capture(capture)
}

#[tokio::test]
async fn status_matchers_of_the_real_bucket_exists_waiter_work_on_s3() {
    let (s3, bucket) = with_bucket("settle-wait").await;
    let capture = CaptureBody::new();
    let waiter =
        bucket_exists::<HeadBucketOutput>(&capture).with_delays(Delays::fixed(Duration::from_millis(20), 3));
    let settled = waiter
        .wait(|| s3.head_bucket().bucket(&bucket).customize().interceptor(capture.clone()).send())
        .await
        .expect("status 200 matches");
    assert_eq!((settled.acceptor, settled.attempts), (0, 1));

    // A missing bucket: 404 → retry until max attempts (the status comes from the SDK error).
    let missing = settle_testbed::unique_name("settle-nobucket");
    let err = waiter
        .wait(|| s3.head_bucket().bucket(&missing).customize().interceptor(capture.clone()).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.attempts() == 3, "{err}");
}

#[tokio::test]
async fn a_jmespath_acceptor_over_an_xml_response_is_reported_as_unsupported() {
    let (s3, bucket) = with_bucket("settle-wait-xml").await;
    let capture = CaptureBody::new();
    let err = Waiter::<ListObjectsV2Output>::new(Delays::fixed(Duration::from_millis(20), 3))
        .named("ObjectsListed")
        .acceptor(Acceptor::path(State::Success, "KeyCount", Comparator::Equals(0.into())).unwrap())
        .capture(&capture)
        .wait(|| s3.list_objects_v2().bucket(&bucket).customize().interceptor(capture.clone()).send())
        .await
        .unwrap_err();
    let WaitError::Unsupported { acceptor, message, attempts, .. } = &err else { panic!("{err}") };
    assert_eq!((*acceptor, *attempts), (0, 1));
    assert!(message.contains("XML"), "{message}");

    // A closure matcher works on every service.
    let settled = Waiter::new(Delays::fixed(Duration::from_millis(20), 3))
        .success_when(|o: &ListObjectsV2Output| o.key_count() == Some(0))
        .wait(|| s3.list_objects_v2().bucket(&bucket).send())
        .await
        .unwrap();
    assert_eq!(settled.attempts, 1);
}

/// A model with a path acceptor over HeadObject, whose output is all in headers.
const HEAD_OBJECT_MODEL: &str = r#"{"version": 2, "waiters": {"ObjectBig": {"delay": 1, "maxAttempts": 5,
    "operation": "HeadObject", "acceptors": [
    {"state": "retry", "matcher": "status", "expected": 404},
    {"state": "success", "matcher": "path", "argument": "ContentLength > `0`", "expected": true}]}}}"#;

#[tokio::test]
async fn a_path_acceptor_over_a_header_only_output_is_unsupported_at_the_first_output() {
    let (s3, bucket) = with_bucket("settle-wait-head").await;
    s3.put_object().bucket(&bucket).key("k").body(b"data".to_vec().into()).send().await.expect("PutObject");
    let model = Model::from_json_str(HEAD_OBJECT_MODEL).unwrap();
    let capture = CaptureBody::new();
    let waiter = model
        .waiter("ObjectBig")
        .unwrap()
        .typed::<HeadObjectOutput>()
        .clock(VirtualClock::new())
        .capture(&capture);
    // Before: the empty body became `{}`, the path never matched, and the wait timed out.
    let err = waiter
        .wait(|| s3.head_object().bucket(&bucket).key("k").customize().interceptor(capture.clone()).send())
        .await
        .unwrap_err();
    let WaitError::Unsupported { acceptor, message, attempts, .. } = &err else { panic!("{err}") };
    assert_eq!((*acceptor, *attempts), (1, 1));
    assert!(
        message.contains("response body is empty") && message.contains("status or error matchers"),
        "{message}"
    );

    // What can be evaluated still is: a missing key is a 404 and retries (status from the error).
    let err = waiter
        .wait(|| {
            s3.head_object().bucket(&bucket).key("missing").customize().interceptor(capture.clone()).send()
        })
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.attempts() == 5, "{err}");
}

#[tokio::test]
async fn polling_another_operation_than_the_models_is_a_typed_error() {
    let (s3, bucket) = with_bucket("settle-wait-op").await;
    let capture = CaptureBody::new();
    let waiter = bucket_exists::<ListObjectsV2Output>(&capture).clock(VirtualClock::new());
    assert_eq!(waiter.polled_operation(), Some("HeadBucket"));
    // Status 200 would have matched "success" on ListObjectsV2: a silent false success before.
    let err = waiter
        .wait(|| s3.list_objects_v2().bucket(&bucket).customize().interceptor(capture.clone()).send())
        .await
        .unwrap_err();
    let WaitError::WrongOperation { expected, polled, attempts, .. } = &err else { panic!("{err}") };
    assert_eq!((expected.as_str(), polled.as_deref(), *attempts), ("HeadBucket", Some("ListObjectsV2"), 1));
    assert!(err.to_string().contains("polls HeadBucket, but the call was ListObjectsV2"), "{err}");

    // A capture given to the waiter but not attached to the call: said, not ignored.
    let err = waiter.wait(|| s3.list_objects_v2().bucket(&bucket).send()).await.unwrap_err();
    assert!(matches!(&err, WaitError::WrongOperation { polled: None, .. }), "{err}");
    assert!(err.to_string().contains("attach it to the polled operation"), "{err}");
}
