//! S3: buckets, objects, bucket/object tagging, bucket policies and versioning.

use super::{Hooks, Key, KeyFrom as K, Read, ServiceRules, TagView, Template as T, Write, WriteKind as W};

const BUCKET: &str = "s3-bucket";
const OBJECT: &str = "s3-object";
const BUCKET_READS: &[&str] = &["HeadBucket", "GetBucketTagging", "GetBucketLocation"];
const OBJECT_READS: &[&str] = &["HeadObject", "GetObject", "GetObjectTagging"];

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "s3",
    writes: &[
        Write {
            op: "CreateBucket",
            class: BUCKET,
            key: K::S3Bucket,
            kind: W::Create,
            reads: BUCKET_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteBucket",
            class: BUCKET,
            key: K::S3Bucket,
            kind: W::Delete,
            reads: BUCKET_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "PutBucketTagging",
            class: BUCKET,
            key: K::S3Bucket,
            kind: W::Tag,
            reads: &["GetBucketTagging"],
            status: None,
            tagging: true,
        },
        Write {
            op: "DeleteBucketTagging",
            class: BUCKET,
            key: K::S3Bucket,
            kind: W::Tag,
            reads: &["GetBucketTagging"],
            status: None,
            tagging: true,
        },
        Write {
            op: "PutObject",
            class: OBJECT,
            key: K::S3Object,
            kind: W::Put,
            reads: OBJECT_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "CopyObject",
            class: OBJECT,
            key: K::S3Object,
            kind: W::Put,
            reads: OBJECT_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "CompleteMultipartUpload",
            class: OBJECT,
            key: K::S3Object,
            kind: W::Put,
            reads: OBJECT_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteObject",
            class: OBJECT,
            key: K::S3Object,
            kind: W::Delete,
            reads: OBJECT_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "PutObjectTagging",
            class: OBJECT,
            key: K::S3Object,
            kind: W::Tag,
            reads: &["GetObjectTagging"],
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteObjectTagging",
            class: OBJECT,
            key: K::S3Object,
            kind: W::Tag,
            reads: &["GetObjectTagging"],
            status: None,
            tagging: false,
        },
        Write {
            op: "PutBucketPolicy",
            class: BUCKET,
            key: K::S3Bucket,
            kind: W::Update,
            reads: &["GetBucketPolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteBucketPolicy",
            class: BUCKET,
            key: K::S3Bucket,
            kind: W::Update,
            reads: &["GetBucketPolicy"],
            status: None,
            tagging: false,
        },
        Write {
            op: "PutBucketVersioning",
            class: BUCKET,
            key: K::S3Bucket,
            kind: W::Update,
            reads: &["GetBucketVersioning"],
            status: None,
            tagging: false,
        },
    ],
    reads: &[
        Read {
            op: "GetBucketVersioning",
            class: BUCKET,
            key: K::S3Bucket,
            template: T::S3("GET", "versioning"),
            variant: None,
        },
        Read {
            op: "GetBucketPolicy",
            class: BUCKET,
            key: K::S3Bucket,
            template: T::S3("GET", "policy"),
            variant: None,
        },
        Read {
            op: "HeadBucket",
            class: BUCKET,
            key: K::S3Bucket,
            template: T::S3("HEAD", ""),
            variant: None,
        },
        Read {
            op: "GetBucketTagging",
            class: BUCKET,
            key: K::S3Bucket,
            template: T::S3("GET", "tagging"),
            variant: None,
        },
        Read {
            op: "GetBucketLocation",
            class: BUCKET,
            key: K::S3Bucket,
            template: T::S3("GET", "location"),
            variant: None,
        },
        Read {
            op: "HeadObject",
            class: OBJECT,
            key: K::S3Object,
            template: T::S3("HEAD", ""),
            variant: None,
        },
        Read { op: "GetObject", class: OBJECT, key: K::S3Object, template: T::S3("GET", ""), variant: None },
        Read {
            op: "GetObjectTagging",
            class: OBJECT,
            key: K::S3Object,
            template: T::S3("GET", "tagging"),
            variant: None,
        },
    ],
    hooks: Hooks::NONE,
    tag_view: Some(TagView { type_filter: "s3", names: bucket_arn }),
    wire: super::Wire::DEFAULT,
};

/// `arn:aws:s3:::NAME` names the bucket `NAME` (objects are not in the view).
fn bucket_arn(key: &Key, arn: &str) -> bool {
    key.class == BUCKET && arn.strip_prefix("arn:aws:s3:::") == Some(key.name.as_str())
}
