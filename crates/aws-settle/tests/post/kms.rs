//! KMS rules under lag: key state, policy and tags read old; each check needs 5 matching reads
//! in a row.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeyState, Tag};
use aws_settle::post::SettleExt;

use crate::scenario::{BoxFut, Scenario, bx, run_in, send};
use crate::{Held, unique};

/// The key made for each scenario name (KMS names keys itself).
static KEYS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Mutex::default);

fn key_of(name: &str) -> String {
    KEYS.lock().unwrap()[name].clone()
}

fn tag(key: &str) -> Tag {
    Tag::builder().tag_key(key).tag_value("v").build().unwrap()
}

fn key(kms: Client, name: String) -> BoxFut<()> {
    bx(async move {
        let made = send(kms.create_key().tags(tag("team")).send(), true).await;
        KEYS.lock().unwrap().insert(name, made.key_metadata.unwrap().key_id);
    })
}

fn disabled_key(kms: Client, name: String) -> BoxFut<()> {
    bx(async move {
        key(kms.clone(), name.clone()).await;
        send(kms.disable_key().key_id(key_of(&name)).send(), true).await;
    })
}

async fn state(kms: &Client, name: &str) -> Option<KeyState> {
    kms.describe_key().key_id(key_of(name)).send().await.unwrap().key_metadata?.key_state
}

async fn tag_keys(kms: &Client, name: &str) -> Vec<String> {
    let out = kms.list_resource_tags().key_id(key_of(name)).send().await.unwrap();
    out.tags().iter().map(|t| t.tag_key().to_string()).collect()
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"settle","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;

#[tokio::test]
async fn every_kms_rule_turns_the_pitfall_into_a_settled_read() {
    run_in(
        Held::polling_fast(),
        Client::new,
        || unique("settle-key"),
        vec![
            Scenario {
                rule: "EnableKey",
                setup: disabled_key,
                write: |kms, n, settle| {
                    bx(async move {
                        send(kms.enable_key().key_id(key_of(&n)).send(), settle).await;
                    })
                },
                visible: |kms, n| bx(async move { state(&kms, &n).await == Some(KeyState::Enabled) }),
            },
            Scenario {
                rule: "DisableKey",
                setup: key,
                write: |kms, n, settle| {
                    bx(async move {
                        send(kms.disable_key().key_id(key_of(&n)).send(), settle).await;
                    })
                },
                visible: |kms, n| bx(async move { state(&kms, &n).await == Some(KeyState::Disabled) }),
            },
            Scenario {
                rule: "ScheduleKeyDeletion",
                setup: key,
                write: |kms, n, settle| {
                    bx(async move {
                        let schedule =
                            kms.schedule_key_deletion().key_id(key_of(&n)).pending_window_in_days(7);
                        send(schedule.send(), settle).await;
                    })
                },
                visible: |kms, n| bx(async move { state(&kms, &n).await == Some(KeyState::PendingDeletion) }),
            },
            Scenario {
                rule: "PutKeyPolicy",
                setup: key,
                write: |kms, n, settle| {
                    bx(async move {
                        let put =
                            kms.put_key_policy().key_id(key_of(&n)).policy_name("default").policy(POLICY);
                        send(put.send(), settle).await;
                    })
                },
                visible: |kms, n| {
                    bx(async move {
                        let read =
                            kms.get_key_policy().key_id(key_of(&n)).policy_name("default").send().await;
                        read.unwrap().policy().is_some_and(|p| p.contains("\"Sid\":\"settle\""))
                    })
                },
            },
            Scenario {
                rule: "TagResource",
                setup: key,
                write: |kms, n, settle| {
                    bx(async move {
                        send(kms.tag_resource().key_id(key_of(&n)).tags(tag("env")).send(), settle).await;
                    })
                },
                visible: |kms, n| bx(async move { tag_keys(&kms, &n).await.contains(&"env".to_string()) }),
            },
            Scenario {
                rule: "UntagResource",
                setup: key,
                write: |kms, n, settle| {
                    bx(async move {
                        send(kms.untag_resource().key_id(key_of(&n)).tag_keys("team").send(), settle).await;
                    })
                },
                visible: |kms, n| bx(async move { tag_keys(&kms, &n).await.is_empty() }),
            },
        ],
    )
    .await;
}

/// CreateKey is not lagged by the proxy (the new key's id exists only in its answer): the
/// settled create still reads the key back 5 times in a row before it returns.
#[tokio::test]
async fn a_created_key_is_read_back_five_times_in_a_row() {
    let env = Held::polling_fast();
    let kms = aws_settle::post::attach(Client::new(&env.config), &env.enforcer);
    let before = env.proxy.counters().per_operation.get("kms:DescribeKey").copied().unwrap_or(0);
    let made = kms.create_key().tags(tag("team")).send().settled().await.unwrap();
    let after = env.proxy.counters().per_operation.get("kms:DescribeKey").copied().unwrap_or(0);
    assert_eq!(after - before, 5, "five DescribeKey reads in a row, no more");
    let key = made.key_metadata.unwrap().key_id;
    let tags = kms.list_resource_tags().key_id(&key).send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(env.enforcer.stats().checks_passed, 2, "DescribeKey and ListResourceTags");
}
