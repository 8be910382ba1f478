//! S3: buckets, objects (put, copy, multipart; read-after-write across clients), object and
//! bucket tagging, bucket policy, bucket versioning.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::complete_multipart_upload::{
    CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
};
use aws_sdk_s3::operation::copy_object::{CopyObjectInput, CopyObjectOutput};
use aws_sdk_s3::operation::create_bucket::{CreateBucketInput, CreateBucketOutput};
use aws_sdk_s3::operation::delete_bucket::{DeleteBucketInput, DeleteBucketOutput};
use aws_sdk_s3::operation::delete_bucket_policy::{DeleteBucketPolicyInput, DeleteBucketPolicyOutput};
use aws_sdk_s3::operation::delete_bucket_tagging::{DeleteBucketTaggingInput, DeleteBucketTaggingOutput};
use aws_sdk_s3::operation::delete_object::{DeleteObjectInput, DeleteObjectOutput};
use aws_sdk_s3::operation::delete_object_tagging::{DeleteObjectTaggingInput, DeleteObjectTaggingOutput};
use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput;
use aws_sdk_s3::operation::get_object_tagging::GetObjectTaggingOutput;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::put_bucket_policy::{PutBucketPolicyInput, PutBucketPolicyOutput};
use aws_sdk_s3::operation::put_bucket_tagging::{PutBucketTaggingInput, PutBucketTaggingOutput};
use aws_sdk_s3::operation::put_bucket_versioning::{PutBucketVersioningInput, PutBucketVersioningOutput};
use aws_sdk_s3::operation::put_object::{PutObjectInput, PutObjectOutput};
use aws_sdk_s3::operation::put_object_tagging::{PutObjectTaggingInput, PutObjectTaggingOutput};
use aws_sdk_s3::types::Tag;

use super::{rule, same_json, show_tags, waiter};
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
        // Steps of a multipart upload: nothing reads them but CompleteMultipartUpload (which S3
        // checks against the upload's parts, and whose object is read back).
        confirmed_by_response: &["CreateMultipartUpload", "UploadPart", "UploadPartCopy"],
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
            rule("DeleteBucketPolicy", "GetBucketPolicy: NoSuchBucketPolicy", delete_bucket_policy),
            rule("CopyObject", "HeadObject: the copy's ETag (and VersionId, if versioned)", copy_object),
            rule(
                "CompleteMultipartUpload",
                "HeadObject: the returned ETag (and VersionId, if versioned)",
                complete_multipart_upload,
            ),
            rule("PutObjectTagging", "GetObjectTagging: exactly the tag set written", put_object_tagging),
            rule("DeleteObjectTagging", "GetObjectTagging: no tags", delete_object_tagging),
            rule("PutBucketVersioning", "GetBucketVersioning: the status written", put_bucket_versioning),
        ],
        #[cfg(feature = "tagging")]
        view: view::rules(),
    }
}

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

/// HeadObject on `bucket/key` (this version) until it answers `etag`.
fn object_etag(
    s3: &Client,
    operation: &'static str,
    bucket: &str,
    key: &str,
    etag: &str,
    version: Option<&str>,
) -> Check {
    // An unversioned bucket answers VersionId "null": read the object, not a version.
    let version = version.filter(|v| *v != "null").map(str::to_string);
    let (client, b, k) = (s3.clone(), bucket.to_string(), key.to_string());
    let wanted = etag.to_string();
    Check::new(
        operation,
        format!("s3://{bucket}/{key}"),
        format!("HeadObject answers ETag {etag}"),
        waiter::<HeadObjectOutput>()
            .success_when(move |o| o.e_tag() == Some(wanted.as_str()))
            .retry_on_error_code("NotFound")
            .retry_on_error_code("NoSuchKey"),
        move || client.head_object().bucket(&b).key(&k).set_version_id(version.clone()).send(),
    )
}

fn put_object(
    s3: &Client,
    (bucket, key): &(Option<String>, Option<String>),
    output: &PutObjectOutput,
) -> Vec<Check> {
    let (Some(bucket), Some(key), Some(etag)) = (bucket, key, output.e_tag()) else {
        return Vec::new();
    };
    vec![object_etag(s3, "PutObject", bucket, key, etag, output.version_id())]
}

fn copy_object(s3: &Client, input: &CopyObjectInput, output: &CopyObjectOutput) -> Vec<Check> {
    let etag = output.copy_object_result().and_then(|r| r.e_tag());
    let (Some(bucket), Some(key), Some(etag)) = (input.bucket(), input.key(), etag) else {
        return Vec::new();
    };
    vec![object_etag(s3, "CopyObject", bucket, key, etag, output.version_id())]
}

fn complete_multipart_upload(
    s3: &Client,
    input: &CompleteMultipartUploadInput,
    output: &CompleteMultipartUploadOutput,
) -> Vec<Check> {
    let bucket = output.bucket().or(input.bucket());
    let key = output.key().or(input.key());
    let (Some(bucket), Some(key), Some(etag)) = (bucket, key, output.e_tag()) else {
        return Vec::new();
    };
    vec![object_etag(s3, "CompleteMultipartUpload", bucket, key, etag, output.version_id())]
}

/// GetObjectTagging on `bucket/key` (this version) until its tag set is exactly `wanted`.
fn object_tags(
    s3: &Client,
    operation: &'static str,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    mut wanted: Vec<(String, String)>,
) -> Check {
    wanted.sort();
    let expected = if wanted.is_empty() {
        "GetObjectTagging answers no tags".to_string()
    } else {
        format!("GetObjectTagging answers exactly {}", show_tags(&wanted))
    };
    let (client, b, k, version) =
        (s3.clone(), bucket.to_string(), key.to_string(), version.map(str::to_string));
    Check::new(
        operation,
        format!("s3://{bucket}/{key}"),
        expected,
        waiter::<GetObjectTaggingOutput>().success_when(move |o| sorted_tags(o.tag_set()) == wanted),
        move || client.get_object_tagging().bucket(&b).key(&k).set_version_id(version.clone()).send(),
    )
}

fn sorted_tags(tags: &[Tag]) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> =
        tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    tags.sort();
    tags
}

fn put_object_tagging(
    s3: &Client,
    input: &PutObjectTaggingInput,
    output: &PutObjectTaggingOutput,
) -> Vec<Check> {
    let (Some(bucket), Some(key)) = (input.bucket(), input.key()) else { return Vec::new() };
    let wanted = input.tagging().map(|t| sorted_tags(t.tag_set())).unwrap_or_default();
    let version = output.version_id().or(input.version_id());
    vec![object_tags(s3, "PutObjectTagging", bucket, key, version, wanted)]
}

fn delete_object_tagging(
    s3: &Client,
    input: &DeleteObjectTaggingInput,
    output: &DeleteObjectTaggingOutput,
) -> Vec<Check> {
    let (Some(bucket), Some(key)) = (input.bucket(), input.key()) else { return Vec::new() };
    let version = output.version_id().or(input.version_id());
    vec![object_tags(s3, "DeleteObjectTagging", bucket, key, version, Vec::new())]
}

fn delete_bucket_policy(
    s3: &Client,
    input: &DeleteBucketPolicyInput,
    _: &DeleteBucketPolicyOutput,
) -> Vec<Check> {
    let Some(bucket) = input.bucket() else { return Vec::new() };
    let (client, b) = (s3.clone(), bucket.to_string());
    vec![Check::new(
        "DeleteBucketPolicy",
        bucket,
        "GetBucketPolicy answers NoSuchBucketPolicy",
        waiter::<GetBucketPolicyOutput>().success_on_error_code("NoSuchBucketPolicy").retry_when(|_| true),
        move || client.get_bucket_policy().bucket(&b).send(),
    )]
}

fn put_bucket_versioning(
    s3: &Client,
    input: &PutBucketVersioningInput,
    _: &PutBucketVersioningOutput,
) -> Vec<Check> {
    let (Some(bucket), Some(status)) =
        (input.bucket(), input.versioning_configuration().and_then(|c| c.status()))
    else {
        return Vec::new();
    };
    let (client, b, wanted) = (s3.clone(), bucket.to_string(), status.clone());
    vec![Check::new(
        "PutBucketVersioning",
        bucket,
        format!("GetBucketVersioning shows Status {}", status.as_str()),
        waiter::<GetBucketVersioningOutput>().success_when(move |o| o.status() == Some(&wanted)),
        move || client.get_bucket_versioning().bucket(&b).send(),
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
    let wanted = input.tagging().map(|t| sorted_tags(t.tag_set())).unwrap_or_default();
    let (client, b) = (s3.clone(), bucket.to_string());
    let expected = format!("GetBucketTagging answers exactly {}", show_tags(&wanted));
    vec![Check::new(
        "PutBucketTagging",
        bucket,
        expected,
        waiter::<GetBucketTaggingOutput>()
            .success_when(move |o| sorted_tags(o.tag_set()) == wanted)
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

fn put_bucket_policy(s3: &Client, input: &PutBucketPolicyInput, _: &PutBucketPolicyOutput) -> Vec<Check> {
    let (Some(bucket), Some(policy)) = (input.bucket(), input.policy()) else { return Vec::new() };
    let (client, b, wanted) = (s3.clone(), bucket.to_string(), policy.to_string());
    vec![Check::new(
        "PutBucketPolicy",
        bucket,
        "GetBucketPolicy answers the policy written",
        waiter::<GetBucketPolicyOutput>()
            .success_when(move |o| o.policy().is_some_and(|p| same_json(p, &wanted)))
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
