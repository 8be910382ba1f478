use aws_sdk_secretsmanager::Client;

#[tokio::test]
async fn create_then_get_returns_the_value_and_delete_makes_it_not_found() {
    let sm = Client::new(&settle_testbed::moto_sdk_config());
    let name = settle_testbed::unique_name("settle-secret");

    let created =
        sm.create_secret().name(&name).secret_string("s3cr3t-value").send().await.expect("CreateSecret");
    assert_eq!(created.name(), Some(name.as_str()));
    let version = created.version_id().expect("a version id").to_string();

    let value = sm.get_secret_value().secret_id(&name).send().await.expect("GetSecretValue");
    assert_eq!(value.secret_string(), Some("s3cr3t-value"));
    assert_eq!(value.version_id(), Some(version.as_str()));

    sm.delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("DeleteSecret");
    let err = sm.get_secret_value().secret_id(&name).send().await.expect_err("secret is deleted");
    let service_err = err.into_service_error();
    assert!(
        service_err.is_resource_not_found_exception(),
        "expected ResourceNotFoundException, got {service_err:?}"
    );
}
