//! A user-defined rule, written the way `aws_settle::post::Rule`'s docs show, behaves as the
//! built-in ones: it settles under held visibility, times out with the typed error, and batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_s3::operation::copy_object::{CopyObjectInput, CopyObjectOutput};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_settle::post::{Check, Enforcer, Rule, SettleExt, SettleOptions, attach};
use aws_settle::wait::{WaitError, Waiter};

use crate::{Held, s3, unique};

/// The docs' CopyObject rule, counting how often it is used (so the test knows it replaced the
/// built-in one).
fn copy_object(used: Arc<AtomicUsize>) -> Rule<aws_sdk_s3::Client> {
    Rule::new(
        "CopyObject",
        "HeadObject: the copy's ETag",
        move |s3: &aws_sdk_s3::Client, input: &CopyObjectInput, output: &CopyObjectOutput| {
            used.fetch_add(1, Ordering::SeqCst);
            let (Some(bucket), Some(key)) = (input.bucket(), input.key()) else { return vec![] };
            let Some(etag) = output.copy_object_result().and_then(|r| r.e_tag()) else { return vec![] };
            let (s3, b, k, etag) = (s3.clone(), bucket.to_string(), key.to_string(), etag.to_string());
            let waiter = Waiter::default()
                .success_when(move |o: &HeadObjectOutput| o.e_tag() == Some(etag.as_str()))
                .retry_on_error_code("NotFound");
            vec![Check::new(
                "CopyObject",
                format!("s3://{b}/{k}"),
                "HeadObject answers the copy's ETag",
                waiter,
                move || s3.head_object().bucket(&b).key(&k).send(),
            )]
        },
    )
}

fn env(used: &Arc<AtomicUsize>, options: SettleOptions) -> Held {
    Held::with_enforcer(
        Enforcer::builder().with_rule(copy_object(used.clone())).with_options(options).build(),
    )
}

#[tokio::test]
async fn a_user_rule_for_copy_object_settles_under_held_visibility() {
    let used = Arc::new(AtomicUsize::new(0));
    let env = env(&used, SettleOptions::new());
    let bucket = crate::bucket_with_object("settle-rule").await;
    let (plain, attached) = (s3(&env.config), attach(s3(&env.config), &env.enforcer));

    let naive = plain.copy_object().copy_source(format!("{bucket}/src")).bucket(&bucket).key("naive");
    naive.send().await.unwrap();
    assert!(plain.head_object().bucket(&bucket).key("naive").send().await.is_err(), "held: not there yet");

    let release = env.release_after_blocked_reads(2);
    let copy = attached.copy_object().copy_source(format!("{bucket}/src")).bucket(&bucket).key("copy");
    copy.send().settled().await.unwrap();
    assert!(release.is_finished(), "the settled copy returned only after the release");
    assert!(plain.head_object().bucket(&bucket).key("copy").send().await.is_ok());
    assert_eq!(used.load(Ordering::SeqCst), 1, "the user rule replaced the built-in one");
    assert_eq!(env.enforcer.stats().checks_passed, 1);
}

#[tokio::test]
async fn a_user_rule_times_out_with_the_typed_error_and_batches_in_a_scope() {
    let used = Arc::new(AtomicUsize::new(0));
    let env = env(&used, SettleOptions::new().with_max_wait(Duration::from_secs(1)));
    let bucket = crate::bucket_with_object("settle-rule").await;
    let attached = attach(s3(&env.config), &env.enforcer);

    let copy = attached.copy_object().copy_source(format!("{bucket}/src")).bucket(&bucket).key("never");
    let err = copy.send().settled().await.unwrap_err();
    let failure = &err.read_back().expect("not confirmed").failed[0];
    assert_eq!(
        (failure.operation, failure.resource.as_str()),
        ("CopyObject", format!("s3://{bucket}/never").as_str())
    );
    assert!(matches!(failure.source, WaitError::Timeout { .. }), "{:?}", failure.source);
    assert!(err.to_string().contains("HeadObject answers the copy's ETag"), "{err}");

    // Batch: three copies, released only once all three read-backs were blocked.
    env.proxy.release_all();
    let release = env.release_after_blocked_reads(3);
    let options = SettleOptions::new().with_max_wait(Duration::from_secs(30));
    env.enforcer
        .scope_with(options, async {
            for key in ["a", "b", "c"] {
                attached
                    .copy_object()
                    .copy_source(format!("{bucket}/src"))
                    .bucket(&bucket)
                    .key(key)
                    .send()
                    .await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .await
        .unwrap();
    assert_eq!(release.await.unwrap(), 3);
    assert_eq!(used.load(Ordering::SeqCst), 4);
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_passed, stats.checks_failed), (3, 1), "{stats:?}");
}

/// Any SDK client gets user rules through [`Enforcer::recorder`]: its reads pass, a write with a
/// user rule settles, and a write without one fails closed. (SSM stands in for a crate with no
/// built-in table: the recorder uses none of SSM's.)
#[tokio::test]
async fn a_client_of_any_sdk_crate_records_through_a_recorder() {
    use aws_sdk_ssm::operation::create_document::{CreateDocumentInput, CreateDocumentOutput};
    use aws_sdk_ssm::operation::describe_document::DescribeDocumentOutput;

    let describe = Rule::new(
        "CreateDocument",
        "DescribeDocument: found",
        |ssm: &aws_sdk_ssm::Client, input: &CreateDocumentInput, _: &CreateDocumentOutput| {
            let Some(name) = input.name() else { return vec![] };
            let (ssm, n) = (ssm.clone(), name.to_string());
            let waiter = Waiter::default()
                .success_when(|_: &DescribeDocumentOutput| true)
                .retry_on_error_code("InvalidDocument");
            vec![Check::new("CreateDocument", name, "DescribeDocument finds it", waiter, move || {
                ssm.describe_document().name(&n).send()
            })]
        },
    );
    let enforcer = Enforcer::builder().with_rule(describe).build();
    let config = settle_emulator::moto_sdk_config();
    let recorder = enforcer.recorder("ssm", &["GetParameter"], aws_sdk_ssm::Client::new(&config));
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&config).interceptor(recorder).build(),
    );

    let name = unique("settle-doc");
    let content = r#"{"schemaVersion":"2.2","description":"d","mainSteps":[{"action":"aws:runShellScript","name":"s","inputs":{"runCommand":["true"]}}]}"#;
    let create = ssm.create_document().name(&name).content(content);
    create.document_type(aws_sdk_ssm::types::DocumentType::Command).send().settled().await.unwrap();

    let parameter = format!("/settle/recorder/{}", unique("p"));
    let direct = aws_sdk_ssm::Client::new(&config);
    direct
        .put_parameter()
        .name(&parameter)
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    ssm.get_parameter().name(&parameter).send().settled().await.unwrap();

    let err = ssm.delete_document().name(&name).send().settled().await.unwrap_err();
    let unchecked = &err.read_back().expect("a write without a rule").unchecked;
    assert_eq!((unchecked[0].service, unchecked[0].operation.as_str()), ("ssm", "DeleteDocument"));
    let stats = enforcer.stats();
    assert_eq!((stats.checks_passed, stats.unchecked.len()), (1, 1), "{stats:?}");
}
