//! Lambda, IAM instance profiles and cross-service propagation through the real aws-sdk-lambda,
//! -iam, -ec2, -kms, -sqs and -sns clients against moto: writes held invisible
//! (`Config::held()`) and released explicitly, never a wall-clock window. Nothing is invoked
//! (moto needs Docker for Invoke).

mod services_support;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, LastUpdateStatus, Runtime, State};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::held;
use settle_emulator::unique_name;
use settle_proxy::ProxyHandle;

/// The smallest zip archive (an empty one): moto keeps the code without running it.
const EMPTY_ZIP: &[u8] = &[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A new role (held by the proxy until released), its name and ARN.
async fn role(iam: &aws_sdk_iam::Client) -> (String, String) {
    let name = unique_name("settle-fn-role");
    let created = iam.create_role().role_name(&name).assume_role_policy_document(TRUST).send().await.unwrap();
    (name, created.role().map(|r| r.arn().to_string()).unwrap())
}

fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role: &str,
) -> aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder {
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(role)
        .code(FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP)).build())
}

/// A held proxy, Lambda and IAM clients, and a function made visible already.
async fn active_function() -> (ProxyHandle, aws_sdk_lambda::Client, String) {
    let (proxy, config) = held();
    let (iam, lambda) = (aws_sdk_iam::Client::new(&config), aws_sdk_lambda::Client::new(&config));
    let (_, arn) = role(&iam).await;
    proxy.release_all();
    let name = unique_name("settle-fn");
    create_function(&lambda, &name, &arn).send().await.unwrap();
    proxy.release_all();
    (proxy, lambda, name)
}

async fn configuration(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput {
    lambda.get_function_configuration().function_name(name).send().await.unwrap()
}

#[tokio::test]
async fn a_new_function_is_pending_until_released() {
    let (proxy, config) = held();
    let (iam, lambda) = (aws_sdk_iam::Client::new(&config), aws_sdk_lambda::Client::new(&config));
    let (_, arn) = role(&iam).await;
    proxy.release_all();
    let name = unique_name("settle-fn");
    let created = create_function(&lambda, &name, &arn).send().await.unwrap();
    assert_eq!(created.state(), Some(&State::Pending), "the create's own answer");
    assert_eq!(configuration(&lambda, &name).await.state(), Some(&State::Pending));
    let got = lambda.get_function().function_name(&name).send().await.unwrap();
    assert_eq!(got.configuration().and_then(|c| c.state()), Some(&State::Pending), "GetFunction too");
    assert_eq!(proxy.release_resource(&format!("lambda-function:{name}")), 1);
    assert_eq!(configuration(&lambda, &name).await.state(), Some(&State::Active));
    assert!(proxy.counters().status_rewrites >= 3);
}

#[tokio::test]
async fn an_update_is_in_progress_until_released_and_a_second_update_meanwhile_conflicts() {
    let (proxy, lambda, name) = active_function().await;
    let updated =
        lambda.update_function_configuration().function_name(&name).description("v2").send().await.unwrap();
    assert_eq!(updated.last_update_status(), Some(&LastUpdateStatus::InProgress));
    assert_eq!(configuration(&lambda, &name).await.last_update_status(), Some(&LastUpdateStatus::InProgress));

    let code = lambda.update_function_code().function_name(&name).zip_file(Blob::new(EMPTY_ZIP));
    let err = code.clone().send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_resource_conflict_exception()), "{err:?}");
    let message = err.message().unwrap_or_default();
    assert!(
        message.starts_with("The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:")
            && message.ends_with(&name),
        "{message}"
    );
    assert_eq!(proxy.counters().blocked, 1);

    assert_eq!(proxy.release_operation("UpdateFunctionConfiguration"), 1);
    let done = configuration(&lambda, &name).await;
    assert_eq!(done.last_update_status(), Some(&LastUpdateStatus::Successful));
    assert_eq!(done.description(), Some("v2"));
    code.send().await.unwrap();
    assert_eq!(configuration(&lambda, &name).await.last_update_status(), Some(&LastUpdateStatus::InProgress));
}

#[tokio::test]
async fn function_tags_read_old_until_released() {
    let (proxy, lambda, name) = active_function().await;
    let arn = configuration(&lambda, &name).await.function_arn().unwrap().to_string();
    lambda.tag_resource().resource(&arn).tags("team", "blue").send().await.unwrap();
    let tags = |lambda: aws_sdk_lambda::Client, arn: String| async move {
        lambda.list_tags().resource(arn).send().await.unwrap().tags.unwrap_or_default()
    };
    assert!(tags(lambda.clone(), arn.clone()).await.is_empty(), "no tags while held");
    assert_eq!(proxy.release_operation("TagResource"), 1);
    assert_eq!(tags(lambda.clone(), arn.clone()).await.get("team").map(String::as_str), Some("blue"));
}

#[tokio::test]
async fn instance_profiles_and_their_roles_read_old_until_released() {
    let (proxy, config) = held();
    let iam = aws_sdk_iam::Client::new(&config);
    let profile = unique_name("settle-profile");
    iam.create_instance_profile().instance_profile_name(&profile).send().await.unwrap();
    let err = iam.get_instance_profile().instance_profile_name(&profile).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchEntity"), "{err:?}");
    assert_eq!(proxy.release_resource(&format!("iam-instance-profile:{profile}")), 1);
    let (role_name, _) = role(&iam).await;
    proxy.release_all();

    iam.add_role_to_instance_profile()
        .instance_profile_name(&profile)
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    let roles = |iam: aws_sdk_iam::Client, profile: String| async move {
        let got = iam.get_instance_profile().instance_profile_name(profile).send().await.unwrap();
        got.instance_profile.map(|p| p.roles.into_iter().map(|r| r.role_name).collect::<Vec<_>>()).unwrap()
    };
    assert!(roles(iam.clone(), profile.clone()).await.is_empty(), "no role while held");
    assert_eq!(proxy.release_operation("AddRoleToInstanceProfile"), 1);
    assert_eq!(roles(iam.clone(), profile.clone()).await, vec![role_name.clone()]);

    iam.remove_role_from_instance_profile()
        .instance_profile_name(&profile)
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    assert_eq!(roles(iam.clone(), profile.clone()).await, [role_name], "still listed while held");
    iam.delete_instance_profile().instance_profile_name(&profile).send().await.unwrap();
    assert_eq!(roles(iam.clone(), profile.clone()).await.len(), 1, "still there while held");
    proxy.release_all();
    let err = iam.get_instance_profile().instance_profile_name(&profile).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchEntity"));
}

#[tokio::test]
async fn lambda_cannot_assume_a_propagating_role_until_released() {
    let (proxy, config) = held();
    let (iam, lambda) = (aws_sdk_iam::Client::new(&config), aws_sdk_lambda::Client::new(&config));
    let (role_name, arn) = role(&iam).await;
    let name = unique_name("settle-fn");
    let err = create_function(&lambda, &name, &arn).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_invalid_parameter_value_exception()), "{err:?}");
    assert_eq!(err.message(), Some("The role defined for the function cannot be assumed by Lambda."));
    assert_eq!(proxy.counters().propagation_refusals, 1);
    assert_eq!(proxy.release_resource(&format!("iam-role:{role_name}")), 1);
    create_function(&lambda, &name, &arn).send().await.unwrap();
    proxy.release_all();

    // A policy attached later propagates again: UpdateFunctionConfiguration naming the role waits.
    let policy = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    iam.attach_role_policy().role_name(&role_name).policy_arn(policy).send().await.unwrap();
    let update = lambda.update_function_configuration().function_name(&name).role(&arn);
    let err = update.clone().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValueException"), "{err:?}");
    assert_eq!(proxy.release_operation("AttachRolePolicy"), 2, "the attachment and the role");
    update.send().await.unwrap();
}

#[tokio::test]
async fn ec2_kms_sqs_and_sns_refuse_a_propagating_principal_in_their_own_words() {
    let (proxy, config) = held();
    let iam = aws_sdk_iam::Client::new(&config);
    let profile = unique_name("settle-profile");
    iam.create_instance_profile().instance_profile_name(&profile).send().await.unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let run = ec2.run_instances().image_id("ami-12c6146b").min_count(1).max_count(1).iam_instance_profile(
        aws_sdk_ec2::types::IamInstanceProfileSpecification::builder().name(&profile).build(),
    );
    let err = run.send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValue"), "{err:?}");
    assert_eq!(
        err.message(),
        Some(format!("Value ({profile}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name").as_str())
    );

    let (_, arn) = role(&iam).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"*","Resource":"*"}}]}}"#
    );
    let kms = aws_sdk_kms::Client::new(&config);
    let err = kms.create_key().policy(&policy).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_malformed_policy_document_exception()), "{err:?}");
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = unique_name("settle-q");
    let create = sqs
        .create_queue()
        .queue_name(&queue)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, &policy);
    let err = create.clone().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidAttributeValue"), "{err:?}");
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns.create_topic().name(unique_name("settle-t")).send().await.unwrap().topic_arn.unwrap();
    let set = sns.set_topic_attributes().topic_arn(&topic).attribute_name("Policy").attribute_value(&policy);
    let err = set.clone().send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_invalid_parameter_exception()), "{err:?}");
    assert_eq!(proxy.counters().propagation_refusals, 4);

    proxy.release_all();
    kms.create_key().policy(&policy).send().await.unwrap();
    create.send().await.unwrap();
    set.send().await.unwrap();
}
