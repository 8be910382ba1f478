//! Propagation retries (`aws_settle::propagate`) through the real aws-sdk-lambda and -iam clients,
//! settle-proxy (which refuses a consumer call naming a role still held) and moto.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_settle::propagate::{Propagation, Signature, Waited, attach, signatures};
use aws_settle::wait::Delays;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::{Held, unique};

/// The smallest zip archive (an empty one): moto keeps the code without running it.
const EMPTY_ZIP: &[u8] = &[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

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

/// Short delays, so the tests do not sleep for seconds between retries.
fn quick() -> Propagation {
    Propagation::new().with_delays(Delays::smithy(Duration::from_millis(10), Duration::from_millis(50)))
}

/// Releases every held write once the proxy has refused `refusals` more consumer calls.
fn release_after_refusals(held: &Held, refusals: u64) -> tokio::task::JoinHandle<usize> {
    let proxy = held.proxy.clone();
    let before = proxy.counters().propagation_refusals;
    tokio::spawn(async move {
        while proxy.counters().propagation_refusals < before + refusals {
            // Waits for a condition inside the proxy's server (another task), not for time:
            // nothing here asserts on how long it takes.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        proxy.release_all()
    })
}

#[tokio::test]
async fn an_attached_lambda_client_waits_for_a_new_role_and_says_how_long() {
    let held = Held::new();
    let iam = aws_sdk_iam::Client::new(&held.config);
    let role = unique("settle-prop-role");
    let arn = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    let plain = aws_sdk_lambda::Client::new(&held.config);
    let naive = create_function(&plain, &unique("settle-prop-fn"), &arn).send().await.unwrap_err();
    assert_eq!(naive.code(), Some("InvalidParameterValueException"), "the pitfall: {naive:?}");

    let propagation = quick();
    let lambda = attach(plain, &propagation);
    let (captured, _guard) = crate::capture_warnings_at(tracing::Level::INFO);
    let release = release_after_refusals(&held, 2);
    let name = unique("settle-prop-fn");
    create_function(&lambda, &name, &arn).send().await.unwrap();
    assert_eq!(release.await.unwrap(), 1, "the role was held until the attached call was refused twice");
    let waits = propagation.waits();
    assert_eq!(waits.len(), 1, "{waits:?}");
    let waited = &waits[0];
    assert_eq!(
        (waited.service, waited.operation.as_str(), waited.waits_for),
        ("lambda", "CreateFunction", "IAM role")
    );
    assert!(waited.succeeded && waited.retries >= 2 && waited.waited > Duration::ZERO, "{waited:?}");
    let line = waited.to_string();
    assert!(
        line.starts_with("waited ")
            && line.contains(" s for IAM role propagation before lambda:CreateFunction"),
        "{line}"
    );
    assert!(
        captured.text().contains("for IAM role propagation before lambda:CreateFunction"),
        "{}",
        captured.text()
    );
    let attempts = held.proxy.counters().per_operation.get("lambda:CreateFunction").copied();
    assert_eq!(
        attempts,
        Some(u64::from(waited.retries) + 2),
        "the naive call, then each attempt of the attached one"
    );
}

#[tokio::test]
async fn a_malformed_role_arn_is_not_retried() {
    let held = Held::new();
    let propagation = quick();
    let lambda = attach(aws_sdk_lambda::Client::new(&held.config), &propagation);
    let err = create_function(&lambda, &unique("settle-prop-fn"), "not-a-role-arn").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(held.proxy.counters().per_operation.get("lambda:CreateFunction"), Some(&1), "one attempt");
    assert!(propagation.waits().is_empty());
}

/// A user row is matched before the built-in one for the same error, and its budget bounds the
/// retries. Scripted answers and tokio's paused clock: the count of retries is exact.
#[tokio::test(start_paused = true)]
async fn a_user_row_is_matched_first_and_its_budget_bounds_the_retries() {
    let scripted = Scripted::default();
    let row = Signature {
        service: "lambda",
        operation: "CreateFunction",
        code: "InvalidParameterValueException",
        message: "cannot be assumed by Lambda",
        waits_for: "test role",
        budget: Duration::from_secs(3),
    };
    let propagation = Propagation::new()
        .with_delays(Delays::smithy(Duration::from_secs(1), Duration::from_secs(1)))
        .with_signature(row);
    assert_eq!(propagation.signatures()[0], row);
    let lambda = attach(scripted_lambda(&scripted), &propagation);
    scripted.push(1_000, (400, "InvalidParameterValueException", role_refusal()));
    let arn = "arn:aws:iam::123456789012:role/never";
    let err = create_function(&lambda, &unique("settle-prop-fn"), arn).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValueException"), "the service's own error: {err:?}");
    let waited = propagation.waits().last().cloned().unwrap();
    assert_eq!(waited.waits_for, "test role", "the user's row, not the built-in one: {waited:?}");
    // Delays of at most 1 s (the SDK sleeps a jittered share of each) within 3 s: several
    // retries, none started past the budget.
    assert!(!waited.succeeded && waited.retries >= 2, "{waited:?}");
    assert!(waited.waited <= row.budget, "the sleeps stay within the budget: {waited:?}");
    assert_eq!(scripted.requests(), waited.retries as usize + 1, "one request an attempt");
    scripted.script.lock().unwrap().clear();
}

#[test]
fn the_table_has_terraforms_retry_sites_and_bounded_budgets() {
    let services: std::collections::BTreeSet<&str> = signatures().iter().map(|s| s.service).collect();
    for service in [
        "lambda",
        "ec2",
        "ecs",
        "eks",
        "firehose",
        "codebuild",
        "glue",
        "scheduler",
        "sns",
        "sqs",
        "secretsmanager",
        "logs",
        "kms",
    ] {
        assert!(services.contains(service), "{service}");
    }
    assert!(
        signatures()
            .iter()
            .all(|s| !s.code.is_empty() && s.budget > Duration::ZERO && s.budget <= Duration::from_secs(900))
    );
}

#[path = "../../examples/propagation/stack.rs"]
mod stack;

#[tokio::test]
async fn the_example_stack_stays_in_progress_under_hold_until_released() {
    example_stack_under_hold(Held::new(), None).await;
}

/// The same with 20% of requests throttled (seeded): the SDK's retry absorbs the throttling, the
/// propagation wait only the role's refusals, and each IAM write reaches moto once.
#[tokio::test]
async fn the_example_stack_succeeds_with_20_percent_throttling() {
    let faults = settle_proxy::Faults { throttle_share: Some(0.2), ..settle_proxy::Config::held().faults };
    let config = settle_proxy::Config { faults, seed: Some(5), ..settle_proxy::Config::default() };
    let retry = aws_smithy_types::retry::RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(std::time::Duration::from_millis(5));
    example_stack_under_hold(Held::with_proxy_config(config), Some(retry)).await;
}

async fn example_stack_under_hold(mut held: Held, retry: Option<aws_smithy_types::retry::RetryConfig>) {
    use aws_settle::chain::{Memo, OperationStatus};

    let throttling = retry.is_some();
    if let Some(retry) = retry {
        held.config = held.config.to_builder().retry_config(retry).build();
    }
    let direct = aws_sdk_sqs::Client::new(&settle_emulator::moto_sdk_config());
    let url = direct.create_queue().queue_name(unique("settle-src")).send().await.unwrap().queue_url.unwrap();
    let arn_name = aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    let attributes =
        direct.get_queue_attributes().queue_url(url).attribute_names(arn_name.clone()).send().await.unwrap();
    let propagation = quick();
    let clients = stack::Clients {
        iam: aws_sdk_iam::Client::new(&held.config),
        lambda: attach(aws_sdk_lambda::Client::new(&held.config), &propagation),
    };
    let model = stack::Stack {
        role: unique("settle-stack-role"),
        function: unique("settle-stack-fn"),
        queue_arn: attributes.attributes.unwrap()[&arn_name].clone(),
        role_arn: None,
        mapping: None,
    };
    let mut memo = Memo::default();
    let first = stack::handler(&clients, model, &mut memo).await;
    assert_eq!((first.status, first.callback_delay_seconds), (OperationStatus::InProgress, 1), "{first:?}");
    assert_eq!(held.proxy.held(), 3, "the role, the attachment and the role again (propagating), all held");

    // Resumed from the memo's JSON: the IAM calls are not made again; CreateFunction waits for the role.
    let mut memo: Memo = serde_json::from_value(serde_json::to_value(&first.memo).unwrap()).unwrap();
    let release = release_after_refusals(&held, 1);
    let second = stack::handler(&clients, first.model.unwrap(), &mut memo).await;
    assert_eq!(second.status, OperationStatus::Success, "{second:?}");
    assert!(second.model.and_then(|m| m.mapping).is_some());
    assert_eq!(release.await.unwrap(), 3);
    let counters = held.proxy.counters();
    let reached = |op: &str| {
        let throttled = counters.throttled_per_operation.get(op).copied().unwrap_or(0);
        counters.per_operation.get(op).copied().unwrap_or(0) - throttled
    };
    assert_eq!((reached("iam:CreateRole"), reached("iam:AttachRolePolicy")), (1, 1), "{counters:?}");
    assert!(!throttling || counters.throttled > 0, "the seeded proxy throttled: {counters:?}");
    let waits = propagation.waits();
    assert!(waits.len() == 1 && waits[0].succeeded && waits[0].operation == "CreateFunction", "{waits:?}");
}

#[test]
fn the_readme_signature_table_is_the_code_s() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme.split("### Propagation signatures\n").nth(1).expect("README.md has the section");
    let section = section.split("\n#").next().unwrap_or(section);
    let rows: Vec<String> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| service ") && !l.starts_with("|---"))
        .map(str::to_string)
        .collect();
    let code: Vec<String> = signatures()
        .iter()
        .map(|s| {
            let message = if s.message.is_empty() { "(any)" } else { s.message };
            let (service, operation, code, waits_for) = (s.service, s.operation, s.code, s.waits_for);
            format!(
                "| {service} | {operation} | {code} | {message} | {waits_for} | {} s |",
                s.budget.as_secs()
            )
        })
        .collect();
    assert_eq!(rows, code, "README.md's table should be:\n{}", code.join("\n"));
}

/// A role that trusts the caller's account: STS refuses it (403 AccessDenied) while it propagates,
/// and `until_assumable` probes until it can be assumed, recording the wait.
#[tokio::test]
async fn until_assumable_probes_sts_until_a_role_that_trusts_the_caller_can_be_assumed() {
    const TRUSTS_CALLER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    let held = Held::new();
    let (iam, sts) = (aws_sdk_iam::Client::new(&held.config), aws_sdk_sts::Client::new(&held.config));
    let role = unique("settle-probe-role");
    let created = iam.create_role().role_name(&role).assume_role_policy_document(TRUSTS_CALLER).send().await;
    let arn = created.unwrap().role.unwrap().arn;

    // The pitfall: IAM has the role, STS does not yet.
    let naive = sts.assume_role().role_arn(&arn).role_session_name("naive").send().await.unwrap_err();
    assert_eq!(naive.code(), Some("AccessDenied"), "{naive:?}");
    assert_eq!(naive.raw_response().map(|r| r.status().as_u16()), Some(403));

    let propagation = quick();
    let release = release_after_refusals(&held, 2);
    let waited = propagation.until_assumable(&sts, &arn).await.expect("assumable once released");
    assert_eq!(release.await.unwrap(), 1, "the role was held until then");
    assert!(waited.succeeded && waited.retries >= 2, "{waited:?}");
    assert_eq!(propagation.waits(), vec![waited.clone()]);
    assert!(waited.to_string().contains("for IAM role propagation before sts:AssumeRole"), "{waited}");

    // Assumable now: one probe, no retry.
    let again = propagation.until_assumable(&sts, &arn).await.unwrap();
    assert_eq!((again.retries, again.succeeded), (0, true));
}

/// One scripted answer: HTTP status, `x-amzn-errortype` (empty: none), body.
type Answer = (u16, &'static str, &'static str);

/// Answers each request with the next scripted `(status, error type, body)`, then `200 {}`.
#[derive(Debug, Clone, Default)]
struct Scripted {
    script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Answer>>>,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Scripted {
    fn push(&self, times: usize, answer: Answer) {
        self.script.lock().unwrap().extend(std::iter::repeat_n(answer, times));
    }

    fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for Scripted {
    fn call(
        &self,
        _request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        self.requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (status, kind, body) = self.script.lock().unwrap().pop_front().unwrap_or((200, "", "{}"));
        let mut response =
            Response::new(StatusCode::try_from(status).unwrap(), aws_smithy_types::body::SdkBody::from(body));
        if !kind.is_empty() {
            response.headers_mut().insert("x-amzn-errortype", kind);
        }
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
    }
}

/// Lambda's refusal of a role it cannot assume yet, as a scripted body.
fn role_refusal() -> &'static str {
    r#"{"Type":"User","message":"The role defined for the function cannot be assumed by Lambda."}"#
}

/// A Lambda client whose every request `scripted` answers, with a retry partition of its own.
fn scripted_lambda(scripted: &Scripted) -> aws_sdk_lambda::Client {
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "test-secret", None, None, "test"))
        .retry_partition(aws_smithy_runtime::client::retries::RetryPartition::new(unique("settle-quota")))
        .http_client(aws_smithy_runtime_api::client::http::http_client_fn({
            let scripted = scripted.clone();
            move |_, _| aws_smithy_runtime_api::client::http::SharedHttpConnector::new(scripted.clone())
        }))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// The SDK's standard strategy takes 5 tokens of the client's retry partition (500) for each retry
/// and refuses one when the bucket is empty: past 100 retries it would refuse a propagation retry
/// the hook had decided. Propagation retries draw on a bucket of their own; the client's quota is
/// left to the SDK's own retries. Scripted answers and tokio's paused clock: no wall-clock window.
#[tokio::test(start_paused = true)]
async fn more_than_100_propagation_retries_on_one_client_neither_spend_nor_hit_the_sdk_quota() {
    let scripted = Scripted::default();
    let refusal = role_refusal();
    let propagation = quick();
    let lambda = attach(scripted_lambda(&scripted), &propagation);
    let arn = "arn:aws:iam::123456789012:role/new";

    // Twice 150 propagation retries on the one client: 1,500 tokens' worth of retries.
    for call in 1..=2 {
        scripted.push(150, (400, "InvalidParameterValueException", refusal));
        let before = scripted.requests();
        create_function(&lambda, &unique("settle-quota-fn"), arn).send().await.unwrap();
        assert_eq!(scripted.requests() - before, 151, "call {call}: 150 refusals, then the answer");
        let waited = propagation.waits().last().cloned().unwrap();
        assert!(waited.succeeded && waited.retries == 150, "call {call}: {waited:?}");
    }
    // The SDK's own retries still have the client's quota: a throttled call gets its 3 attempts.
    scripted.push(2, (429, "TooManyRequestsException", r#"{"message":"Rate exceeded"}"#));
    let before = scripted.requests();
    lambda.list_functions().send().await.unwrap();
    assert_eq!(scripted.requests() - before, 3, "2 throttled attempts and the answer");
    assert_eq!(propagation.waits().len(), 2, "the throttled call waited for nothing");

    // Past its budget the row's error ends the call with the service's error, no SDK retry on
    // top, and the record counts the retries made (one request each, after the first).
    let spent = Propagation::new()
        .with_delays(Delays::smithy(Duration::from_secs(1), Duration::from_secs(1)))
        .with_signature(Signature { budget: Duration::from_secs(3), ..signatures()[0] });
    let lambda = attach(lambda, &spent);
    scripted.push(1_000, (400, "InvalidParameterValueException", refusal));
    let before = scripted.requests();
    let err = create_function(&lambda, &unique("settle-quota-fn"), arn).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValueException"));
    let waited = spent.waits().last().cloned().unwrap();
    assert_eq!(scripted.requests() - before, waited.retries as usize + 1, "{waited:?}");
    assert!(
        !waited.succeeded && waited.retries >= 2 && waited.waited <= Duration::from_secs(3),
        "{waited:?}"
    );
    scripted.script.lock().unwrap().clear();
}

// The acceptance check for each of settle-proxy's propagation rules (STS AssumeRole: above, through
// `until_assumable`): the naive consumer call fails with the service's error, the attached client
// succeeds once the held IAM write is released, and the wait says how many retries it took.

/// A new role (held by the proxy: propagating) and its ARN.
async fn propagating_role(held: &Held) -> String {
    let iam = aws_sdk_iam::Client::new(&held.config);
    let created = iam.create_role().role_name(unique("settle-prop-role")).assume_role_policy_document(TRUST);
    created.send().await.unwrap().role.unwrap().arn
}

/// A resource policy with `arn` as its principal.
fn naming(arn: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"*","Resource":"*"}}]}}"#
    )
}

/// Requests of `operation` (`kms:CreateKey`) the proxy has seen.
fn requests(held: &Held, operation: &str) -> u64 {
    held.proxy.counters().per_operation.get(operation).copied().unwrap_or(0)
}

/// The attached call's one wait: it succeeded after ≥ 1 retry, each one request to the proxy after
/// the first (`before`: the requests of `operation` before the attached call).
fn the_wait(held: &Held, propagation: &Propagation, operation: &str, before: u64, waits_for: &str) -> Waited {
    let waits = propagation.waits();
    assert_eq!(waits.len(), 1, "{operation}: {waits:?}");
    let waited = waits[0].clone();
    let (service, op) = operation.split_once(':').unwrap();
    assert_eq!((waited.service, waited.operation.as_str(), waited.waits_for), (service, op, waits_for));
    assert!(waited.succeeded && waited.retries >= 1 && waited.waited > Duration::ZERO, "{waited:?}");
    assert!(
        waited.to_string().contains(&format!("s for {waits_for} propagation before {operation} (")),
        "{waited}"
    );
    assert_eq!(requests(held, operation) - before, u64::from(waited.retries) + 1, "{operation}: {waited:?}");
    waited
}

#[tokio::test]
async fn an_attached_lambda_client_updates_a_function_once_its_new_role_policy_propagated() {
    let held = Held::new();
    let arn = propagating_role(&held).await;
    held.proxy.release_all();
    let plain = aws_sdk_lambda::Client::new(&held.config);
    let name = unique("settle-prop-fn");
    create_function(&plain, &name, &arn).send().await.unwrap();
    held.proxy.release_all();
    let role = arn.rsplit('/').next().unwrap();
    let policy = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    let iam = aws_sdk_iam::Client::new(&held.config);
    iam.attach_role_policy().role_name(role).policy_arn(policy).send().await.unwrap();

    let naive = plain.update_function_configuration().function_name(&name).role(&arn).send().await;
    assert_eq!(naive.unwrap_err().code(), Some("InvalidParameterValueException"));
    let propagation = quick();
    let lambda = attach(plain, &propagation);
    let (release, before) =
        (release_after_refusals(&held, 1), requests(&held, "lambda:UpdateFunctionConfiguration"));
    lambda.update_function_configuration().function_name(&name).role(&arn).send().await.unwrap();
    assert_eq!(release.await.unwrap(), 2, "the attachment and the role");
    the_wait(&held, &propagation, "lambda:UpdateFunctionConfiguration", before, "IAM role");
}

#[tokio::test]
async fn an_attached_ec2_client_runs_an_instance_once_its_new_profile_propagated_by_name_or_arn() {
    use aws_sdk_ec2::types::IamInstanceProfileSpecification as Profile;
    let held = Held::new();
    let iam = aws_sdk_iam::Client::new(&held.config);
    let plain = aws_sdk_ec2::Client::new(&held.config);
    let run = |ec2: &aws_sdk_ec2::Client, profile: Profile| {
        ec2.run_instances().image_id("ami-12c6146b").min_count(1).max_count(1).iam_instance_profile(profile)
    };
    for by_arn in [false, true] {
        let name = unique("settle-prop-profile");
        let created = iam.create_instance_profile().instance_profile_name(&name).send().await.unwrap();
        let arn = created.instance_profile.unwrap().arn;
        let profile = if by_arn {
            Profile::builder().arn(&arn).build()
        } else {
            Profile::builder().name(&name).build()
        };
        let naive = run(&plain, profile.clone()).send().await.unwrap_err();
        let (field, kind, sent) = if by_arn { ("arn", "ARN", &arn) } else { ("name", "name", &name) };
        assert_eq!(naive.code(), Some("InvalidParameterValue"), "{naive:?}");
        let expected = format!(
            "Value ({sent}) for parameter iamInstanceProfile.{field} is invalid. Invalid IAM Instance Profile {kind}"
        );
        assert_eq!(naive.message(), Some(expected.as_str()));

        let propagation = quick();
        let ec2 = attach(plain.clone(), &propagation);
        let (release, before) = (release_after_refusals(&held, 1), requests(&held, "ec2:RunInstances"));
        run(&ec2, profile).send().await.unwrap();
        assert!(release.await.unwrap() >= 1, "the profile was held until the attached call was refused");
        the_wait(&held, &propagation, "ec2:RunInstances", before, "IAM instance profile");
    }
}

#[tokio::test]
async fn an_attached_kms_client_creates_a_key_and_puts_its_policy_once_the_principal_propagated() {
    let held = Held::new();
    let plain = aws_sdk_kms::Client::new(&held.config);
    let key = plain.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    held.proxy.release_all();
    for operation in ["kms:CreateKey", "kms:PutKeyPolicy"] {
        let policy = naming(&propagating_role(&held).await);
        let call = |kms: &aws_sdk_kms::Client| {
            let (kms, policy, key) = (kms.clone(), policy.clone(), key.clone());
            async move {
                if operation == "kms:CreateKey" {
                    kms.create_key()
                        .policy(policy)
                        .send()
                        .await
                        .map(drop)
                        .map_err(|e| e.code().map(str::to_string))
                } else {
                    let put = kms.put_key_policy().key_id(key).policy_name("default").policy(policy);
                    put.send().await.map(drop).map_err(|e| e.code().map(str::to_string))
                }
            }
        };
        let naive = call(&plain).await.unwrap_err();
        assert_eq!(naive.as_deref(), Some("MalformedPolicyDocumentException"), "{operation}");
        let propagation = quick();
        let (release, before) = (release_after_refusals(&held, 1), requests(&held, operation));
        call(&attach(plain.clone(), &propagation)).await.unwrap();
        assert!(release.await.unwrap() >= 1, "the role was held until the attached call was refused");
        the_wait(&held, &propagation, operation, before, "policy principal");
    }
}

#[tokio::test]
async fn attached_sns_and_sqs_clients_set_a_policy_once_its_principal_propagated() {
    use aws_sdk_sqs::types::QueueAttributeName::Policy;
    let held = Held::new();
    let (sns, sqs) = (aws_sdk_sns::Client::new(&held.config), aws_sdk_sqs::Client::new(&held.config));
    let topic = sns.create_topic().name(unique("settle-prop-t")).send().await.unwrap().topic_arn.unwrap();
    let queue =
        sqs.create_queue().queue_name(unique("settle-prop-q")).send().await.unwrap().queue_url.unwrap();
    held.proxy.release_all();
    for (operation, code) in [
        ("sns:CreateTopic", "InvalidParameter"),
        ("sns:SetTopicAttributes", "InvalidParameter"),
        ("sqs:CreateQueue", "InvalidAttributeValue"),
        ("sqs:SetQueueAttributes", "InvalidAttributeValue"),
    ] {
        let policy = naming(&propagating_role(&held).await);
        let propagation = quick();
        let (sns_attached, sqs_attached) =
            (attach(sns.clone(), &propagation), attach(sqs.clone(), &propagation));
        let call = |attached: bool| {
            let (sns, sqs) = if attached { (&sns_attached, &sqs_attached) } else { (&sns, &sqs) };
            let (sns, sqs, policy, topic, queue) =
                (sns.clone(), sqs.clone(), policy.clone(), topic.clone(), queue.clone());
            async move {
                match operation {
                    "sns:CreateTopic" => {
                        let create =
                            sns.create_topic().name(unique("settle-prop-t")).attributes("Policy", policy);
                        create.send().await.map(drop).map_err(|e| e.code().map(str::to_string))
                    }
                    "sns:SetTopicAttributes" => {
                        let set = sns
                            .set_topic_attributes()
                            .topic_arn(topic)
                            .attribute_name("Policy")
                            .attribute_value(policy);
                        set.send().await.map(drop).map_err(|e| e.code().map(str::to_string))
                    }
                    "sqs:CreateQueue" => {
                        let create =
                            sqs.create_queue().queue_name(unique("settle-prop-q")).attributes(Policy, policy);
                        create.send().await.map(drop).map_err(|e| e.code().map(str::to_string))
                    }
                    _ => {
                        let set = sqs.set_queue_attributes().queue_url(queue).attributes(Policy, policy);
                        set.send().await.map(drop).map_err(|e| e.code().map(str::to_string))
                    }
                }
            }
        };
        let naive = call(false).await.unwrap_err();
        assert_eq!(naive.as_deref(), Some(code), "{operation}");
        let (release, before) = (release_after_refusals(&held, 1), requests(&held, operation));
        call(true).await.unwrap();
        assert!(release.await.unwrap() >= 1, "the role was held until the attached call was refused");
        the_wait(&held, &propagation, operation, before, "policy principal");
    }
}
