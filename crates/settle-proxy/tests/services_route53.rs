//! Route 53 through the real aws-sdk-route53 client (restXml) against moto: a change is PENDING
//! in GetChange until the proxy releases it, then INSYNC; held, never a wall-clock window.

mod services_support;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::{held, throttled, throttled_attempts};
use settle_emulator::unique_name;

fn upsert(name: &str, value: &str) -> ChangeBatch {
    let record = ResourceRecord::builder().value(value).build().unwrap();
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(record)
        .build()
        .unwrap();
    let change = Change::builder().action(ChangeAction::Upsert).resource_record_set(set).build().unwrap();
    ChangeBatch::builder().changes(change).build().unwrap()
}

async fn status(route53: &aws_sdk_route53::Client, change: &str) -> ChangeStatus {
    route53.get_change().id(change).send().await.unwrap().change_info.unwrap().status
}

#[tokio::test]
async fn changes_are_pending_until_released_each_with_its_own_id() {
    let (proxy, config) = held();
    let route53 = aws_sdk_route53::Client::new(&config);
    let domain = format!("{}.example.com", unique_name("settle"));
    let zone =
        route53.create_hosted_zone().name(&domain).caller_reference(unique_name("ref")).send().await.unwrap();
    let (zone_id, zone_change) = (zone.hosted_zone.unwrap().id, zone.change_info.unwrap());
    assert_eq!(zone_change.status, ChangeStatus::Pending, "the write's own answer says PENDING");
    assert_eq!(status(&route53, &zone_change.id).await, ChangeStatus::Pending);

    let www = format!("www.{domain}");
    let records = route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(upsert(&www, "192.0.2.1"))
        .send()
        .await
        .unwrap()
        .change_info
        .unwrap();
    assert_ne!(records.id, zone_change.id, "the proxy names each change (moto answers one id)");
    // As on AWS, the record set is listed at once: only its propagation to DNS lags.
    let listed = route53.list_resource_record_sets().hosted_zone_id(&zone_id).send().await.unwrap();
    assert!(listed.resource_record_sets().iter().any(|s| s.name() == format!("{www}.")), "{listed:?}");

    assert_eq!(proxy.release_operation("CreateHostedZone"), 1);
    assert_eq!(status(&route53, &zone_change.id).await, ChangeStatus::Insync);
    assert_eq!(status(&route53, &records.id).await, ChangeStatus::Pending, "still held");
    assert_eq!(proxy.release_operation("ChangeResourceRecordSets"), 1);
    assert_eq!(status(&route53, &records.id).await, ChangeStatus::Insync);
    assert!(proxy.counters().status_rewrites >= 3, "{:?}", proxy.counters());
}

#[tokio::test]
async fn a_throttled_call_gets_route53s_throttling_code_and_the_sdk_retries_it() {
    let (proxy, config) = throttled();
    let route53 = aws_sdk_route53::Client::new(&config);
    route53.list_hosted_zones().send().await.unwrap();
    let err = route53.list_hosted_zones().send().await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling"), "{err:?}");
    assert_eq!(throttled_attempts(&proxy, "route53:ListHostedZones"), Some(3), "classified as throttling");
}
