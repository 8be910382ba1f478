//! S3 rules under lag.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Tag, Tagging};
use aws_settle::post::Settle;

use crate::{LAG, Lagged, unique};

fn s3(config: &aws_types::SdkConfig) -> Client {
    Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

fn bucket() -> String {
    unique("settle-b").to_lowercase()
}

fn tagging(key: &str) -> Tagging {
    Tagging::builder().tag_set(Tag::builder().key(key).value("v").build().unwrap()).build().unwrap()
}

#[tokio::test]
async fn create_and_delete_bucket() {
    let env = Lagged::new(LAG);
    let (plain, s3) = env.clients(s3);
    let naive = bucket();
    plain.create_bucket().bucket(&naive).send().await.unwrap();
    assert!(
        plain.head_bucket().bucket(&naive).send().await.is_err(),
        "naive: HeadBucket 404 on a new bucket"
    );

    let settled = bucket();
    s3.create_bucket().bucket(&settled).send().settled().await.unwrap();
    plain.head_bucket().bucket(&settled).send().await.unwrap();
    s3.delete_bucket().bucket(&settled).send().settled().await.unwrap();
    let err = plain.head_bucket().bucket(&settled).send().await.unwrap_err().into_service_error();
    assert!(err.is_not_found(), "{err:?}");
    env.assert_all_settled(2);
}

#[tokio::test]
async fn put_and_delete_object() {
    let env = Lagged::new(LAG);
    let (plain, s3) = env.clients(s3);
    let b = bucket();
    s3.create_bucket().bucket(&b).send().settled().await.unwrap();
    plain.put_object().bucket(&b).key("naive").body(ByteStream::from_static(b"1")).send().await.unwrap();
    assert!(
        plain.head_object().bucket(&b).key("naive").send().await.is_err(),
        "naive: a new object is not found"
    );

    let put = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .settled()
        .await
        .unwrap();
    let head = plain.head_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(head.e_tag(), put.e_tag());
    assert_eq!(head.content_length(), Some(5));

    s3.delete_object().bucket(&b).key("k").send().settled().await.unwrap();
    let err = plain.head_object().bucket(&b).key("k").send().await.unwrap_err().into_service_error();
    assert!(err.is_not_found(), "{err:?}");
    env.assert_all_settled(3);
}

#[tokio::test]
async fn bucket_tagging() {
    let env = Lagged::new(LAG);
    let (plain, s3) = env.clients(s3);
    let b = bucket();
    s3.create_bucket().bucket(&b).send().settled().await.unwrap();
    plain.put_bucket_tagging().bucket(&b).tagging(tagging("naive")).send().await.unwrap();
    assert!(plain.get_bucket_tagging().bucket(&b).send().await.is_err(), "naive: NoSuchTagSet while lagging");

    s3.put_bucket_tagging().bucket(&b).tagging(tagging("team")).send().settled().await.unwrap();
    let tags = plain.get_bucket_tagging().bucket(&b).send().await.unwrap();
    assert_eq!(tags.tag_set().iter().map(|t| t.key()).collect::<Vec<_>>(), ["team"]);

    s3.delete_bucket_tagging().bucket(&b).send().settled().await.unwrap();
    let after = plain.get_bucket_tagging().bucket(&b).send().await;
    assert!(after.is_err() || after.unwrap().tag_set().is_empty());
    env.assert_all_settled(3);
}

#[tokio::test]
async fn bucket_policy() {
    let env = Lagged::new(LAG);
    let (plain, s3) = env.clients(s3);
    let b = bucket();
    s3.create_bucket().bucket(&b).send().settled().await.unwrap();
    let policy = |sid: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"}}]}}"#
        )
    };
    plain.put_bucket_policy().bucket(&b).policy(policy("Naive")).send().await.unwrap();
    let naive = plain.get_bucket_policy().bucket(&b).send().await;
    assert!(naive.is_err(), "naive: NoSuchBucketPolicy while the new policy lags: {naive:?}");

    s3.put_bucket_policy().bucket(&b).policy(policy("Settled")).send().settled().await.unwrap();
    let got = plain.get_bucket_policy().bucket(&b).send().await.unwrap();
    assert!(got.policy().unwrap().contains("Settled"), "{:?}", got.policy());
    env.assert_all_settled(2);
}
