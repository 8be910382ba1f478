use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;

#[tokio::test]
async fn put_then_get_returns_the_value_and_delete_makes_it_not_found() {
    let ssm = Client::new(&settle_testbed::moto_sdk_config());
    let name = format!("/settle/{}", settle_testbed::unique_name("roundtrip"));

    let put = ssm
        .put_parameter()
        .name(&name)
        .value("first")
        .r#type(ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    assert_eq!(put.version(), 1);

    let got = ssm.get_parameter().name(&name).send().await.expect("GetParameter");
    let parameter = got.parameter().expect("a parameter");
    assert_eq!(parameter.value(), Some("first"));
    assert_eq!(parameter.version(), 1);

    let overwrite =
        ssm.put_parameter().name(&name).value("second").overwrite(true).send().await.expect("overwrite");
    assert_eq!(overwrite.version(), 2);
    let got = ssm.get_parameter().name(&name).send().await.expect("GetParameter after overwrite");
    assert_eq!(got.parameter().and_then(|p| p.value()), Some("second"));

    ssm.delete_parameter().name(&name).send().await.expect("DeleteParameter");
    let err = ssm.get_parameter().name(&name).send().await.expect_err("parameter is deleted");
    let service_err = err.into_service_error();
    assert!(service_err.is_parameter_not_found(), "expected ParameterNotFound, got {service_err:?}");
}
