//! The eventual-consistency pitfalls, reproduced against real moto through real SDK clients.
//!
//! Every test holds writes invisible (`Config::held()`) and releases them explicitly, so what is
//! asserted "before" and "after" never depends on how fast the machine is.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TableStatus,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use settle_emulator::{proxy_in_front_of_moto, sdk_config, unique_name};
use settle_proxy::{Config, ProxyHandle};

fn held_proxy() -> (ProxyHandle, aws_types::SdkConfig) {
    let proxy = proxy_in_front_of_moto(Config::held());
    let config = sdk_config(&proxy.endpoint());
    (proxy, config)
}

const STRING: aws_sdk_ssm::types::ParameterType = aws_sdk_ssm::types::ParameterType::String;

#[tokio::test]
async fn ssm_put_reads_not_found_until_released_then_the_overwrite_reads_old() {
    let (proxy, config) = held_proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let name = unique_name("/settle/lag");
    let key = format!("ssm-parameter:{name}");
    ssm.put_parameter().name(&name).value("v1").r#type(STRING).send().await.unwrap();
    for _ in 0..3 {
        let err = ssm.get_parameter().name(&name).send().await.unwrap_err();
        assert_eq!(err.code(), Some("ParameterNotFound"), "held: however often it is read");
    }
    let records = proxy.visibility(Some(&key), Some("PutParameter"));
    assert_eq!((records.len(), records[0].visible_at_ms, records[0].visible), (1, None, false));
    assert_eq!(proxy.release_resource(&key), 1);
    let value = ssm.get_parameter().name(&name).send().await.unwrap();
    assert_eq!(value.parameter().and_then(|p| p.value()), Some("v1"), "visible at once after release");
    let records = proxy.visibility(Some(&key), Some("PutParameter"));
    assert!(records[0].visible && records[0].visible_at_ms.is_some());

    // Update: the old value while held.
    ssm.put_parameter().name(&name).value("v2").overwrite(true).send().await.unwrap();
    let old = ssm.get_parameter().name(&name).send().await.unwrap();
    assert_eq!(old.parameter().and_then(|p| p.value()), Some("v1"));
    assert_eq!(proxy.release_operation("PutParameter"), 1);
    let new = ssm.get_parameter().name(&name).send().await.unwrap();
    assert_eq!(new.parameter().and_then(|p| p.value()), Some("v2"));
    assert_eq!(proxy.counters().served_from_snapshot, 4);
}

#[tokio::test]
async fn ssm_delete_still_reads_present_and_tags_read_old() {
    let (proxy, config) = held_proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let name = unique_name("/settle/del");
    ssm.put_parameter().name(&name).value("v").r#type(STRING).send().await.unwrap();
    proxy.release_all();

    let tag = aws_sdk_ssm::types::Tag::builder().key("team").value("blue").build().unwrap();
    ssm.add_tags_to_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
        .resource_id(&name)
        .tags(tag)
        .send()
        .await
        .unwrap();
    let tags = |ssm: aws_sdk_ssm::Client, name: String| async move {
        ssm.list_tags_for_resource()
            .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send()
            .await
            .unwrap()
            .tag_list()
            .len()
    };
    assert_eq!(tags(ssm.clone(), name.clone()).await, 0, "tags read old while held");
    assert_eq!(proxy.release_operation("AddTagsToResource"), 1);
    assert_eq!(tags(ssm.clone(), name.clone()).await, 1);

    ssm.delete_parameter().name(&name).send().await.unwrap();
    assert!(
        ssm.get_parameter().name(&name).send().await.is_ok(),
        "a deleted parameter still reads while held"
    );
    proxy.release_all();
    assert_eq!(ssm.get_parameter().name(&name).send().await.unwrap_err().code(), Some("ParameterNotFound"));
}

#[tokio::test]
async fn release_by_resource_and_by_operation_is_exact() {
    let (proxy, config) = held_proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let (a, b, c) = (unique_name("/settle/a"), unique_name("/settle/b"), unique_name("/settle/c"));
    for name in [&a, &b, &c] {
        ssm.put_parameter().name(name).value("v").r#type(STRING).send().await.unwrap();
    }
    proxy.release_all();
    // One write on two keys, and a write of another operation on a third.
    ssm.delete_parameters().names(&a).names(&b).send().await.unwrap();
    ssm.label_parameter_version().name(&c).labels("blue").send().await.unwrap();
    assert_eq!(proxy.held(), 3);
    let reads = |name: &str| {
        let (ssm, name) = (ssm.clone(), name.to_string());
        async move { ssm.get_parameter().name(name).send().await.is_ok() }
    };

    assert_eq!(proxy.release_resource(&format!("ssm-parameter:{a}")), 1);
    assert!(!reads(&a).await, "a's delete is visible");
    assert!(reads(&b).await, "b, deleted by the same call, is still held");
    assert!(ssm.get_parameter().name(format!("{c}:blue")).send().await.is_err(), "the label is still held");

    assert_eq!(proxy.release_operation("LabelParameterVersion"), 1);
    assert!(ssm.get_parameter().name(format!("{c}:blue")).send().await.is_ok(), "the label is visible");
    assert!(reads(&b).await, "a release by another operation leaves b held");
    assert_eq!(proxy.release_operation("DeleteParameters"), 1);
    assert!(!reads(&b).await);
    assert_eq!((proxy.held(), proxy.release_all()), (0, 0));
}

#[tokio::test]
async fn secrets_manager_create_lags_and_name_reuse_conflicts() {
    let (proxy, config) = held_proxy();
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let name = unique_name("settle-secret");
    let key = format!("secretsmanager-secret:{name}");
    sm.create_secret().name(&name).secret_string("first").send().await.unwrap();
    let err = sm.get_secret_value().secret_id(&name).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(proxy.release_resource(&key), 1);
    sm.get_secret_value().secret_id(&name).send().await.unwrap();

    // Scheduled for deletion: re-creating the name fails the way AWS fails it, released or not.
    sm.delete_secret().secret_id(&name).send().await.unwrap();
    proxy.release_all();
    let err = sm.create_secret().name(&name).secret_string("again").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert!(err.message().unwrap_or("").contains("scheduled for deletion"));

    // Force-deleted moments ago: the same, until the delete is released.
    sm.restore_secret().secret_id(&name).send().await.unwrap();
    proxy.release_all();
    sm.delete_secret().secret_id(&name).force_delete_without_recovery(true).send().await.unwrap();
    let err = sm.create_secret().name(&name).secret_string("again").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert_eq!(proxy.release_operation("DeleteSecret"), 1);
    sm.create_secret().name(&name).secret_string("again").send().await.unwrap();
    assert_eq!(proxy.counters().conflicts, 2);
}

#[tokio::test]
async fn s3_new_bucket_heads_404_and_tagging_and_objects_read_old() {
    let (proxy, config) = held_proxy();
    let s3 = aws_sdk_s3::Client::new(&config);
    let bucket = unique_name("settle-bucket").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let err = s3.head_bucket().bucket(&bucket).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_not_found()), "{err:?}");
    assert_eq!(proxy.release_resource(&format!("s3-bucket:{bucket}")), 1);
    s3.head_bucket().bucket(&bucket).send().await.unwrap();

    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("k").value("v").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket(&bucket).tagging(tagging).send().await.unwrap();
    let err = s3.get_bucket_tagging().bucket(&bucket).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchTagSet"));
    proxy.release_operation("PutBucketTagging");
    s3.get_bucket_tagging().bucket(&bucket).send().await.unwrap();

    s3.put_object().bucket(&bucket).key("a/b.txt").body(b"hello".to_vec().into()).send().await.unwrap();
    assert!(s3.get_object().bucket(&bucket).key("a/b.txt").send().await.is_err());
    assert!(s3.head_object().bucket(&bucket).key("a/b.txt").send().await.is_err());
    assert_eq!(proxy.release_resource(&format!("s3-object:{bucket}/a/b.txt")), 1);
    s3.head_object().bucket(&bucket).key("a/b.txt").send().await.unwrap();

    s3.copy_object()
        .bucket(&bucket)
        .key("copy.txt")
        .copy_source(format!("{bucket}/a/b.txt"))
        .send()
        .await
        .unwrap();
    assert!(s3.head_object().bucket(&bucket).key("copy.txt").send().await.is_err(), "the copy is held");
    assert_eq!(proxy.release_operation("CopyObject"), 1);
    s3.head_object().bucket(&bucket).key("copy.txt").send().await.unwrap();
}

#[tokio::test]
async fn iam_role_and_policy_read_no_such_entity_until_released() {
    let (proxy, config) = held_proxy();
    let iam = aws_sdk_iam::Client::new(&config);
    let role = unique_name("settle-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name(&role).assume_role_policy_document(trust).send().await.unwrap();
    let err = iam.get_role().role_name(&role).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchEntity"));
    assert_eq!(proxy.release_resource(&format!("iam-role:{role}")), 1);
    iam.get_role().role_name(&role).send().await.unwrap();

    let policy = unique_name("settle-policy");
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let arn = iam.create_policy().policy_name(&policy).policy_document(doc).send().await.unwrap();
    let arn = arn.policy().and_then(|p| p.arn()).unwrap().to_string();
    assert_eq!(iam.get_policy().policy_arn(&arn).send().await.unwrap_err().code(), Some("NoSuchEntity"));
    assert_eq!(proxy.release_operation("CreatePolicy"), 1);
    iam.get_policy().policy_arn(&arn).send().await.unwrap();

    iam.attach_role_policy().role_name(&role).policy_arn(&arn).send().await.unwrap();
    let attached = iam.list_attached_role_policies().role_name(&role).send().await.unwrap();
    assert!(attached.attached_policies().is_empty(), "the attachment is held");
    proxy.release_all();
    let attached = iam.list_attached_role_policies().role_name(&role).send().await.unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
}

#[tokio::test]
async fn dynamodb_tables_read_creating_until_released_then_active_and_deleting() {
    let (proxy, config) = held_proxy();
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("settle-table");
    let created = ddb
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    assert_eq!(created.table_description().and_then(|t| t.table_status()), Some(&TableStatus::Creating));
    assert_eq!(proxy.counters().status_rewrites, 1, "the CreateTable answer is a rewritten response too");
    let described = ddb.describe_table().table_name(&table).send().await.unwrap();
    assert_eq!(described.table().and_then(|t| t.table_status()), Some(&TableStatus::Creating));
    let put = || ddb.put_item().table_name(&table).item("pk", AttributeValue::S("x".into())).send();
    assert_eq!(put().await.unwrap_err().code(), Some("ResourceNotFoundException"));
    assert_eq!(proxy.counters().blocked, 1);
    assert_eq!(proxy.release_resource(&format!("dynamodb-table:{table}")), 1);
    let t = ddb.describe_table().table_name(&table).send().await.unwrap();
    assert_eq!(t.table().and_then(|t| t.table_status()), Some(&TableStatus::Active));
    put().await.unwrap();

    ddb.delete_table().table_name(&table).send().await.unwrap();
    let described = ddb.describe_table().table_name(&table).send().await.unwrap();
    assert_eq!(described.table().and_then(|t| t.table_status()), Some(&TableStatus::Deleting));
    proxy.release_operation("DeleteTable");
    assert_eq!(
        ddb.describe_table().table_name(&table).send().await.unwrap_err().code(),
        Some("ResourceNotFoundException")
    );
}

/// Sends one control request; the status and body.
async fn control(
    proxy: &ProxyHandle,
    method: http::Method,
    path: &str,
    body: &'static [u8],
) -> (u16, String) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", proxy.endpoint()))
        .header(settle_proxy::TOKEN_HEADER, proxy.control_token().unwrap())
        .body(http_body_util::Full::new(bytes::Bytes::from_static(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn control_endpoint_holds_releases_replaces_rules_and_resets() {
    let (proxy, config) = held_proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let name = unique_name("/settle/ctl");
    ssm.put_parameter().name(&name).value("v").r#type(STRING).send().await.unwrap();
    assert!(ssm.get_parameter().name(&name).send().await.is_err());
    let (status, body) =
        control(&proxy, http::Method::POST, "/__settle/release?operation=DeleteTable", b"").await;
    assert_eq!((status, body.as_str()), (200, r#"{"held":1,"released":0}"#));
    let path = format!("/__settle/release?resource=ssm-parameter:{name}");
    let (status, body) = control(&proxy, http::Method::POST, path.leak(), b"").await;
    assert_eq!((status, body.as_str()), (200, r#"{"held":0,"released":1}"#));
    ssm.get_parameter().name(&name).send().await.unwrap();
    let both = "/__settle/release?resource=a&operation=b";
    assert_eq!(control(&proxy, http::Method::POST, both, b"").await.0, 400);

    // Turn the lag off for SSM at run time over HTTP.
    let (status, _) =
        control(&proxy, http::Method::PUT, "/__settle/config", b"[services.ssm]\nlag = \"0s\"\n").await;
    assert_eq!(status, 200);
    let name = unique_name("/settle/ctl");
    ssm.put_parameter().name(&name).value("v").r#type(STRING).send().await.unwrap();
    ssm.get_parameter().name(&name).send().await.unwrap();
    let (_, body) = control(&proxy, http::Method::GET, "/__settle/counters", b"").await;
    let counters: settle_proxy::Counters = serde_json::from_str(&body).unwrap();
    assert_eq!(counters.per_operation.get("ssm:PutParameter"), Some(&2));
    assert_eq!(counters.served_from_snapshot, 1);
    proxy.reset();
    assert_eq!(proxy.counters().requests, 0);
}

#[tokio::test]
async fn one_request_cannot_make_the_proxy_issue_more_snapshot_reads_than_aws_list_limits_allow() {
    let (proxy, config) = held_proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let names: Vec<String> = (0..1000).map(|i| format!("/settle/amp-{i}")).collect();
    let _ = ssm.delete_parameters().set_names(Some(names)).send().await;
    let per_key = 3; // GetParameter with and without decryption, ListTagsForResource
    assert_eq!(proxy.counters().snapshot_reads, 10 * per_key, "10 names at most, as AWS caps the list");

    let name = unique_name("/settle/amp");
    ssm.put_parameter().name(&name).value("v").r#type(STRING).send().await.unwrap();
    proxy.reset();
    let labels: Vec<String> = (0..1000).map(|i| format!("l{i}")).collect();
    let _ = ssm.label_parameter_version().name(&name).set_labels(Some(labels)).send().await;
    assert_eq!(
        proxy.counters().snapshot_reads,
        2 * (1 + 10),
        "the name and 10 labels, each with and without decryption"
    );
}

#[tokio::test]
async fn after_the_lag_reads_flap_for_the_configured_number_of_reads() {
    // Each of the 3 reads after the release sees the old state (chance 1): counted in reads, not time.
    let flap = settle_proxy::Flap { reads: 3, old: 1.0 };
    let proxy = proxy_in_front_of_moto(Config::held().flapping(flap));
    let ssm = aws_sdk_ssm::Client::new(&sdk_config(&proxy.endpoint()));
    let name = unique_name("/settle/flap");
    ssm.put_parameter().name(&name).value("v1").r#type(STRING).send().await.unwrap();
    assert_eq!(proxy.release_all(), 1);
    for n in 0..3 {
        let err = ssm.get_parameter().name(&name).send().await.unwrap_err();
        assert_eq!(err.code(), Some("ParameterNotFound"), "flapping read {n} of a create: not found");
    }
    let read = || async { ssm.get_parameter().name(&name).send().await.unwrap().parameter.unwrap().value };
    assert_eq!(read().await.as_deref(), Some("v1"));
    ssm.put_parameter().name(&name).value("v2").overwrite(true).send().await.unwrap();
    assert_eq!(proxy.release_all(), 1);
    let before = proxy.counters().flapped_reads;
    for n in 0..3 {
        assert_eq!(read().await.as_deref(), Some("v1"), "flapping read {n} sees the old value");
    }
    for _ in 0..3 {
        assert_eq!(read().await.as_deref(), Some("v2"), "past the flapping every read is new");
    }
    assert_eq!(proxy.counters().flapped_reads - before, 3);
}
