//! Route 53 rules under lag: GetChange answers PENDING until the proxy releases the change, then
//! INSYNC (the proxy names each change, as moto answers every change with one id).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};

use crate::scenario::{BoxFut, Scenario, bx, nothing, run};
use crate::unique;

/// The hosted zone made for each scenario name, and the change its write made.
static ZONES: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Mutex::default);
static CHANGES: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Mutex::default);

fn zone_of(name: &str) -> String {
    ZONES.lock().unwrap()[name].clone()
}

fn domain(name: &str) -> String {
    format!("{name}.example.com")
}

async fn create_zone(route53: Client, name: String, settle: bool) {
    let call = route53.create_hosted_zone().name(domain(&name)).caller_reference(unique("ref")).send();
    let made = crate::scenario::send(call, settle).await;
    ZONES.lock().unwrap().insert(name.clone(), made.hosted_zone.unwrap().id);
    CHANGES.lock().unwrap().insert(name, made.change_info.unwrap().id);
}

fn zone(route53: Client, name: String) -> BoxFut<()> {
    bx(create_zone(route53, name, true))
}

/// Whether GetChange says the change the scenario's write made is INSYNC.
fn in_sync(route53: Client, name: String) -> BoxFut<bool> {
    bx(async move {
        let id = CHANGES.lock().unwrap()[&name].clone();
        let out = route53.get_change().id(id).send().await.unwrap();
        out.change_info.unwrap().status == ChangeStatus::Insync
    })
}

fn upsert(name: &str) -> ChangeBatch {
    let record = ResourceRecord::builder().value("192.0.2.10").build().unwrap();
    let set = ResourceRecordSet::builder()
        .name(format!("www.{}", domain(name)))
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(record)
        .build()
        .unwrap();
    let change = Change::builder().action(ChangeAction::Upsert).resource_record_set(set).build().unwrap();
    ChangeBatch::builder().changes(change).build().unwrap()
}

#[tokio::test]
async fn every_route53_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        || unique("settle-zone"),
        vec![
            Scenario {
                rule: "ChangeResourceRecordSets",
                setup: zone,
                write: |route53, n, settle| {
                    bx(async move {
                        let call = route53
                            .change_resource_record_sets()
                            .hosted_zone_id(zone_of(&n))
                            .change_batch(upsert(&n))
                            .send();
                        let out = crate::scenario::send(call, settle).await;
                        CHANGES.lock().unwrap().insert(n, out.change_info.unwrap().id);
                    })
                },
                visible: in_sync,
            },
            Scenario {
                rule: "CreateHostedZone",
                setup: nothing,
                write: |route53, n, settle| bx(create_zone(route53, n, settle)),
                visible: in_sync,
            },
            Scenario {
                rule: "DeleteHostedZone",
                setup: zone,
                write: |route53, n, settle| {
                    bx(async move {
                        let out = crate::scenario::send(
                            route53.delete_hosted_zone().id(zone_of(&n)).send(),
                            settle,
                        )
                        .await;
                        CHANGES.lock().unwrap().insert(n, out.change_info.unwrap().id);
                    })
                },
                visible: in_sync,
            },
        ],
    )
    .await;
}
