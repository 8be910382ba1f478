//! moto: closure waiters over the typed SSM client, with error-code matchers.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::types::ParameterType;
use aws_settle::wait::{Delays, VirtualClock, WaitError, Waiter};

fn fast() -> Delays {
    Delays::smithy(Duration::from_millis(50), Duration::from_millis(400)).max_wait(Duration::from_secs(20))
}

#[tokio::test]
async fn a_closure_waiter_retries_on_parameter_not_found_until_the_version_is_there() {
    let ssm = Client::new(&settle_testbed::moto_sdk_config());
    let name = format!("/settle/{}", settle_testbed::unique_name("wait"));
    // The write happens between the first poll and the second (no timed writer: the first poll
    // sees ParameterNotFound however loaded the machine is).
    let polls = AtomicU32::new(0);
    let settled = Waiter::new(fast())
        .named("ParameterVersion2")
        .success_when(|o: &GetParameterOutput| o.parameter().is_some_and(|p| p.version() >= 2))
        .retry_on_error_code("ParameterNotFound")
        .clock(VirtualClock::new())
        .wait(|| {
            let poll = polls.fetch_add(1, Ordering::SeqCst) + 1;
            let (ssm, name) = (&ssm, &name);
            async move {
                if poll == 2 {
                    ssm.put_parameter()
                        .name(name)
                        .value("v1")
                        .r#type(ParameterType::String)
                        .send()
                        .await
                        .unwrap();
                    ssm.put_parameter().name(name).value("v2").overwrite(true).send().await.unwrap();
                }
                ssm.get_parameter().name(name).send().await
            }
        })
        .await
        .expect("version 2 becomes readable");
    assert_eq!(settled.attempts, 2, "retried once on ParameterNotFound: {settled:?}");
    assert_eq!(settled.output.unwrap().parameter().and_then(|p| p.value()), Some("v2"));

    // A delete settles at ParameterNotFound.
    ssm.delete_parameter().name(&name).send().await.unwrap();
    let settled = Waiter::new(fast())
        .success_on_error_code("ParameterNotFound")
        .wait(|| ssm.get_parameter().name(&name).send())
        .await
        .unwrap();
    assert!(settled.output.is_none());
}

#[tokio::test]
async fn an_sdk_error_no_acceptor_expects_fails_at_once_with_its_code_and_status() {
    let ssm = Client::new(&settle_testbed::moto_sdk_config());
    let missing = format!("/settle/{}", settle_testbed::unique_name("never"));
    // Only a success acceptor: ParameterNotFound is unexpected, so the wait fails on the first call.
    let err = Waiter::new(fast())
        .success_when(|_: &GetParameterOutput| true)
        .wait(|| ssm.get_parameter().name(&missing).send())
        .await
        .unwrap_err();
    let WaitError::UnexpectedError { code, status, attempts, .. } = &err else { panic!("{err}") };
    assert_eq!((code.as_deref(), *status, *attempts), (Some("ParameterNotFound"), Some(400), 1), "{err}");

    // Retrying on it until the max wait: a timeout carrying the last error.
    let err = Waiter::new(Delays::fixed(Duration::from_millis(20), 4))
        .success_when(|_: &GetParameterOutput| true)
        .retry_on_error_code("ParameterNotFound")
        .wait(|| ssm.get_parameter().name(&missing).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.attempts() == 4, "{err}");
    assert!(err.last().unwrap().contains("ParameterNotFound"));
}
