//! The eventual-consistency pitfalls, reproduced against real moto through real SDK clients.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TableStatus,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use settle_proxy::{Config, ProxyHandle};
use settle_testbed::{proxy_in_front_of_moto, sdk_config, unique_name};

const LAG: Duration = Duration::from_millis(1000);

fn proxy() -> (ProxyHandle, aws_types::SdkConfig) {
    let proxy = proxy_in_front_of_moto(Config::with_lag(settle_proxy::Dist::Fixed(LAG)));
    let config = sdk_config(&proxy.endpoint());
    (proxy, config)
}

/// Polls `probe` every 10 ms until it returns true; the time it took.
async fn until<F, Fut>(mut probe: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !probe().await {
        assert!(start.elapsed() < Duration::from_secs(10), "never became visible");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn ssm_put_reads_not_found_until_the_lag_ends() {
    let (proxy, config) = proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let name = unique_name("/settle/lag");
    let written = Instant::now();
    ssm.put_parameter()
        .name(&name)
        .value("v1")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let err = ssm.get_parameter().name(&name).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterNotFound"));
    let waited = until(|| async { ssm.get_parameter().name(&name).send().await.is_ok() }).await;
    let observed = written.elapsed().min(waited + (written.elapsed() - waited));
    assert!(observed >= LAG - Duration::from_millis(50), "visible after {observed:?}");
    assert!(observed < LAG + Duration::from_millis(500), "visible after {observed:?}");
    let value = ssm.get_parameter().name(&name).send().await.unwrap();
    assert_eq!(value.parameter().and_then(|p| p.value()), Some("v1"));

    // Update: the old value during the lag.
    ssm.put_parameter().name(&name).value("v2").overwrite(true).send().await.unwrap();
    let old = ssm.get_parameter().name(&name).send().await.unwrap();
    assert_eq!(old.parameter().and_then(|p| p.value()), Some("v1"));

    // The proxy knows when the write became visible.
    let records = proxy.visibility(Some(&format!("ssm-parameter:{name}")), Some("PutParameter"));
    assert_eq!(records.len(), 2);
    assert!((records[0].visible_at_ms - records[0].written_at_ms - 1000.0).abs() < 1.0);
    assert!(records[0].visible);
    assert!(proxy.counters().served_from_snapshot >= 2);
}

#[tokio::test]
async fn ssm_delete_still_reads_present_and_tags_read_old() {
    let (_proxy, config) = proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let name = unique_name("/settle/del");
    ssm.put_parameter()
        .name(&name)
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    until(|| async { ssm.get_parameter().name(&name).send().await.is_ok() }).await;

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
    assert_eq!(tags(ssm.clone(), name.clone()).await, 0, "tags must read old during the lag");
    until(|| async { tags(ssm.clone(), name.clone()).await == 1 }).await;

    ssm.delete_parameter().name(&name).send().await.unwrap();
    assert!(
        ssm.get_parameter().name(&name).send().await.is_ok(),
        "a deleted parameter still reads during the lag"
    );
    until(|| async { ssm.get_parameter().name(&name).send().await.is_err() }).await;
}

#[tokio::test]
async fn secrets_manager_create_lags_and_name_reuse_conflicts() {
    let (proxy, config) = proxy();
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let name = unique_name("settle-secret");
    sm.create_secret().name(&name).secret_string("first").send().await.unwrap();
    let err = sm.get_secret_value().secret_id(&name).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    until(|| async { sm.get_secret_value().secret_id(&name).send().await.is_ok() }).await;

    // Scheduled for deletion: re-creating the name fails the way AWS fails it.
    sm.delete_secret().secret_id(&name).send().await.unwrap();
    let err = sm.create_secret().name(&name).secret_string("again").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert!(err.message().unwrap_or("").contains("scheduled for deletion"));

    // Force-deleted moments ago: the same, until the lag ends.
    sm.restore_secret().secret_id(&name).send().await.unwrap();
    tokio::time::sleep(LAG).await;
    sm.delete_secret().secret_id(&name).force_delete_without_recovery(true).send().await.unwrap();
    let err = sm.create_secret().name(&name).secret_string("again").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    tokio::time::sleep(LAG + Duration::from_millis(50)).await;
    sm.create_secret().name(&name).secret_string("again").send().await.unwrap();
    assert!(proxy.counters().conflicts >= 2);
}

#[tokio::test]
async fn s3_new_bucket_heads_404_and_tagging_reads_old() {
    let (_proxy, config) = proxy();
    let s3 = aws_sdk_s3::Client::new(&config);
    let bucket = unique_name("settle-bucket").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let err = s3.head_bucket().bucket(&bucket).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_not_found()), "{err:?}");
    until(|| async { s3.head_bucket().bucket(&bucket).send().await.is_ok() }).await;

    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("k").value("v").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket(&bucket).tagging(tagging).send().await.unwrap();
    let err = s3.get_bucket_tagging().bucket(&bucket).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchTagSet"));
    until(|| async { s3.get_bucket_tagging().bucket(&bucket).send().await.is_ok() }).await;

    s3.put_object().bucket(&bucket).key("a/b.txt").body(b"hello".to_vec().into()).send().await.unwrap();
    assert!(s3.get_object().bucket(&bucket).key("a/b.txt").send().await.is_err());
    until(|| async { s3.head_object().bucket(&bucket).key("a/b.txt").send().await.is_ok() }).await;
}

#[tokio::test]
async fn iam_role_reads_no_such_entity_until_the_lag_ends() {
    let (_proxy, config) = proxy();
    let iam = aws_sdk_iam::Client::new(&config);
    let role = unique_name("settle-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name(&role).assume_role_policy_document(trust).send().await.unwrap();
    let err = iam.get_role().role_name(&role).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchEntity"));
    until(|| async { iam.get_role().role_name(&role).send().await.is_ok() }).await;

    let policy = unique_name("settle-policy");
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let arn = iam.create_policy().policy_name(&policy).policy_document(doc).send().await.unwrap();
    let arn = arn.policy().and_then(|p| p.arn()).unwrap().to_string();
    assert_eq!(iam.get_policy().policy_arn(&arn).send().await.unwrap_err().code(), Some("NoSuchEntity"));
    until(|| async { iam.get_policy().policy_arn(&arn).send().await.is_ok() }).await;
}

#[tokio::test]
async fn dynamodb_tables_read_creating_then_active_and_deleting() {
    let (proxy, config) = proxy();
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
    let err =
        ddb.put_item().table_name(&table).item("pk", AttributeValue::S("x".into())).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    until(|| async {
        let t = ddb.describe_table().table_name(&table).send().await.unwrap();
        t.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active)
    })
    .await;
    ddb.put_item().table_name(&table).item("pk", AttributeValue::S("x".into())).send().await.unwrap();

    ddb.delete_table().table_name(&table).send().await.unwrap();
    let described = ddb.describe_table().table_name(&table).send().await.unwrap();
    assert_eq!(described.table().and_then(|t| t.table_status()), Some(&TableStatus::Deleting));
    until(|| async { ddb.describe_table().table_name(&table).send().await.is_err() }).await;
}

#[tokio::test]
async fn control_endpoint_replaces_rules_and_resets() {
    let (proxy, config) = proxy();
    let ssm = aws_sdk_ssm::Client::new(&config);
    // Turn the lag off for SSM at run time over HTTP.
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let put = http::Request::put(format!("{}/__settle/config", proxy.endpoint()))
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"[services.ssm]\nlag = \"0s\"\n")))
        .unwrap();
    assert!(client.request(put).await.unwrap().status().is_success());
    let name = unique_name("/settle/ctl");
    ssm.put_parameter()
        .name(&name)
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    ssm.get_parameter().name(&name).send().await.unwrap();
    let counters = client
        .request(
            http::Request::get(format!("{}/__settle/counters", proxy.endpoint()))
                .body(Default::default())
                .unwrap(),
        )
        .await
        .unwrap();
    use http_body_util::BodyExt;
    let body = counters.into_body().collect().await.unwrap().to_bytes();
    let counters: settle_proxy::Counters = serde_json::from_slice(&body).unwrap();
    assert_eq!(counters.per_operation.get("ssm:PutParameter"), Some(&1));
    assert_eq!(counters.served_from_snapshot, 0);
    proxy.reset();
    assert_eq!(proxy.counters().requests, 0);
}
