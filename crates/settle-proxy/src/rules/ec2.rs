//! EC2 (its own query protocol), after AWS's guide "Eventual consistency in the Amazon EC2 API":
//! a new instance, security group, VPC, subnet, route table or internet gateway is
//! `Invalid*ID.NotFound` to Describe* and to CreateTags until its id propagates; a new instance
//! then reads `pending` before `running`, a terminated one `shutting-down`; tags and
//! security-group rules read old. RunInstances is idempotent by `ClientToken`, as on AWS (moto
//! launches again on every retry).
//!
//! Every resource is keyed by its id under one class (`ec2:i-0abc…`, `ec2:sg-…`): ids carry
//! their type, and CreateTags names any of them. Reads are keyed by the first id they name
//! (`InstanceId.1`, `GroupId.1`, …); a Describe* without ids lists the live resources.

use bytes::Bytes;

use super::{
    Absent, Answer, AnswerIds, Hooks, KeyFrom as K, Read, ServiceRules, StatusLag, Template as T, Then,
    Write, WriteKind as W,
};
use crate::protocol::{ParsedRequest, StoredResponse};

const EC2: &str = "ec2";

/// How a create's id is refused while it propagates: its Describe* and CreateTags.
macro_rules! absent {
    ($describe:literal, $code:literal, $message:literal) => {
        &[
            Absent { op: $describe, status: 400, code: $code, message: $message },
            Absent { op: "CreateTags", status: 400, code: $code, message: $message },
        ]
    };
}

const INSTANCES: Answer = Answer {
    request: None,
    class: EC2,
    ids: AnswerIds::Xml("instanceId"),
    absent: absent!(
        "DescribeInstances",
        "InvalidInstanceID.NotFound",
        "The instance ID '{0}' does not exist"
    ),
    then: Some(Then { op: "RunInstances:pending", status: "pending", read: "DescribeInstances" }),
};
const GROUP: Answer = Answer {
    ids: AnswerIds::Xml("groupId"),
    absent: absent!(
        "DescribeSecurityGroups",
        "InvalidGroup.NotFound",
        "The security group '{0}' does not exist"
    ),
    then: None,
    ..INSTANCES
};
const VPC: Answer = Answer {
    ids: AnswerIds::Xml("vpcId"),
    absent: absent!("DescribeVpcs", "InvalidVpcID.NotFound", "The vpc ID '{0}' does not exist"),
    ..GROUP
};
const SUBNET: Answer = Answer {
    ids: AnswerIds::Xml("subnetId"),
    absent: absent!("DescribeSubnets", "InvalidSubnetID.NotFound", "The subnet ID '{0}' does not exist"),
    ..GROUP
};
const ROUTE_TABLE: Answer = Answer {
    ids: AnswerIds::Xml("routeTableId"),
    absent: absent!(
        "DescribeRouteTables",
        "InvalidRouteTableID.NotFound",
        "The routeTable ID '{0}' does not exist"
    ),
    ..GROUP
};
const GATEWAY: Answer = Answer {
    ids: AnswerIds::Xml("internetGatewayId"),
    absent: absent!(
        "DescribeInternetGateways",
        "InvalidInternetGatewayID.NotFound",
        "The internetGateway ID '{0}' does not exist"
    ),
    ..GROUP
};

const RUN: Write = Write {
    op: "RunInstances",
    class: EC2,
    key: K::Answer(&INSTANCES),
    kind: W::Create,
    reads: &[],
    status: None,
    tagging: false,
};
const INGRESS: Write = Write {
    op: "AuthorizeSecurityGroupIngress",
    key: K::Query("GroupId"),
    kind: W::Update,
    reads: &["DescribeSecurityGroups"],
    ..RUN
};
const TAGS: Write = Write {
    op: "CreateTags",
    key: K::QueryList("ResourceId"),
    kind: W::Tag,
    reads: &["DescribeTags"],
    ..RUN
};

/// A read keyed by the first of its `prefix.N` ids, snapshotted by `template`.
const fn read(op: &'static str, prefix: &'static str, template: &'static str) -> Read {
    Read { op, class: EC2, key: K::QueryList(prefix), template: T::Query(template), variant: None }
}

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "ec2",
    writes: &[
        RUN,
        Write {
            op: "TerminateInstances",
            key: K::QueryList("InstanceId"),
            kind: W::Delete,
            status: Some(StatusLag {
                status: "shutting-down",
                read: "DescribeInstances",
                from_snapshot: false,
                blocks: &[],
            }),
            ..RUN
        },
        Write { op: "CreateSecurityGroup", key: K::Answer(&GROUP), ..RUN },
        Write { op: "CreateVpc", key: K::Answer(&VPC), ..RUN },
        Write { op: "CreateSubnet", key: K::Answer(&SUBNET), ..RUN },
        Write { op: "CreateRouteTable", key: K::Answer(&ROUTE_TABLE), ..RUN },
        Write { op: "CreateInternetGateway", key: K::Answer(&GATEWAY), ..RUN },
        INGRESS,
        Write { op: "RevokeSecurityGroupIngress", ..INGRESS },
        TAGS,
        Write { op: "DeleteTags", ..TAGS },
    ],
    reads: &[
        read(
            "DescribeInstances",
            "InstanceId",
            "Action=DescribeInstances&Version=2016-11-15&InstanceId.1={0}",
        ),
        read(
            "DescribeSecurityGroups",
            "GroupId",
            "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1={0}",
        ),
        read("DescribeVpcs", "VpcId", "Action=DescribeVpcs&Version=2016-11-15&VpcId.1={0}"),
        read("DescribeSubnets", "SubnetId", "Action=DescribeSubnets&Version=2016-11-15&SubnetId.1={0}"),
        read(
            "DescribeRouteTables",
            "RouteTableId",
            "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1={0}",
        ),
        read(
            "DescribeInternetGateways",
            "InternetGatewayId",
            "Action=DescribeInternetGateways&Version=2016-11-15&InternetGatewayId.1={0}",
        ),
        // Not a read: refused from its resource's absence snapshot while the create lags.
        read("CreateTags", "ResourceId", ""),
        Read {
            op: "DescribeTags",
            class: EC2,
            key: K::JsonIf("Filter.1.Value.1", "Filter.1.Name", "resource-id"),
            template: T::Query(
                "Action=DescribeTags&Version=2016-11-15&Filter.1.Name=resource-id&Filter.1.Value.1={0}",
            ),
            variant: None,
        },
    ],
    hooks: Hooks { show_status: Some(show_instance_state), ..Hooks::NONE },
    tag_view: None,
    wire: super::Wire::DEFAULT,
};

/// The state codes AWS pairs with each instance state name.
const STATE_CODES: &[(&str, u8)] = &[
    ("pending", 0),
    ("running", 16),
    ("shutting-down", 32),
    ("terminated", 48),
    ("stopping", 64),
    ("stopped", 80),
];

/// Rewrites every `<instanceState>` of a successful answer to `status` (with its code).
/// A DescribeInstances naming several ids shows the first id's status on all of them.
fn show_instance_state(response: &mut StoredResponse, status: &str) -> bool {
    if !response.status.is_success() {
        return false;
    }
    let Some(code) = STATE_CODES.iter().find(|(name, _)| *name == status).map(|(_, code)| code) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&response.body) else { return false };
    let (open, close) = ("<instanceState>", "</instanceState>");
    let replacement = format!("{open}<code>{code}</code><name>{status}</name>{close}");
    let (mut out, mut rest, mut changed) = (String::with_capacity(text.len()), text, false);
    while let Some(start) = rest.find(open) {
        let Some(len) = rest[start..].find(close) else { break };
        out.push_str(&rest[..start]);
        out.push_str(&replacement);
        rest = &rest[start + len + close.len()..];
        changed = true;
    }
    out.push_str(rest);
    if changed {
        response.body = Bytes::from(out);
    }
    changed
}

/// Operations AWS answers once per `ClientToken`: a retry gets the first answer back.
const IDEMPOTENT: &[&str] = &["RunInstances"];

/// The idempotency key of a request (`operation`, `ClientToken`), if AWS honours one for it.
pub(crate) fn client_token(req: &ParsedRequest) -> Option<String> {
    let op = req.info.operation.as_str();
    if req.info.service != EC2 || !IDEMPOTENT.contains(&op) {
        return None;
    }
    req.param("ClientToken").map(|token| format!("{op}:{token}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn instance_states_are_rewritten_with_their_codes() {
        let body = "<r><instanceState>\n <code>16</code>\n <name>running</name>\n</instanceState><x/>\
                    <instanceState><code>16</code><name>running</name></instanceState></r>";
        let mut response = StoredResponse::new(StatusCode::OK, "text/xml", body.to_string());
        assert!(show_instance_state(&mut response, "pending"));
        let pending = "<instanceState><code>0</code><name>pending</name></instanceState>";
        assert_eq!(response.body, format!("<r>{pending}<x/>{pending}</r>"));
        let mut error = StoredResponse::new(StatusCode::BAD_REQUEST, "text/xml", body.to_string());
        assert!(!show_instance_state(&mut error, "pending"), "errors are left alone");
        let mut cut = StoredResponse::new(StatusCode::OK, "text/xml", "<instanceState><code>1");
        assert!(!show_instance_state(&mut cut, "pending"));
    }

    #[test]
    fn answer_ids_are_read_from_ec2_and_kms_answers() {
        let run = b"<RunInstancesResponse><instancesSet><item><instanceId>i-1</instanceId></item>\
                    <item><instanceId>i-2</instanceId></item></instancesSet></RunInstancesResponse>";
        let keys = super::super::answer_keys(&INSTANCES, run);
        assert_eq!(keys.iter().map(|k| k.id()).collect::<Vec<_>>(), ["ec2:i-1", "ec2:i-2"]);
        assert!(super::super::answer_keys(&INSTANCES, b"<a><instanceId>i-1</b>").is_empty(), "bad XML");
    }
}
