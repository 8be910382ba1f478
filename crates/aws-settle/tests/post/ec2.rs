//! EC2 rules under lag: a new id is `Invalid*ID.NotFound` until released, tags and security-group
//! rules read old; and RunInstances launches once per `ClientToken` when an answer is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, InstanceStateName, IpPermission, IpRange, Tag};
use aws_settle::post::{SettleExt, attach};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

use crate::scenario::{BoxFut, Scenario, bx, nothing, run, send};
use crate::{Held, unique};

/// moto validates no AMI by default.
const AMI: &str = "ami-12c6146b";

/// The ids the scenarios' steps made, by the scenario's resource name (steps are plain `fn`s).
fn ids() -> &'static Mutex<HashMap<String, String>> {
    static IDS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    IDS.get_or_init(Default::default)
}

fn keep(name: &str, id: Option<&str>) {
    ids().lock().unwrap().insert(name.to_string(), id.expect("the answer names the new id").to_string());
}

fn id(name: &str) -> String {
    ids().lock().unwrap()[name].clone()
}

fn https() -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
        .build()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

async fn instance_state(ec2: &Client, name: &str) -> Option<InstanceStateName> {
    let out = ec2.describe_instances().instance_ids(id(name)).send().await.ok()?;
    out.reservations().first()?.instances().first()?.state()?.name().cloned()
}

async fn rules(ec2: &Client, name: &str) -> Option<usize> {
    let out = ec2.describe_security_groups().group_ids(id(name)).send().await.ok()?;
    Some(out.security_groups().first()?.ip_permissions().len())
}

async fn tags(ec2: &Client, name: &str) -> Vec<String> {
    let filter = Filter::builder().name("resource-id").values(id(name)).build();
    let out = ec2.describe_tags().filters(filter).send().await.unwrap();
    out.tags().iter().map(|t| format!("{}={}", t.key().unwrap_or(""), t.value().unwrap_or(""))).collect()
}

fn instance(ec2: Client, name: String) -> BoxFut<()> {
    bx(async move {
        let ran = ec2.run_instances().image_id(AMI).min_count(1).max_count(1).send().await.unwrap();
        keep(&name, ran.instances()[0].instance_id());
    })
}

fn group(ec2: Client, name: String) -> BoxFut<()> {
    bx(async move {
        let made = ec2.create_security_group().group_name(&name).description("settle").send().await.unwrap();
        keep(&name, made.group_id());
    })
}

fn group_with_rule_and_tag(ec2: Client, name: String) -> BoxFut<()> {
    bx(async move {
        group(ec2.clone(), name.clone()).await;
        let authorize = ec2.authorize_security_group_ingress().group_id(id(&name)).ip_permissions(https());
        authorize.send().await.unwrap();
        ec2.create_tags().resources(id(&name)).tags(tag("team", "blue")).send().await.unwrap();
    })
}

/// A VPC kept under `NAME/vpc`, for the subnet and route table scenarios.
fn vpc(ec2: Client, name: String) -> BoxFut<()> {
    bx(async move {
        let made = ec2.create_vpc().cidr_block("10.9.0.0/16").send().await.unwrap();
        keep(&format!("{name}/vpc"), made.vpc().and_then(|v| v.vpc_id()));
    })
}

#[tokio::test]
async fn every_ec2_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        || unique("settle-ec2"),
        vec![
            Scenario {
                rule: "RunInstances",
                setup: nothing,
                write: |ec2, n, settle| {
                    bx(async move {
                        let run = ec2.run_instances().image_id(AMI).min_count(1).max_count(1);
                        let ran = send(run.send(), settle).await;
                        keep(&n, ran.instances()[0].instance_id());
                    })
                },
                visible: |ec2, n| {
                    bx(async move { instance_state(&ec2, &n).await == Some(InstanceStateName::Running) })
                },
            },
            Scenario {
                rule: "TerminateInstances",
                setup: instance,
                write: |ec2, n, settle| {
                    bx(async move {
                        send(ec2.terminate_instances().instance_ids(id(&n)).send(), settle).await;
                    })
                },
                visible: |ec2, n| {
                    bx(async move { instance_state(&ec2, &n).await == Some(InstanceStateName::Terminated) })
                },
            },
            Scenario {
                rule: "CreateSecurityGroup",
                setup: nothing,
                write: |ec2, n, settle| {
                    bx(async move {
                        let create = ec2.create_security_group().group_name(&n).description("settle");
                        keep(&n, send(create.send(), settle).await.group_id());
                    })
                },
                visible: |ec2, n| bx(async move { rules(&ec2, &n).await.is_some() }),
            },
            Scenario {
                rule: "AuthorizeSecurityGroupIngress",
                setup: group,
                write: |ec2, n, settle| {
                    bx(async move {
                        let authorize = ec2.authorize_security_group_ingress().group_id(id(&n));
                        send(authorize.ip_permissions(https()).send(), settle).await;
                    })
                },
                visible: |ec2, n| bx(async move { rules(&ec2, &n).await == Some(1) }),
            },
            Scenario {
                rule: "RevokeSecurityGroupIngress",
                setup: group_with_rule_and_tag,
                write: |ec2, n, settle| {
                    bx(async move {
                        let revoke = ec2.revoke_security_group_ingress().group_id(id(&n));
                        send(revoke.ip_permissions(https()).send(), settle).await;
                    })
                },
                visible: |ec2, n| bx(async move { rules(&ec2, &n).await == Some(0) }),
            },
            Scenario {
                rule: "CreateVpc",
                setup: nothing,
                write: |ec2, n, settle| {
                    bx(async move {
                        let made = send(ec2.create_vpc().cidr_block("10.8.0.0/16").send(), settle).await;
                        keep(&n, made.vpc().and_then(|v| v.vpc_id()));
                    })
                },
                visible: |ec2, n| bx(async move { ec2.describe_vpcs().vpc_ids(id(&n)).send().await.is_ok() }),
            },
            Scenario {
                rule: "CreateSubnet",
                setup: vpc,
                write: |ec2, n, settle| {
                    bx(async move {
                        let create = ec2.create_subnet().vpc_id(id(&format!("{n}/vpc"))).cidr_block("10.9.1.0/24");
                        keep(&n, send(create.send(), settle).await.subnet().and_then(|s| s.subnet_id()));
                    })
                },
                visible: |ec2, n| {
                    bx(async move { ec2.describe_subnets().subnet_ids(id(&n)).send().await.is_ok() })
                },
            },
            Scenario {
                rule: "CreateRouteTable",
                setup: vpc,
                write: |ec2, n, settle| {
                    bx(async move {
                        let create = ec2.create_route_table().vpc_id(id(&format!("{n}/vpc")));
                        let made = send(create.send(), settle).await;
                        keep(&n, made.route_table().and_then(|t| t.route_table_id()));
                    })
                },
                visible: |ec2, n| {
                    bx(async move { ec2.describe_route_tables().route_table_ids(id(&n)).send().await.is_ok() })
                },
            },
            Scenario {
                rule: "CreateInternetGateway",
                setup: nothing,
                write: |ec2, n, settle| {
                    bx(async move {
                        let made = send(ec2.create_internet_gateway().send(), settle).await;
                        keep(&n, made.internet_gateway().and_then(|g| g.internet_gateway_id()));
                    })
                },
                visible: |ec2, n| {
                    bx(async move {
                        ec2.describe_internet_gateways().internet_gateway_ids(id(&n)).send().await.is_ok()
                    })
                },
            },
            Scenario {
                rule: "CreateTags",
                setup: group,
                write: |ec2, n, settle| {
                    bx(async move {
                        send(ec2.create_tags().resources(id(&n)).tags(tag("env", "prod")).send(), settle).await;
                    })
                },
                visible: |ec2, n| bx(async move { tags(&ec2, &n).await == ["env=prod"] }),
            },
            Scenario {
                rule: "DeleteTags",
                setup: group_with_rule_and_tag,
                write: |ec2, n, settle| {
                    bx(async move {
                        let delete = ec2.delete_tags().resources(id(&n)).tags(Tag::builder().key("team").build());
                        send(delete.send(), settle).await;
                    })
                },
                visible: |ec2, n| bx(async move { tags(&ec2, &n).await.is_empty() }),
            },
        ],
    )
    .await;
}

/// Turns the first answer it sees into a 503, as if the answer were lost on the way back after
/// the instance was launched: the SDK retries the call, with the same serialized request.
#[derive(Debug, Default)]
struct DropFirstAnswer(Arc<AtomicBool>);

impl Intercept for DropFirstAnswer {
    fn name(&self) -> &'static str {
        "drop the first answer"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !self.0.swap(true, Ordering::SeqCst) {
            let response = context.response_mut();
            *response.status_mut() = 503u16.try_into()?;
            *response.body_mut() = SdkBody::from("");
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_launch_retried_after_a_dropped_answer_is_one_instance_settled_by_its_client_token() {
    let env = Held::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let dropping = DropFirstAnswer(dropped.clone());
    let config = aws_sdk_ec2::config::Builder::from(&env.config).interceptor(dropping).build();
    let ec2 = attach(Client::from_conf(config), &env.enforcer);
    let release = env.release_after_a_blocked_read();
    // No ClientToken given: the SDK makes one, the retry sends it again, the rule reads it back.
    let ran = ec2.run_instances().image_id(AMI).min_count(1).max_count(1).send().settled().await.unwrap();
    assert!(dropped.load(Ordering::SeqCst), "the first answer was dropped");
    assert!(release.await.unwrap() >= 1, "settled only once the launch was released");
    let launched = &ran.instances()[0];
    let token = launched.client_token().expect("the SDK sent a ClientToken").to_string();

    assert_eq!(env.proxy.counters().per_operation.get("ec2:RunInstances"), Some(&2), "sent twice");
    let direct = Client::new(&settle_emulator::moto_sdk_config());
    let all = direct.describe_instances().send().await.unwrap();
    let with_token: Vec<&str> = all
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.client_token() == Some(token.as_str()))
        .filter_map(|i| i.instance_id())
        .collect();
    assert_eq!(with_token, [launched.instance_id().unwrap()], "one launch for the two attempts");
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_passed, stats.checks_failed), (1, 0), "{stats:?}");
}
