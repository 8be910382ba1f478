//! SQS rules under lag: a new queue is not found by name, attributes and tags read old, a
//! deleted queue still answers.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName as Attr;

use crate::scenario::{BoxFut, Scenario, bx, nothing, run_in, send};
use crate::{Held, unique};

/// The queue's URL, asked of the client's own endpoint.
async fn url(sqs: &Client, name: &str) -> String {
    sqs.get_queue_url().queue_name(name).send().await.unwrap().queue_url.unwrap()
}

fn queue(sqs: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(sqs.create_queue().queue_name(&name).tags("team", "v").send(), true).await;
    })
}

async fn visibility_timeout(sqs: &Client, name: &str) -> Option<String> {
    let url = url(sqs, name).await;
    let read = sqs.get_queue_attributes().queue_url(url).attribute_names(Attr::VisibilityTimeout);
    read.send().await.ok()?.attributes?.remove(&Attr::VisibilityTimeout)
}

async fn tag_keys(sqs: &Client, name: &str) -> Vec<String> {
    let tags = sqs.list_queue_tags().queue_url(url(sqs, name).await).send().await.unwrap().tags;
    tags.unwrap_or_default().into_keys().collect()
}

#[tokio::test]
async fn every_sqs_rule_turns_the_pitfall_into_a_settled_read() {
    run_in(
        Held::polling_fast(),
        Client::new,
        || unique("settle-q"),
        vec![
            Scenario {
                rule: "CreateQueue",
                setup: nothing,
                write: |sqs, n, settle| {
                    bx(async move {
                        let create = sqs
                            .create_queue()
                            .queue_name(&n)
                            .attributes(Attr::VisibilityTimeout, "45")
                            .tags("team", "v");
                        send(create.send(), settle).await;
                    })
                },
                visible: |sqs, n| {
                    bx(async move {
                        sqs.get_queue_url().queue_name(&n).send().await.is_ok()
                            && tag_keys(&sqs, &n).await == ["team"]
                    })
                },
            },
            Scenario {
                rule: "SetQueueAttributes",
                setup: queue,
                write: |sqs, n, settle| {
                    bx(async move {
                        let set = sqs
                            .set_queue_attributes()
                            .queue_url(url(&sqs, &n).await)
                            .attributes(Attr::VisibilityTimeout, "45");
                        send(set.send(), settle).await;
                    })
                },
                visible: |sqs, n| {
                    bx(async move { visibility_timeout(&sqs, &n).await.as_deref() == Some("45") })
                },
            },
            Scenario {
                rule: "DeleteQueue",
                setup: queue,
                write: |sqs, n, settle| {
                    bx(async move {
                        send(sqs.delete_queue().queue_url(url(&sqs, &n).await).send(), settle).await;
                    })
                },
                visible: |sqs, n| {
                    bx(async move {
                        let read = sqs.get_queue_url().queue_name(&n).send().await;
                        read.is_err_and(|e| e.into_service_error().is_queue_does_not_exist())
                    })
                },
            },
            Scenario {
                rule: "TagQueue",
                setup: queue,
                write: |sqs, n, settle| {
                    bx(async move {
                        send(
                            sqs.tag_queue().queue_url(url(&sqs, &n).await).tags("env", "prod").send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |sqs, n| bx(async move { tag_keys(&sqs, &n).await.contains(&"env".to_string()) }),
            },
            Scenario {
                rule: "UntagQueue",
                setup: queue,
                write: |sqs, n, settle| {
                    bx(async move {
                        send(
                            sqs.untag_queue().queue_url(url(&sqs, &n).await).tag_keys("team").send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |sqs, n| bx(async move { tag_keys(&sqs, &n).await.is_empty() }),
            },
        ],
    )
    .await;
}

/// Visibility that flaps after the lag (reads alternate old/new, as AWS endpoints that have not all
/// seen a change do): one lucky read is not taken for settled. SetQueueAttributes needs 6 matching
/// reads in a row; the proxy flaps for the next 6 reads after the release, so once the settled
/// write returns, every later read sees the new value.
#[tokio::test]
async fn a_flapping_read_is_not_taken_for_settled() {
    let flap = settle_proxy::Flap { reads: 6, old: 0.5 };
    let config = settle_proxy::Config { seed: Some(7), ..settle_proxy::Config::held().flapping(flap) };
    let proxy = settle_emulator::proxy_in_front_of_moto(config);
    let fast = aws_settle::post::SettleOptions::new()
        .with_delays(std::time::Duration::from_millis(5), std::time::Duration::from_millis(20));
    let env = Held {
        config: settle_emulator::sdk_config(&proxy.endpoint()),
        proxy,
        enforcer: aws_settle::post::Enforcer::builder().with_options(fast).build(),
    };
    let plain = Client::new(&env.config);
    let settled = aws_settle::post::attach(plain.clone(), &env.enforcer);
    let name = unique("settle-flap");
    send(plain.create_queue().queue_name(&name).send(), false).await;
    env.proxy.release_all();
    let queue_url = loop {
        // The create's own flapping reads: not found at chance 0.5, at most 6 times.
        if let Ok(out) = plain.get_queue_url().queue_name(&name).send().await {
            break out.queue_url.unwrap();
        }
    };
    let release = env.release_after_a_blocked_read();
    let set = settled.set_queue_attributes().queue_url(&queue_url).attributes(Attr::VisibilityTimeout, "77");
    send(set.send(), true).await;
    assert!(release.is_finished(), "the settled write returned while its change was held");
    let flapped = env.proxy.counters().flapped_reads;
    for n in 0..10 {
        assert_eq!(visibility_timeout(&plain, &name).await.as_deref(), Some("77"), "read {n} after settling");
    }
    assert_eq!(env.proxy.counters().flapped_reads, flapped, "no flapping read was left after settling");
    assert!(flapped > 0, "the seeded proxy flapped at least once: {:?}", env.proxy.counters());
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_failed, stats.pending), (0, 0), "{stats:?}");
}
