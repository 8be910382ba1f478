//! The learned schedule in the enforcer: read-backs of held writes teach it censored
//! observations; fixed pacing leaves it alone.

use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{
    Enforcer, LearnedSchedule, Observation, Pacing, ScheduleKey, SettleExt, SettleOptions, attach,
};
use std::time::Duration;

use crate::{Held, unique};

fn ssm_key(held: &Held) -> ScheduleKey {
    let region = held.config.region().map(|r| r.to_string());
    assert!(region.is_some(), "the test config has a region");
    ScheduleKey::new("ssm", "PutParameter", region)
}

#[tokio::test]
async fn a_held_write_is_read_until_released_and_teaches_a_censored_observation() {
    let learned = LearnedSchedule::new().with_min_observations(5);
    let held = Held::with_enforcer(Enforcer::builder().with_learned_schedule(learned.clone()).build());
    let key = ssm_key(&held);
    // Learned: visible within 20 ms, so the plan reads early.
    for _ in 0..10 {
        learned
            .observe(&key, Observation { invisible_at: None, visible_by: Some(Duration::from_millis(20)) });
    }
    let ssm = attach(aws_sdk_ssm::Client::new(&held.config), &held.enforcer);
    let release = held.release_after_blocked_reads(2);
    let name = format!("/settle/{}", unique("learned"));
    ssm.put_parameter().name(&name).value("v").r#type(ParameterType::String).send().settled().await.unwrap();
    assert_eq!(release.await.unwrap(), 1, "the write was held until released");

    let observations = learned.summary(&key).unwrap().observations;
    assert_eq!(
        observations.len(),
        11,
        "one observation per settled write, keyed by service, operation and region"
    );
    let last = observations.last().unwrap();
    let (not_yet, visible) = (last.invisible_at.expect("reads saw it held"), last.visible_by.unwrap());
    assert!(not_yet < visible, "{last:?}");
    assert_eq!(held.enforcer.stats().checks_passed, 1);
}

#[tokio::test]
async fn fixed_pacing_leaves_the_learned_schedule_alone() {
    let held = Held::new();
    let key = ssm_key(&held);
    let ssm = attach(aws_sdk_ssm::Client::new(&held.config), &held.enforcer);
    let release = held.release_after_a_blocked_read();
    let fixed = SettleOptions::new().with_pacing(Pacing::Fixed);
    let name = format!("/settle/{}", unique("fixed"));
    let put = ssm.put_parameter().name(&name).value("v").r#type(ParameterType::String);
    put.send().settled_with(fixed).await.unwrap();
    release.await.unwrap();
    assert_eq!(held.enforcer.learned_schedule().observations(&key), 0);

    // The default pacing learns from the same kind of write.
    let release = held.release_after_a_blocked_read();
    let name = format!("/settle/{}", unique("learned"));
    ssm.put_parameter().name(&name).value("v").r#type(ParameterType::String).send().settled().await.unwrap();
    release.await.unwrap();
    assert_eq!(held.enforcer.learned_schedule().observations(&key), 1);
}
