//! moto: what is and is not supported on an XML-protocol service (S3, restXml).

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_settle::wait::{Acceptor, CaptureBody, Comparator, Delays, Model, State, WaitError, Waiter};

fn s3() -> Client {
    let config = aws_sdk_s3::config::Builder::from(&crate::moto_config()).force_path_style(true).build();
    Client::from_conf(config)
}

#[tokio::test]
async fn status_matchers_of_the_real_bucket_exists_waiter_work_on_s3() {
    let s3 = s3();
    let bucket = settle_testbed::unique_name("settle-wait");
    s3.create_bucket().bucket(&bucket).send().await.expect("CreateBucket");
    let model = Model::from_path(crate::data("waiters/valid/s3.waiters-2.json")).unwrap();
    let capture = CaptureBody::new();
    let waiter = model
        .waiter("BucketExists")
        .unwrap()
        .typed::<HeadBucketOutput>()
        .with_delays(Delays::fixed(Duration::from_millis(20), 3))
        .capture(&capture);
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
    let s3 = s3();
    let bucket = settle_testbed::unique_name("settle-wait-xml");
    s3.create_bucket().bucket(&bucket).send().await.expect("CreateBucket");
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
