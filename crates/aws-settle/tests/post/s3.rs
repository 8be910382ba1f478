//! S3 rules under lag.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Tag, Tagging};

use crate::scenario::{BoxFut, Scenario, bx, nothing, run, send};
use crate::unique;

fn s3(config: &aws_types::SdkConfig) -> Client {
    Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

fn tagging(key: &str) -> Tagging {
    Tagging::builder().tag_set(Tag::builder().key(key).value("v").build().unwrap()).build().unwrap()
}

fn policy(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Readers","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    )
}

fn bucket(s3: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(s3.create_bucket().bucket(&name).send(), true).await;
    })
}

fn bucket_with_object(s3: Client, name: String) -> BoxFut<()> {
    bx(async move {
        bucket(s3.clone(), name.clone()).await;
        send(s3.put_object().bucket(&name).key("k").body(ByteStream::from_static(b"hello")).send(), true)
            .await;
    })
}

fn bucket_with_tags(s3: Client, name: String) -> BoxFut<()> {
    bx(async move {
        bucket(s3.clone(), name.clone()).await;
        send(s3.put_bucket_tagging().bucket(&name).tagging(tagging("team")).send(), true).await;
    })
}

fn bucket_with_policy(s3: Client, name: String) -> BoxFut<()> {
    bx(async move {
        bucket(s3.clone(), name.clone()).await;
        send(s3.put_bucket_policy().bucket(&name).policy(policy(&name)).send(), true).await;
    })
}

fn bucket_with_tagged_object(s3: Client, name: String) -> BoxFut<()> {
    bx(async move {
        bucket_with_object(s3.clone(), name.clone()).await;
        send(s3.put_object_tagging().bucket(&name).key("k").tagging(tagging("team")).send(), true).await;
    })
}

async fn object_tags(s3: &Client, bucket: &str) -> Vec<String> {
    let out = s3.get_object_tagging().bucket(bucket).key("k").send().await.unwrap();
    out.tag_set().iter().map(|t| t.key().to_string()).collect()
}

async fn bucket_tags(s3: &Client, bucket: &str) -> Option<Vec<String>> {
    let out = s3.get_bucket_tagging().bucket(bucket).send().await.ok()?;
    Some(out.tag_set().iter().map(|t| t.key().to_string()).collect())
}

#[tokio::test]
async fn every_s3_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        s3,
        || unique("settle-b").to_lowercase(),
        vec![
            Scenario {
                rule: "CreateBucket",
                setup: nothing,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.create_bucket().bucket(&b).send(), settle).await;
                    })
                },
                visible: |s3, b| bx(async move { s3.head_bucket().bucket(&b).send().await.is_ok() }),
            },
            Scenario {
                rule: "DeleteBucket",
                setup: bucket,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.delete_bucket().bucket(&b).send(), settle).await;
                    })
                },
                visible: |s3, b| {
                    bx(async move {
                        s3.head_bucket()
                            .bucket(&b)
                            .send()
                            .await
                            .is_err_and(|e| e.into_service_error().is_not_found())
                    })
                },
            },
            Scenario {
                rule: "PutObject",
                setup: bucket,
                write: |s3, b, settle| {
                    bx(async move {
                        send(
                            s3.put_object()
                                .bucket(&b)
                                .key("k")
                                .body(ByteStream::from_static(b"hello"))
                                .send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |s3, b| {
                    bx(async move {
                        s3.head_object()
                            .bucket(&b)
                            .key("k")
                            .send()
                            .await
                            .is_ok_and(|h| h.content_length() == Some(5))
                    })
                },
            },
            Scenario {
                rule: "DeleteObject",
                setup: bucket_with_object,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.delete_object().bucket(&b).key("k").send(), settle).await;
                    })
                },
                visible: |s3, b| {
                    bx(async move {
                        s3.head_object()
                            .bucket(&b)
                            .key("k")
                            .send()
                            .await
                            .is_err_and(|e| e.into_service_error().is_not_found())
                    })
                },
            },
            Scenario {
                rule: "PutBucketTagging",
                setup: bucket,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.put_bucket_tagging().bucket(&b).tagging(tagging("env")).send(), settle).await;
                    })
                },
                visible: |s3, b| {
                    bx(async move { bucket_tags(&s3, &b).await == Some(vec!["env".to_string()]) })
                },
            },
            Scenario {
                rule: "DeleteBucketTagging",
                setup: bucket_with_tags,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.delete_bucket_tagging().bucket(&b).send(), settle).await;
                    })
                },
                visible: |s3, b| bx(async move { bucket_tags(&s3, &b).await.is_none_or(|t| t.is_empty()) }),
            },
            Scenario {
                rule: "PutBucketPolicy",
                setup: bucket,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.put_bucket_policy().bucket(&b).policy(policy(&b)).send(), settle).await;
                    })
                },
                visible: |s3, b| {
                    bx(async move {
                        s3.get_bucket_policy()
                            .bucket(&b)
                            .send()
                            .await
                            .is_ok_and(|p| p.policy().is_some_and(|p| p.contains("Readers")))
                    })
                },
            },
            Scenario {
                rule: "DeleteBucketPolicy",
                setup: bucket_with_policy,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.delete_bucket_policy().bucket(&b).send(), settle).await;
                    })
                },
                visible: |s3, b| {
                    bx(async move {
                        let got = s3.get_bucket_policy().bucket(&b).send().await;
                        got.is_err_and(|e| e.into_service_error().meta().code() == Some("NoSuchBucketPolicy"))
                    })
                },
            },
            Scenario {
                rule: "CopyObject",
                setup: bucket_with_object,
                write: |s3, b, settle| {
                    bx(async move {
                        send(
                            s3.copy_object().copy_source(format!("{b}/k")).bucket(&b).key("copy").send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |s3, b| {
                    bx(async move { s3.head_object().bucket(&b).key("copy").send().await.is_ok() })
                },
            },
            Scenario {
                rule: "CompleteMultipartUpload",
                setup: bucket,
                write: |s3, b, settle| {
                    bx(async move {
                        let created =
                            send(s3.create_multipart_upload().bucket(&b).key("mp").send(), settle).await;
                        let id = created.upload_id().unwrap().to_string();
                        let body = ByteStream::from_static(b"part one");
                        let upload =
                            s3.upload_part().bucket(&b).key("mp").upload_id(&id).part_number(1).body(body);
                        let part = send(upload.send(), settle).await;
                        let parts = CompletedMultipartUpload::builder()
                            .parts(
                                CompletedPart::builder().part_number(1).e_tag(part.e_tag().unwrap()).build(),
                            )
                            .build();
                        let complete = s3
                            .complete_multipart_upload()
                            .bucket(&b)
                            .key("mp")
                            .upload_id(&id)
                            .multipart_upload(parts);
                        send(complete.send(), settle).await;
                    })
                },
                visible: |s3, b| {
                    bx(async move { s3.head_object().bucket(&b).key("mp").send().await.is_ok() })
                },
            },
            Scenario {
                rule: "PutObjectTagging",
                setup: bucket_with_object,
                write: |s3, b, settle| {
                    bx(async move {
                        send(
                            s3.put_object_tagging().bucket(&b).key("k").tagging(tagging("env")).send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |s3, b| bx(async move { object_tags(&s3, &b).await == ["env"] }),
            },
            Scenario {
                rule: "DeleteObjectTagging",
                setup: bucket_with_tagged_object,
                write: |s3, b, settle| {
                    bx(async move {
                        send(s3.delete_object_tagging().bucket(&b).key("k").send(), settle).await;
                    })
                },
                visible: |s3, b| bx(async move { object_tags(&s3, &b).await.is_empty() }),
            },
        ],
    )
    .await;
}
