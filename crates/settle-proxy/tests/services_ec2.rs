//! EC2 through the real aws-sdk-ec2 client (EC2's query protocol) against moto: writes held
//! invisible (`Config::held()`) and released explicitly, never a wall-clock window.

mod services_support;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, InstanceStateName, IpPermission, IpRange, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::{held, throttled, throttled_attempts};
use settle_emulator::unique_name;
use settle_proxy::ProxyHandle;

/// moto validates no AMI by default.
const AMI: &str = "ami-12c6146b";

fn held_ec2() -> (ProxyHandle, Client) {
    let (proxy, config) = held();
    (proxy, Client::new(&config))
}

async fn run(ec2: &Client, token: Option<&str>) -> String {
    let run =
        ec2.run_instances().image_id(AMI).min_count(1).max_count(1).set_client_token(token.map(Into::into));
    let ran = run.send().await.unwrap();
    ran.instances()[0].instance_id().unwrap().to_string()
}

/// The instance's state, or the error code DescribeInstances answers.
async fn state(ec2: &Client, id: &str) -> Result<InstanceStateName, String> {
    match ec2.describe_instances().instance_ids(id).send().await {
        Ok(out) => {
            let instance = &out.reservations()[0].instances()[0];
            Ok(instance.state().and_then(|s| s.name()).cloned().unwrap())
        }
        Err(err) => Err(err.code().unwrap_or("none").to_string()),
    }
}

/// The error code of a call that must fail.
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata>(result: Result<T, E>) -> String {
    result.map(|out| format!("no error: {out:?}")).unwrap_err().code().unwrap_or("none").to_string()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

#[tokio::test]
async fn a_new_instance_is_not_found_then_pending_then_running_and_terminates_through_shutting_down() {
    let (proxy, ec2) = held_ec2();
    let id = run(&ec2, None).await;
    assert_eq!(state(&ec2, &id).await, Err("InvalidInstanceID.NotFound".into()), "naive read-after-write");
    let tagged = ec2.create_tags().resources(&id).tags(tag("team", "blue")).send().await.unwrap_err();
    assert_eq!(tagged.code(), Some("InvalidInstanceID.NotFound"), "AWS refuses tags on an unknown id");
    assert!(tagged.message().is_some_and(|m| m.contains(&id)), "{tagged:?}");

    assert_eq!(proxy.release_operation("RunInstances"), 1);
    assert_eq!(state(&ec2, &id).await, Ok(InstanceStateName::Pending), "moto says running at once");
    assert_eq!(proxy.release_operation("RunInstances:pending"), 1);
    assert_eq!(state(&ec2, &id).await, Ok(InstanceStateName::Running));

    ec2.terminate_instances().instance_ids(&id).send().await.unwrap();
    assert_eq!(state(&ec2, &id).await, Ok(InstanceStateName::ShuttingDown));
    assert_eq!(proxy.release_resource(&format!("ec2:{id}")), 1);
    assert_eq!(state(&ec2, &id).await, Ok(InstanceStateName::Terminated));
    assert_eq!(proxy.counters().status_rewrites, 2);
}

#[tokio::test]
async fn new_network_resources_are_not_found_by_their_own_codes_until_released() {
    let (proxy, ec2) = held_ec2();
    let vpc = ec2.create_vpc().cidr_block("10.7.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block("10.7.1.0/24").send().await.unwrap();
    let subnet = subnet.subnet.unwrap().subnet_id.unwrap();
    let group = ec2.create_security_group().group_name(unique_name("settle-sg")).description("settle");
    let group = group.vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
    let table = ec2.create_route_table().vpc_id(&vpc).send().await.unwrap();
    let table = table.route_table.unwrap().route_table_id.unwrap();
    let gateway = ec2.create_internet_gateway().send().await.unwrap().internet_gateway.unwrap();
    let gateway = gateway.internet_gateway_id.unwrap();

    let vpcs = ec2.describe_vpcs().vpc_ids(&vpc).send().await;
    assert_eq!(code(vpcs), "InvalidVpcID.NotFound");
    assert_eq!(code(ec2.describe_subnets().subnet_ids(&subnet).send().await), "InvalidSubnetID.NotFound");
    let groups = ec2.describe_security_groups().group_ids(&group).send().await;
    assert_eq!(code(groups), "InvalidGroup.NotFound");
    let tables = ec2.describe_route_tables().route_table_ids(&table).send().await;
    assert_eq!(code(tables), "InvalidRouteTableID.NotFound");
    let gateways = ec2.describe_internet_gateways().internet_gateway_ids(&gateway).send().await;
    assert_eq!(code(gateways), "InvalidInternetGatewayID.NotFound");

    assert_eq!(proxy.release_all(), 5);
    let vpcs = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    assert_eq!(vpcs.vpcs()[0].vpc_id(), Some(vpc.as_str()));
    let subnets = ec2.describe_subnets().subnet_ids(&subnet).send().await.unwrap();
    assert_eq!(subnets.subnets()[0].vpc_id(), Some(vpc.as_str()));
    let groups = ec2.describe_security_groups().group_ids(&group).send().await.unwrap();
    assert_eq!(groups.security_groups()[0].group_id(), Some(group.as_str()));
    let tables = ec2.describe_route_tables().route_table_ids(&table).send().await.unwrap();
    assert_eq!(tables.route_tables()[0].route_table_id(), Some(table.as_str()));
    let gateways = ec2.describe_internet_gateways().internet_gateway_ids(&gateway).send().await.unwrap();
    assert_eq!(gateways.internet_gateways().len(), 1);
}

#[tokio::test]
async fn tags_and_security_group_rules_read_old_until_released() {
    let (proxy, ec2) = held_ec2();
    let group = ec2.create_security_group().group_name(unique_name("settle-sg")).description("settle");
    let group = group.send().await.unwrap().group_id.unwrap();
    proxy.release_all();

    let tags = |ec2: Client, id: String| async move {
        let filter = Filter::builder().name("resource-id").values(id).build();
        let described = ec2.describe_tags().filters(filter).send().await.unwrap();
        described
            .tags()
            .iter()
            .map(|t| format!("{}={}", t.key().unwrap(), t.value().unwrap()))
            .collect::<Vec<_>>()
    };
    ec2.create_tags().resources(&group).tags(tag("team", "blue")).send().await.unwrap();
    assert!(tags(ec2.clone(), group.clone()).await.is_empty(), "old tags while held");
    assert_eq!(proxy.release_operation("CreateTags"), 1);
    assert_eq!(tags(ec2.clone(), group.clone()).await, ["team=blue"]);
    ec2.delete_tags().resources(&group).tags(Tag::builder().key("team").build()).send().await.unwrap();
    assert_eq!(tags(ec2.clone(), group.clone()).await, ["team=blue"], "still tagged while held");
    proxy.release_all();
    assert!(tags(ec2.clone(), group.clone()).await.is_empty());

    let rules = |ec2: Client, id: String| async move {
        let described = ec2.describe_security_groups().group_ids(id).send().await.unwrap();
        described.security_groups()[0].ip_permissions().len()
    };
    let https = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
        .build();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(https.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(rules(ec2.clone(), group.clone()).await, 0, "no rule while held");
    assert_eq!(proxy.release_operation("AuthorizeSecurityGroupIngress"), 1);
    assert_eq!(rules(ec2.clone(), group.clone()).await, 1);
    ec2.revoke_security_group_ingress().group_id(&group).ip_permissions(https).send().await.unwrap();
    assert_eq!(rules(ec2.clone(), group.clone()).await, 1, "still allowed while held");
    proxy.release_all();
    assert_eq!(rules(ec2.clone(), group.clone()).await, 0);
}

#[tokio::test]
async fn run_instances_is_idempotent_by_client_token_as_on_aws() {
    let (proxy, ec2) = held_ec2();
    let token = unique_name("settle-token");
    let first = run(&ec2, Some(&token)).await;
    assert_eq!(run(&ec2, Some(&token)).await, first, "the same token answers the first launch");
    assert_ne!(run(&ec2, None).await, first, "a new token launches anew");
    let other = ec2.run_instances().image_id(AMI).min_count(2).max_count(2).client_token(&token).send().await;
    let err = other.unwrap_err();
    assert_eq!(err.code(), Some("IdempotentParameterMismatch"), "{err:?}");
    assert_eq!(proxy.counters().per_operation.get("ec2:RunInstances"), Some(&4));
    assert_eq!(proxy.held(), 4, "two launches, each held absent and then pending");
}

#[tokio::test]
async fn ec2_throttling_is_request_limit_exceeded_and_retried_by_the_sdk() {
    let (proxy, config) = throttled();
    let ec2 = Client::new(&config);
    let _ = ec2.describe_vpcs().send().await;
    let err = ec2.describe_vpcs().send().await.unwrap_err();
    assert_eq!(err.code(), Some("RequestLimitExceeded"), "{err:?}");
    assert_eq!(throttled_attempts(&proxy, "ec2:DescribeVpcs"), Some(3));
}
