//! Route 53: a change (record sets, a hosted zone's creation or deletion) is settled once
//! GetChange says `INSYNC`: every authoritative DNS server has it. Record changes are also read
//! back in ListResourceRecordSets, and zones in GetHostedZone.
//!
//! A change can take minutes to reach every server: these checks wait up to 30 minutes, as
//! Terraform's AWS provider does.

use std::time::Duration;

use aws_sdk_route53::Client;
use aws_sdk_route53::operation::change_resource_record_sets::{
    ChangeResourceRecordSetsInput, ChangeResourceRecordSetsOutput,
};
use aws_sdk_route53::operation::create_hosted_zone::{CreateHostedZoneInput, CreateHostedZoneOutput};
use aws_sdk_route53::operation::delete_hosted_zone::{DeleteHostedZoneInput, DeleteHostedZoneOutput};
use aws_sdk_route53::operation::get_change::GetChangeOutput;
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::{ChangeAction, ChangeInfo, ChangeStatus, ResourceRecordSet};

use super::{rule, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

/// How long a change may stay PENDING (Terraform's AWS provider: 30 minutes).
const CHANGE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const NO_SUCH_ZONE: &str = "NoSuchHostedZone";
const NO_SUCH_CHANGE: &str = "NoSuchChange";

/// Operations that change nothing.
const READS: &[&str] = &[
    "GetAccountLimit",
    "GetChange",
    "GetCheckerIpRanges",
    "GetDNSSEC",
    "GetGeoLocation",
    "GetHealthCheck",
    "GetHealthCheckCount",
    "GetHealthCheckLastFailureReason",
    "GetHealthCheckStatus",
    "GetHostedZone",
    "GetHostedZoneCount",
    "GetHostedZoneLimit",
    "GetQueryLoggingConfig",
    "GetReusableDelegationSet",
    "GetReusableDelegationSetLimit",
    "GetTrafficPolicy",
    "GetTrafficPolicyInstance",
    "GetTrafficPolicyInstanceCount",
    "ListCidrBlocks",
    "ListCidrCollections",
    "ListCidrLocations",
    "ListGeoLocations",
    "ListHealthChecks",
    "ListHostedZones",
    "ListHostedZonesByName",
    "ListHostedZonesByVPC",
    "ListQueryLoggingConfigs",
    "ListResourceRecordSets",
    "ListReusableDelegationSets",
    "ListTagsForResource",
    "ListTagsForResources",
    "ListTrafficPolicies",
    "ListTrafficPolicyInstances",
    "ListTrafficPolicyInstancesByHostedZone",
    "ListTrafficPolicyInstancesByPolicy",
    "ListTrafficPolicyVersions",
    "ListVPCAssociationAuthorizations",
    "TestDNSAnswer",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "route53",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "ChangeResourceRecordSets",
                "GetChange: INSYNC; ListResourceRecordSets: each created or upserted record set listed, each deleted one not",
                change_resource_record_sets,
            ),
            rule("CreateHostedZone", "GetHostedZone: found; GetChange: INSYNC", create_hosted_zone),
            rule("DeleteHostedZone", "GetChange: INSYNC; GetHostedZone: NoSuchHostedZone", delete_hosted_zone),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

/// GetChange on the change `info` names until it is INSYNC.
fn in_sync(operation: &'static str, route53: &Client, resource: &str, info: &ChangeInfo) -> Check {
    let (route53, id) = (route53.clone(), info.id().to_string());
    Check::new(
        operation,
        resource,
        format!("GetChange shows {} INSYNC", info.id()),
        waiter::<GetChangeOutput>()
            .success_when(|o| o.change_info().is_some_and(|c| c.status() == &ChangeStatus::Insync))
            .retry_on_error_code(NO_SUCH_CHANGE),
        move || route53.get_change().id(&id).send(),
    )
    .with_max_wait(CHANGE_TIMEOUT)
}

/// A record set name as Route 53 lists it: lower case, absolute, `*` escaped as `\052`.
fn listed_name(name: &str) -> String {
    let name = name.to_ascii_lowercase().replace('*', "\\052");
    if name.ends_with('.') { name } else { format!("{name}.") }
}

/// Whether `listed` is the record set `wanted` names (name, type and set identifier).
fn same_set(listed: &ResourceRecordSet, wanted: &ResourceRecordSet) -> bool {
    listed_name(listed.name()) == listed_name(wanted.name())
        && listed.r#type() == wanted.r#type()
        && listed.set_identifier() == wanted.set_identifier()
}

/// Whether `listed` holds the values `wanted` gives (when it gives record values).
fn same_values(listed: &ResourceRecordSet, wanted: &ResourceRecordSet) -> bool {
    let values = |s: &ResourceRecordSet| {
        let mut v: Vec<String> = s.resource_records().iter().map(|r| r.value().to_string()).collect();
        v.sort();
        v
    };
    wanted.resource_records().is_empty() || values(listed) == values(wanted)
}

/// ListResourceRecordSets from `set`'s name and type until it is listed with its values
/// (`present`) or not listed at all.
fn record_set(route53: &Client, zone: &str, set: &ResourceRecordSet, present: bool) -> Check {
    let expected = format!(
        "ListResourceRecordSets {} {} {}",
        if present { "lists" } else { "does not list" },
        set.r#type().as_str(),
        set.name()
    );
    let (route53, zone_id, wanted) = (route53.clone(), zone.to_string(), set.clone());
    let (name, kind) = (set.name().to_string(), set.r#type().clone());
    let done = move |o: &ListResourceRecordSetsOutput| {
        let found = o.resource_record_sets().iter().find(|s| same_set(s, &wanted));
        match found {
            Some(listed) => present && same_values(listed, &wanted),
            None => !present,
        }
    };
    Check::new(
        "ChangeResourceRecordSets",
        zone,
        expected,
        waiter::<ListResourceRecordSetsOutput>().success_when(done).retry_on_error_code(NO_SUCH_ZONE),
        move || {
            route53
                .list_resource_record_sets()
                .hosted_zone_id(&zone_id)
                .start_record_name(&name)
                .start_record_type(kind.clone())
                .max_items(100)
                .send()
        },
    )
    .with_max_wait(CHANGE_TIMEOUT)
}

fn change_resource_record_sets(
    route53: &Client,
    input: &ChangeResourceRecordSetsInput,
    output: &ChangeResourceRecordSetsOutput,
) -> Vec<Check> {
    let (Some(zone), Some(info)) = (input.hosted_zone_id(), output.change_info()) else { return Vec::new() };
    let mut checks = vec![in_sync("ChangeResourceRecordSets", route53, zone, info)];
    for change in input.change_batch().map(|b| b.changes()).unwrap_or_default() {
        if let Some(set) = change.resource_record_set() {
            checks.push(record_set(route53, zone, set, change.action() != &ChangeAction::Delete));
        }
    }
    checks
}

/// GetHostedZone on `zone` until it is found (`exists`) or NoSuchHostedZone.
fn hosted_zone(operation: &'static str, route53: &Client, zone: &str, exists: bool) -> Check {
    let (route53, id) = (route53.clone(), zone.to_string());
    let (waiter, expected) = if exists {
        (
            waiter::<GetHostedZoneOutput>().success_when(|_| true).retry_on_error_code(NO_SUCH_ZONE),
            "GetHostedZone finds the zone",
        )
    } else {
        (
            waiter::<GetHostedZoneOutput>().success_on_error_code(NO_SUCH_ZONE).retry_when(|_| true),
            "GetHostedZone answers NoSuchHostedZone",
        )
    };
    Check::new(operation, zone, expected, waiter, move || route53.get_hosted_zone().id(&id).send())
        .with_max_wait(CHANGE_TIMEOUT)
}

fn create_hosted_zone(
    route53: &Client,
    _: &CreateHostedZoneInput,
    output: &CreateHostedZoneOutput,
) -> Vec<Check> {
    let (Some(zone), Some(info)) = (output.hosted_zone(), output.change_info()) else { return Vec::new() };
    vec![
        hosted_zone("CreateHostedZone", route53, zone.id(), true),
        in_sync("CreateHostedZone", route53, zone.id(), info),
    ]
}

fn delete_hosted_zone(
    route53: &Client,
    input: &DeleteHostedZoneInput,
    output: &DeleteHostedZoneOutput,
) -> Vec<Check> {
    let (Some(zone), Some(info)) = (input.id(), output.change_info()) else { return Vec::new() };
    vec![in_sync("DeleteHostedZone", route53, zone, info), hosted_zone("DeleteHostedZone", route53, zone, false)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::{ResourceRecord, RrType};

    fn set(name: &str, values: &[&str]) -> ResourceRecordSet {
        let records = values.iter().map(|v| ResourceRecord::builder().value(*v).build().unwrap());
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::A)
            .set_resource_records(Some(records.collect()))
            .build()
            .unwrap()
    }

    #[test]
    fn record_sets_match_as_route53_lists_them() {
        assert!(same_set(&set("www.example.com.", &[]), &set("WWW.example.com", &[])));
        assert!(same_set(&set("\\052.example.com.", &[]), &set("*.example.com", &[])));
        assert!(!same_set(&set("api.example.com.", &[]), &set("www.example.com", &[])));
        assert!(same_values(&set("a.", &["1.2.3.4", "5.6.7.8"]), &set("a.", &["5.6.7.8", "1.2.3.4"])));
        assert!(!same_values(&set("a.", &["1.2.3.4"]), &set("a.", &["5.6.7.8"])));
        assert!(same_values(&set("a.", &["1.2.3.4"]), &set("a.", &[])), "an alias gives no values");
    }
}
