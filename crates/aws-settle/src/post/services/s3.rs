//! S3: buckets, objects (read-after-write across clients), bucket tagging and policy.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::create_bucket::{CreateBucketInput, CreateBucketOutput};
use aws_sdk_s3::operation::delete_bucket::{DeleteBucketInput, DeleteBucketOutput};
use aws_sdk_s3::operation::delete_bucket_tagging::{DeleteBucketTaggingInput, DeleteBucketTaggingOutput};
use aws_sdk_s3::operation::delete_object::{DeleteObjectInput, DeleteObjectOutput};
use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::put_bucket_policy::{PutBucketPolicyInput, PutBucketPolicyOutput};
use aws_sdk_s3::operation::put_bucket_tagging::{PutBucketTaggingInput, PutBucketTaggingOutput};
use aws_sdk_s3::operation::put_object::{PutObjectInput, PutObjectOutput};

use super::{rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::{Rule, Table};
use std::sync::Arc;

/// Operations that change nothing: the SDK's GET and HEAD operations, and SelectObjectContent.
const READS: &[&str] = &[
    "CreateSession",
    "GetBucketAbac",
    "GetBucketAccelerateConfiguration",
    "GetBucketAcl",
    "GetBucketAnalyticsConfiguration",
    "GetBucketCors",
    "GetBucketEncryption",
    "GetBucketIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration",
    "GetBucketLifecycleConfiguration",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketMetadataConfiguration",
    "GetBucketMetadataTableConfiguration",
    "GetBucketMetricsConfiguration",
    "GetBucketNotificationConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketReplication",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAnnotation",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectLockConfiguration",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "GetPublicAccessBlock",
    "HeadBucket",
    "HeadObject",
    "ListBucketAnalyticsConfigurations",
    "ListBucketIntelligentTieringConfigurations",
    "ListBucketInventoryConfigurations",
    "ListBucketMetricsConfigurations",
    "ListBuckets",
    "ListDirectoryBuckets",
    "ListMultipartUploads",
    "ListObjectAnnotations",
    "ListObjectVersions",
    "ListObjects",
    "ListObjectsV2",
    "ListParts",
    "SelectObjectContent",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "s3",
        reads: READS,
        rules: vec![
            rule("CreateBucket", "HeadBucket: 200", create_bucket),
            rule("DeleteBucket", "HeadBucket: 404 NotFound", delete_bucket),
            Arc::new(Rule::with_kept(
                "PutObject",
                "HeadObject: the returned ETag (and VersionId, if versioned)",
                object_of,
                put_object,
            )),
            rule(
                "DeleteObject",
                "HeadObject: 404 NotFound (or, for a version, that version gone)",
                delete_object,
            ),
            rule("PutBucketTagging", "GetBucketTagging: exactly the tag set written", put_bucket_tagging),
            rule(
                "DeleteBucketTagging",
                "GetBucketTagging: NoSuchTagSet (or an empty set)",
                delete_bucket_tagging,
            ),
            rule(
                "PutBucketPolicy",
                "GetBucketPolicy: the policy written (compared as JSON)",
                put_bucket_policy,
            ),
        ],
        #[cfg(feature = "tagging")]
        view: view::rules(),
    }
}

super::attachable!(aws_sdk_s3, s3);

fn head_bucket(s3: &Client, bucket: &str, operation: &'static str, exists: bool) -> Check {
    let (s3, name) = (s3.clone(), bucket.to_string());
    let waiter = if exists {
        waiter::<HeadBucketOutput>()
            .success_when(|_| true)
            .retry_on_error_code("NotFound")
            .retry_on_error_code("NoSuchBucket")
    } else {
        waiter::<HeadBucketOutput>()
            .success_on_error_code("NotFound")
            .success_on_error_code("NoSuchBucket")
            .retry_when(|_| true)
    };
    let expected = if exists { "HeadBucket answers 200" } else { "HeadBucket answers 404 NotFound" };
    Check::new(operation, bucket, expected, waiter, move || s3.head_bucket().bucket(&name).send())
}

fn create_bucket(s3: &Client, input: &CreateBucketInput, _: &CreateBucketOutput) -> Vec<Check> {
    input.bucket().map(|b| head_bucket(s3, b, "CreateBucket", true)).into_iter().collect()
}

fn delete_bucket(s3: &Client, input: &DeleteBucketInput, _: &DeleteBucketOutput) -> Vec<Check> {
    input.bucket().map(|b| head_bucket(s3, b, "DeleteBucket", false)).into_iter().collect()
}

/// PutObject's input holds a streaming body and cannot be cloned: keep bucket and key.
fn object_of(input: &PutObjectInput) -> (Option<String>, Option<String>) {
    (input.bucket().map(str::to_string), input.key().map(str::to_string))
}

fn put_object(
    s3: &Client,
    (bucket, key): &(Option<String>, Option<String>),
    output: &PutObjectOutput,
) -> Vec<Check> {
    let (Some(bucket), Some(key), Some(etag)) = (bucket, key, output.e_tag()) else {
        return Vec::new();
    };
    let (client, b, k, version) =
        (s3.clone(), bucket.to_string(), key.to_string(), output.version_id().map(str::to_string));
    let wanted = etag.to_string();
    vec![Check::new(
        "PutObject",
        format!("s3://{bucket}/{key}"),
        format!("HeadObject answers ETag {etag}"),
        waiter::<HeadObjectOutput>()
            .success_when(move |o| o.e_tag() == Some(wanted.as_str()))
            .retry_on_error_code("NotFound")
            .retry_on_error_code("NoSuchKey"),
        move || client.head_object().bucket(&b).key(&k).set_version_id(version.clone()).send(),
    )]
}

fn delete_object(s3: &Client, input: &DeleteObjectInput, _: &DeleteObjectOutput) -> Vec<Check> {
    let (Some(bucket), Some(key)) = (input.bucket(), input.key()) else { return Vec::new() };
    let (client, b, k, version) =
        (s3.clone(), bucket.to_string(), key.to_string(), input.version_id().map(str::to_string));
    vec![Check::new(
        "DeleteObject",
        format!("s3://{bucket}/{key}"),
        "HeadObject answers 404 NotFound",
        waiter::<HeadObjectOutput>()
            .success_on_error_code("NotFound")
            .success_on_error_code("NoSuchKey")
            .success_on_error_code("NoSuchVersion")
            .retry_when(|_| true),
        move || client.head_object().bucket(&b).key(&k).set_version_id(version.clone()).send(),
    )]
}

fn put_bucket_tagging(s3: &Client, input: &PutBucketTaggingInput, _: &PutBucketTaggingOutput) -> Vec<Check> {
    let Some(bucket) = input.bucket() else { return Vec::new() };
    let mut wanted: Vec<(String, String)> = input
        .tagging()
        .map(|t| t.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
        .unwrap_or_default();
    wanted.sort();
    let (client, b) = (s3.clone(), bucket.to_string());
    let expected = format!("GetBucketTagging answers exactly {}", show_tags(&wanted));
    vec![Check::new(
        "PutBucketTagging",
        bucket,
        expected,
        waiter::<GetBucketTaggingOutput>()
            .success_when(move |o| {
                let mut have: Vec<(String, String)> =
                    o.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
                have.sort();
                have == wanted
            })
            .retry_on_error_code("NoSuchTagSet"),
        move || client.get_bucket_tagging().bucket(&b).send(),
    )]
}

fn delete_bucket_tagging(
    s3: &Client,
    input: &DeleteBucketTaggingInput,
    _: &DeleteBucketTaggingOutput,
) -> Vec<Check> {
    let Some(bucket) = input.bucket() else { return Vec::new() };
    let (client, b) = (s3.clone(), bucket.to_string());
    vec![Check::new(
        "DeleteBucketTagging",
        bucket,
        "GetBucketTagging answers NoSuchTagSet or no tags",
        waiter::<GetBucketTaggingOutput>()
            .success_on_error_code("NoSuchTagSet")
            .success_when(|o| o.tag_set().is_empty()),
        move || client.get_bucket_tagging().bucket(&b).send(),
    )]
}

/// Policies compare as JSON when both parse (S3 may re-serialize them), else as text.
fn same_policy(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn put_bucket_policy(s3: &Client, input: &PutBucketPolicyInput, _: &PutBucketPolicyOutput) -> Vec<Check> {
    let (Some(bucket), Some(policy)) = (input.bucket(), input.policy()) else { return Vec::new() };
    let (client, b, wanted) = (s3.clone(), bucket.to_string(), policy.to_string());
    vec![Check::new(
        "PutBucketPolicy",
        bucket,
        "GetBucketPolicy answers the policy written",
        waiter::<GetBucketPolicyOutput>()
            .success_when(move |o| o.policy().is_some_and(|p| same_policy(p, &wanted)))
            .retry_on_error_code("NoSuchBucketPolicy"),
        move || client.get_bucket_policy().bucket(&b).send(),
    )]
}

/// The tagging API view of bucket tags.
#[cfg(feature = "tagging")]
mod view {
    use super::*;
    use crate::post::rule::{Rule, ViewClient};
    use crate::post::services::tagging::{Change, view_check};

    pub(super) fn rules() -> Vec<std::sync::Arc<Rule<ViewClient>>> {
        vec![
            rule("PutBucketTagging", "GetResources (tagging view, opt-in): the tags written", put_tagging),
            rule("DeleteBucketTagging", "GetResources (tagging view, opt-in): no tags", delete_tagging),
        ]
    }

    fn check(view: &ViewClient, operation: &'static str, bucket: &str, change: Change) -> Check {
        let arn = format!("arn:aws:s3:::{bucket}");
        view_check(view, operation, bucket, "s3", move |a| a == arn, change)
    }

    fn put_tagging(
        view: &ViewClient,
        input: &PutBucketTaggingInput,
        _: &PutBucketTaggingOutput,
    ) -> Vec<Check> {
        let tags: Vec<(String, String)> = input
            .tagging()
            .map(|t| t.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
            .unwrap_or_default();
        input.bucket().map(|b| check(view, "PutBucketTagging", b, Change::Added(tags))).into_iter().collect()
    }

    fn delete_tagging(
        view: &ViewClient,
        input: &DeleteBucketTaggingInput,
        _: &DeleteBucketTaggingOutput,
    ) -> Vec<Check> {
        input.bucket().map(|b| check(view, "DeleteBucketTagging", b, Change::Cleared)).into_iter().collect()
    }
}
