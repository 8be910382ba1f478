//! EC2: instances (running, terminated, launched once per `ClientToken`), security groups and
//! their ingress rules, VPCs, subnets, route tables, internet gateways, and tags.
//!
//! AWS's guide "Eventual consistency in the Amazon EC2 API": a new id answers `Invalid*ID.NotFound`
//! until it propagates, and tags and rules read old. The checks read by id, retrying those codes.
//! RunInstances always sends a `ClientToken` (the SDK makes one when the caller gives none), so a
//! retried launch is the same launch; its check confirms the instances carry that token.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::authorize_security_group_ingress::{
    AuthorizeSecurityGroupIngressInput, AuthorizeSecurityGroupIngressOutput,
};
use aws_sdk_ec2::operation::create_internet_gateway::{
    CreateInternetGatewayInput, CreateInternetGatewayOutput,
};
use aws_sdk_ec2::operation::create_route_table::{CreateRouteTableInput, CreateRouteTableOutput};
use aws_sdk_ec2::operation::create_security_group::{CreateSecurityGroupInput, CreateSecurityGroupOutput};
use aws_sdk_ec2::operation::create_subnet::{CreateSubnetInput, CreateSubnetOutput};
use aws_sdk_ec2::operation::create_tags::{CreateTagsInput, CreateTagsOutput};
use aws_sdk_ec2::operation::create_vpc::{CreateVpcInput, CreateVpcOutput};
use aws_sdk_ec2::operation::delete_tags::{DeleteTagsInput, DeleteTagsOutput};
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::operation::describe_internet_gateways::DescribeInternetGatewaysOutput;
use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
use aws_sdk_ec2::operation::describe_tags::DescribeTagsOutput;
use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
use aws_sdk_ec2::operation::revoke_security_group_ingress::{
    RevokeSecurityGroupIngressInput, RevokeSecurityGroupIngressOutput,
};
use aws_sdk_ec2::operation::run_instances::{RunInstancesInput, RunInstancesOutput};
use aws_sdk_ec2::operation::terminate_instances::{TerminateInstancesInput, TerminateInstancesOutput};
use aws_sdk_ec2::types::{Filter, Instance, InstanceStateName, IpPermission, SubnetState, VpcState};

use super::{has_tags, lacks_keys, rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

const INSTANCE_NOT_FOUND: &str = "InvalidInstanceID.NotFound";
const GROUP_NOT_FOUND: &str = "InvalidGroup.NotFound";

/// Operations that change nothing: the SDK's Describe/Get/List/Search operations.
const READS: &[&str] = &[
    "DescribeAccountAttributes",
    "DescribeAccountVpcEncryptionControl",
    "DescribeAddressTransfers",
    "DescribeAddresses",
    "DescribeAddressesAttribute",
    "DescribeAggregateIdFormat",
    "DescribeApplicationStatus",
    "DescribeApplicationStatusCheckAssociations",
    "DescribeApplicationStatusChecks",
    "DescribeAvailabilityZones",
    "DescribeAwsNetworkPerformanceMetricSubscriptions",
    "DescribeBundleTasks",
    "DescribeByoipCidrs",
    "DescribeCapacityBlockExtensionHistory",
    "DescribeCapacityBlockExtensionOfferings",
    "DescribeCapacityBlockOfferings",
    "DescribeCapacityBlockStatus",
    "DescribeCapacityBlocks",
    "DescribeCapacityManagerDataExports",
    "DescribeCapacityReservationBillingRequests",
    "DescribeCapacityReservationCancellationQuotes",
    "DescribeCapacityReservationDateChangeQuotes",
    "DescribeCapacityReservationFleets",
    "DescribeCapacityReservationTopology",
    "DescribeCapacityReservations",
    "DescribeCarrierGateways",
    "DescribeClassicLinkInstances",
    "DescribeClientVpnAuthorizationRules",
    "DescribeClientVpnConnections",
    "DescribeClientVpnEndpoints",
    "DescribeClientVpnRoutes",
    "DescribeClientVpnTargetNetworks",
    "DescribeCoipPools",
    "DescribeConversionTasks",
    "DescribeCustomerGateways",
    "DescribeDeclarativePoliciesReports",
    "DescribeDhcpOptions",
    "DescribeEgressOnlyInternetGateways",
    "DescribeElasticGpus",
    "DescribeExportImageTasks",
    "DescribeExportTasks",
    "DescribeFastLaunchImages",
    "DescribeFastSnapshotRestores",
    "DescribeFleetHistory",
    "DescribeFleetInstances",
    "DescribeFleets",
    "DescribeFlowLogs",
    "DescribeFpgaImageAttribute",
    "DescribeFpgaImages",
    "DescribeHostReservationOfferings",
    "DescribeHostReservations",
    "DescribeHosts",
    "DescribeIamInstanceProfileAssociations",
    "DescribeIdFormat",
    "DescribeIdentityIdFormat",
    "DescribeImageAttribute",
    "DescribeImageReferences",
    "DescribeImageUsageReportEntries",
    "DescribeImageUsageReports",
    "DescribeImages",
    "DescribeImportImageTasks",
    "DescribeImportSnapshotTasks",
    "DescribeInstanceAttribute",
    "DescribeInstanceConnectEndpoints",
    "DescribeInstanceCreditSpecifications",
    "DescribeInstanceEventNotificationAttributes",
    "DescribeInstanceEventWindows",
    "DescribeInstanceImageMetadata",
    "DescribeInstanceSqlHaHistoryStates",
    "DescribeInstanceSqlHaStates",
    "DescribeInstanceStatus",
    "DescribeInstanceTopology",
    "DescribeInstanceTypeOfferings",
    "DescribeInstanceTypes",
    "DescribeInstances",
    "DescribeInternetGateways",
    "DescribeIpamByoasn",
    "DescribeIpamExternalResourceVerificationTokens",
    "DescribeIpamInternetRegistryAssociations",
    "DescribeIpamPolicies",
    "DescribeIpamPoolAllocations",
    "DescribeIpamPools",
    "DescribeIpamPrefixListResolverTargets",
    "DescribeIpamPrefixListResolvers",
    "DescribeIpamResourceDiscoveries",
    "DescribeIpamResourceDiscoveryAssociations",
    "DescribeIpamScopes",
    "DescribeIpams",
    "DescribeIpv6Pools",
    "DescribeKeyPairs",
    "DescribeLaunchTemplateVersions",
    "DescribeLaunchTemplates",
    "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations",
    "DescribeLocalGatewayRouteTableVpcAssociations",
    "DescribeLocalGatewayRouteTables",
    "DescribeLocalGatewayVirtualInterfaceGroups",
    "DescribeLocalGatewayVirtualInterfaces",
    "DescribeLocalGateways",
    "DescribeLockedSnapshots",
    "DescribeMacHosts",
    "DescribeMacModificationTasks",
    "DescribeManagedPrefixLists",
    "DescribeMovingAddresses",
    "DescribeNatGateways",
    "DescribeNetworkAcls",
    "DescribeNetworkInsightsAccessScopeAnalyses",
    "DescribeNetworkInsightsAccessScopes",
    "DescribeNetworkInsightsAnalyses",
    "DescribeNetworkInsightsPaths",
    "DescribeNetworkInterfaceAttribute",
    "DescribeNetworkInterfacePermissions",
    "DescribeNetworkInterfaces",
    "DescribeOutpostLags",
    "DescribePlacementGroups",
    "DescribePrefixLists",
    "DescribePrincipalIdFormat",
    "DescribePublicIpv4Pools",
    "DescribeRegions",
    "DescribeReplaceRootVolumeTasks",
    "DescribeReservedInstances",
    "DescribeReservedInstancesListings",
    "DescribeReservedInstancesModifications",
    "DescribeReservedInstancesOfferings",
    "DescribeRouteServerEndpoints",
    "DescribeRouteServerPeers",
    "DescribeRouteServers",
    "DescribeRouteTables",
    "DescribeScheduledInstanceAvailability",
    "DescribeScheduledInstances",
    "DescribeSecondaryInterfaces",
    "DescribeSecondaryNetworks",
    "DescribeSecondarySubnets",
    "DescribeSecurityGroupReferences",
    "DescribeSecurityGroupRules",
    "DescribeSecurityGroupVpcAssociations",
    "DescribeSecurityGroups",
    "DescribeServiceLinkVirtualInterfaces",
    "DescribeSnapshotAttribute",
    "DescribeSnapshotTierStatus",
    "DescribeSnapshots",
    "DescribeSpotDatafeedSubscription",
    "DescribeSpotFleetInstances",
    "DescribeSpotFleetRequestHistory",
    "DescribeSpotFleetRequests",
    "DescribeSpotInstanceRequests",
    "DescribeSpotPriceHistory",
    "DescribeStaleSecurityGroups",
    "DescribeStoreImageTasks",
    "DescribeSubnets",
    "DescribeTags",
    "DescribeTrafficMirrorFilterRules",
    "DescribeTrafficMirrorFilters",
    "DescribeTrafficMirrorSessions",
    "DescribeTrafficMirrorTargets",
    "DescribeTransitGatewayAttachments",
    "DescribeTransitGatewayConnectPeers",
    "DescribeTransitGatewayConnects",
    "DescribeTransitGatewayMeteringPolicies",
    "DescribeTransitGatewayMulticastDomains",
    "DescribeTransitGatewayPeeringAttachments",
    "DescribeTransitGatewayPolicyTables",
    "DescribeTransitGatewayRouteTableAnnouncements",
    "DescribeTransitGatewayRouteTables",
    "DescribeTransitGatewayVpcAttachments",
    "DescribeTransitGateways",
    "DescribeTrunkInterfaceAssociations",
    "DescribeVerifiedAccessEndpoints",
    "DescribeVerifiedAccessGroups",
    "DescribeVerifiedAccessInstanceLoggingConfigurations",
    "DescribeVerifiedAccessInstances",
    "DescribeVerifiedAccessTrustProviders",
    "DescribeVolumeAttribute",
    "DescribeVolumeStatus",
    "DescribeVolumes",
    "DescribeVolumesModifications",
    "DescribeVpcAttribute",
    "DescribeVpcBlockPublicAccessExclusions",
    "DescribeVpcBlockPublicAccessOptions",
    "DescribeVpcClassicLink",
    "DescribeVpcClassicLinkDnsSupport",
    "DescribeVpcEncryptionControls",
    "DescribeVpcEndpointAssociations",
    "DescribeVpcEndpointConnectionNotifications",
    "DescribeVpcEndpointConnections",
    "DescribeVpcEndpointServiceConfigurations",
    "DescribeVpcEndpointServicePermissions",
    "DescribeVpcEndpointServices",
    "DescribeVpcEndpoints",
    "DescribeVpcPeeringConnections",
    "DescribeVpcs",
    "DescribeVpnConcentrators",
    "DescribeVpnConnections",
    "DescribeVpnGateways",
    "GetActiveVpnTunnelStatus",
    "GetAllowedImagesSettings",
    "GetAssociatedEnclaveCertificateIamRoles",
    "GetAssociatedIpv6PoolCidrs",
    "GetAwsNetworkPerformanceData",
    "GetCapacityManagerAttributes",
    "GetCapacityManagerMetricData",
    "GetCapacityManagerMetricDimensions",
    "GetCapacityManagerMonitoredTagKeys",
    "GetCapacityManagerSupportabilityScores",
    "GetCapacityReservationUsage",
    "GetClientVpnEndpointAuthorizationPolicy",
    "GetCoipPoolUsage",
    "GetConsoleOutput",
    "GetConsoleScreenshot",
    "GetDeclarativePoliciesReportSummary",
    "GetDefaultCreditSpecification",
    "GetEbsDefaultKmsKeyId",
    "GetEbsEncryptionByDefault",
    "GetEnabledIpamPolicy",
    "GetFlowLogsIntegrationTemplate",
    "GetGroupsForCapacityReservation",
    "GetHostReservationPurchasePreview",
    "GetImageAncestry",
    "GetImageBlockPublicAccessState",
    "GetImageFindings",
    "GetInstanceMetadataDefaults",
    "GetInstanceTpmEkPub",
    "GetInstanceTypesFromInstanceRequirements",
    "GetInstanceUefiData",
    "GetIpamAddressHistory",
    "GetIpamDiscoveredAccounts",
    "GetIpamDiscoveredPublicAddresses",
    "GetIpamDiscoveredResourceCidrs",
    "GetIpamDiscoveredRoutes",
    "GetIpamInternetRegistryAssociationAsns",
    "GetIpamInternetRegistryAssociationCidrs",
    "GetIpamPolicyAllocationRules",
    "GetIpamPolicyOrganizationTargets",
    "GetIpamPoolAllocations",
    "GetIpamPoolCidrs",
    "GetIpamPrefixListResolverRules",
    "GetIpamPrefixListResolverVersionEntries",
    "GetIpamPrefixListResolverVersions",
    "GetIpamResourceCidrs",
    "GetIpamRouteOriginAuthorizations",
    "GetIpamRouteProtectionFindings",
    "GetIpamRoutingPolicyRegistrationDeltas",
    "GetIpamRoutingPolicyRegistrations",
    "GetLaunchTemplateData",
    "GetManagedPrefixListAssociations",
    "GetManagedPrefixListEntries",
    "GetManagedResourceVisibility",
    "GetNetworkInsightsAccessScopeAnalysisFindings",
    "GetNetworkInsightsAccessScopeContent",
    "GetPasswordData",
    "GetReservedInstancesExchangeQuote",
    "GetRouteServerAssociations",
    "GetRouteServerPropagations",
    "GetRouteServerRoutingDatabase",
    "GetSecurityGroupsForVpc",
    "GetSerialConsoleAccessStatus",
    "GetSnapshotBlockPublicAccessState",
    "GetSpotPlacementScores",
    "GetSubnetCidrReservations",
    "GetTransitGatewayAttachmentNatConfiguration",
    "GetTransitGatewayAttachmentPropagations",
    "GetTransitGatewayMeteringPolicyEntries",
    "GetTransitGatewayMulticastDomainAssociations",
    "GetTransitGatewayPolicyTableAssociations",
    "GetTransitGatewayPolicyTableEntries",
    "GetTransitGatewayPrefixListReferences",
    "GetTransitGatewayRouteTableAssociations",
    "GetTransitGatewayRouteTablePropagations",
    "GetVerifiedAccessEndpointPolicy",
    "GetVerifiedAccessEndpointTargets",
    "GetVerifiedAccessGroupPolicy",
    "GetVpcResourcesBlockingEncryptionEnforcement",
    "GetVpnConnectionDeviceSampleConfiguration",
    "GetVpnConnectionDeviceTypes",
    "GetVpnTunnelReplacementStatus",
    "ListImagesInRecycleBin",
    "ListSnapshotsInRecycleBin",
    "ListVolumesInRecycleBin",
    "SearchLocalGatewayRoutes",
    "SearchTransitGatewayMulticastGroups",
    "SearchTransitGatewayRoutes",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "ec2",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "RunInstances",
                "DescribeInstances: every instance launched running, with the ClientToken sent",
                run_instances,
            ),
            rule("TerminateInstances", "DescribeInstances: every instance terminated", terminate_instances),
            rule("CreateSecurityGroup", "DescribeSecurityGroups: the new group id", create_security_group),
            rule(
                "AuthorizeSecurityGroupIngress",
                "DescribeSecurityGroups: every permission added",
                authorize_ingress,
            ),
            rule(
                "RevokeSecurityGroupIngress",
                "DescribeSecurityGroups: no permission revoked",
                revoke_ingress,
            ),
            rule("CreateVpc", "DescribeVpcs: the new VPC available", create_vpc),
            rule("CreateSubnet", "DescribeSubnets: the new subnet available", create_subnet),
            rule("CreateRouteTable", "DescribeRouteTables: the new route table id", create_route_table),
            rule(
                "CreateInternetGateway",
                "DescribeInternetGateways: the new internet gateway id",
                create_internet_gateway,
            ),
            rule(
                "CreateTags",
                "DescribeTags: every tag added to every resource, with its value",
                create_tags,
            ),
            rule("DeleteTags", "DescribeTags: no removed key on any resource", delete_tags),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

fn run_instances(ec2: &Client, input: &RunInstancesInput, output: &RunInstancesOutput) -> Vec<Check> {
    let ids: Vec<String> =
        output.instances().iter().filter_map(Instance::instance_id).map(String::from).collect();
    if ids.is_empty() {
        return Vec::new();
    }
    let token = input.client_token().map(String::from);
    let expected = match &token {
        Some(token) => {
            format!("DescribeInstances shows each instance running, launched with ClientToken {token}")
        }
        None => "DescribeInstances shows each instance running".to_string(),
    };
    let count = ids.len();
    vec![describe_instances("RunInstances", ec2, ids, expected, move |instances| {
        instances.len() == count
            && instances.iter().all(|i| {
                i.state().and_then(|s| s.name()) == Some(&InstanceStateName::Running)
                    && (token.is_none() || i.client_token() == token.as_deref())
            })
    })]
}

fn terminate_instances(
    ec2: &Client,
    input: &TerminateInstancesInput,
    _: &TerminateInstancesOutput,
) -> Vec<Check> {
    let ids = input.instance_ids().to_vec();
    if ids.is_empty() {
        return Vec::new();
    }
    let expected = "DescribeInstances shows each instance terminated".to_string();
    vec![describe_instances("TerminateInstances", ec2, ids, expected, |instances| {
        instances.iter().all(|i| i.state().and_then(|s| s.name()) == Some(&InstanceStateName::Terminated))
    })]
}

/// Polls DescribeInstances on `ids` (retrying InvalidInstanceID.NotFound) until `done` holds.
fn describe_instances(
    operation: &'static str,
    ec2: &Client,
    ids: Vec<String>,
    expected: String,
    done: impl Fn(&[&Instance]) -> bool + Send + Sync + 'static,
) -> Check {
    let (ec2, resource) = (ec2.clone(), ids.join(","));
    Check::new(
        operation,
        resource,
        expected,
        waiter::<DescribeInstancesOutput>()
            .success_when(move |o| {
                let instances: Vec<&Instance> = o.reservations().iter().flat_map(|r| r.instances()).collect();
                done(&instances)
            })
            .retry_on_error_code(INSTANCE_NOT_FOUND),
        move || ec2.describe_instances().set_instance_ids(Some(ids.clone())).send(),
    )
}

/// Polls DescribeSecurityGroups on `id` (retrying InvalidGroup.NotFound) until `done` holds for it.
fn describe_group(
    operation: &'static str,
    ec2: &Client,
    id: &str,
    expected: String,
    done: impl Fn(&[IpPermission]) -> bool + Send + Sync + 'static,
) -> Check {
    let (ec2, group) = (ec2.clone(), id.to_string());
    Check::new(
        operation,
        id,
        expected,
        waiter::<DescribeSecurityGroupsOutput>()
            .success_when(move |o| o.security_groups().iter().any(|g| done(g.ip_permissions())))
            .retry_on_error_code(GROUP_NOT_FOUND),
        move || ec2.describe_security_groups().group_ids(&group).send(),
    )
}

fn create_security_group(
    ec2: &Client,
    _: &CreateSecurityGroupInput,
    output: &CreateSecurityGroupOutput,
) -> Vec<Check> {
    let Some(id) = output.group_id() else { return Vec::new() };
    vec![describe_group("CreateSecurityGroup", ec2, id, "DescribeSecurityGroups finds it".into(), |_| true)]
}

/// Whether `present` holds `wanted`'s protocol, ports and every CIDR range it names.
fn holds(present: &[IpPermission], wanted: &IpPermission) -> bool {
    present.iter().any(|p| {
        p.ip_protocol() == wanted.ip_protocol()
            && p.from_port() == wanted.from_port()
            && p.to_port() == wanted.to_port()
            && wanted.ip_ranges().iter().all(|w| p.ip_ranges().iter().any(|r| r.cidr_ip() == w.cidr_ip()))
    })
}

fn authorize_ingress(
    ec2: &Client,
    input: &AuthorizeSecurityGroupIngressInput,
    _: &AuthorizeSecurityGroupIngressOutput,
) -> Vec<Check> {
    let Some(id) = input.group_id() else { return Vec::new() };
    let wanted = input.ip_permissions().to_vec();
    let expected = format!("DescribeSecurityGroups shows the {} permission(s) added", wanted.len());
    vec![describe_group("AuthorizeSecurityGroupIngress", ec2, id, expected, move |present| {
        wanted.iter().all(|w| holds(present, w))
    })]
}

fn revoke_ingress(
    ec2: &Client,
    input: &RevokeSecurityGroupIngressInput,
    _: &RevokeSecurityGroupIngressOutput,
) -> Vec<Check> {
    let Some(id) = input.group_id() else { return Vec::new() };
    let revoked = input.ip_permissions().to_vec();
    let expected =
        format!("DescribeSecurityGroups shows none of the {} permission(s) revoked", revoked.len());
    vec![describe_group("RevokeSecurityGroupIngress", ec2, id, expected, move |present| {
        revoked.iter().all(|r| !holds(present, r))
    })]
}

fn create_vpc(ec2: &Client, _: &CreateVpcInput, output: &CreateVpcOutput) -> Vec<Check> {
    let Some(id) = output.vpc().and_then(|v| v.vpc_id()) else { return Vec::new() };
    let (client, vpc) = (ec2.clone(), id.to_string());
    vec![Check::new(
        "CreateVpc",
        id,
        "DescribeVpcs shows it available",
        waiter::<DescribeVpcsOutput>()
            .success_when(|o| o.vpcs().iter().any(|v| v.state() == Some(&VpcState::Available)))
            .retry_on_error_code("InvalidVpcID.NotFound"),
        move || client.describe_vpcs().vpc_ids(&vpc).send(),
    )]
}

fn create_subnet(ec2: &Client, _: &CreateSubnetInput, output: &CreateSubnetOutput) -> Vec<Check> {
    let Some(id) = output.subnet().and_then(|s| s.subnet_id()) else { return Vec::new() };
    let (client, subnet) = (ec2.clone(), id.to_string());
    vec![Check::new(
        "CreateSubnet",
        id,
        "DescribeSubnets shows it available",
        waiter::<DescribeSubnetsOutput>()
            .success_when(|o| o.subnets().iter().any(|s| s.state() == Some(&SubnetState::Available)))
            .retry_on_error_code("InvalidSubnetID.NotFound"),
        move || client.describe_subnets().subnet_ids(&subnet).send(),
    )]
}

fn create_route_table(
    ec2: &Client,
    _: &CreateRouteTableInput,
    output: &CreateRouteTableOutput,
) -> Vec<Check> {
    let Some(id) = output.route_table().and_then(|t| t.route_table_id()) else { return Vec::new() };
    let (client, table) = (ec2.clone(), id.to_string());
    vec![Check::new(
        "CreateRouteTable",
        id,
        "DescribeRouteTables finds it",
        waiter::<DescribeRouteTablesOutput>()
            .success_when(|o| !o.route_tables().is_empty())
            .retry_on_error_code("InvalidRouteTableID.NotFound"),
        move || client.describe_route_tables().route_table_ids(&table).send(),
    )]
}

fn create_internet_gateway(
    ec2: &Client,
    _: &CreateInternetGatewayInput,
    output: &CreateInternetGatewayOutput,
) -> Vec<Check> {
    let Some(id) = output.internet_gateway().and_then(|g| g.internet_gateway_id()) else { return Vec::new() };
    let (client, gateway) = (ec2.clone(), id.to_string());
    vec![Check::new(
        "CreateInternetGateway",
        id,
        "DescribeInternetGateways finds it",
        waiter::<DescribeInternetGatewaysOutput>()
            .success_when(|o| !o.internet_gateways().is_empty())
            .retry_on_error_code("InvalidInternetGatewayID.NotFound"),
        move || client.describe_internet_gateways().internet_gateway_ids(&gateway).send(),
    )]
}

/// Polls DescribeTags on one resource until `done` holds for its `(key, value)` tags. A resource
/// still propagating answers its own NotFound code to CreateTags, not to DescribeTags (which
/// lists nothing for it), so no code is retried here.
fn describe_tags(
    operation: &'static str,
    ec2: &Client,
    resource: &str,
    expected: String,
    done: impl Fn(Vec<(&str, &str)>) -> bool + Send + Sync + 'static,
) -> Check {
    let (client, id) = (ec2.clone(), resource.to_string());
    Check::new(
        operation,
        resource,
        expected,
        waiter::<DescribeTagsOutput>().success_when(move |o| {
            done(o.tags().iter().map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))).collect())
        }),
        move || {
            client.describe_tags().filters(Filter::builder().name("resource-id").values(&id).build()).send()
        },
    )
}

fn create_tags(ec2: &Client, input: &CreateTagsInput, _: &CreateTagsOutput) -> Vec<Check> {
    let wanted: Vec<(String, String)> = input
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or("").to_string(), t.value().unwrap_or("").to_string()))
        .collect();
    let expected = format!("DescribeTags shows {}", show_tags(&wanted));
    input
        .resources()
        .iter()
        .map(|resource| {
            let wanted = wanted.clone();
            describe_tags("CreateTags", ec2, resource, expected.clone(), move |tags| has_tags(tags, &wanted))
        })
        .collect()
}

fn delete_tags(ec2: &Client, input: &DeleteTagsInput, _: &DeleteTagsOutput) -> Vec<Check> {
    let keys: Vec<String> = input.tags().iter().filter_map(|t| t.key()).map(String::from).collect();
    let expected = format!("DescribeTags shows none of {}", keys.join(", "));
    input
        .resources()
        .iter()
        .map(|resource| {
            let keys = keys.clone();
            describe_tags("DeleteTags", ec2, resource, expected.clone(), move |tags| {
                lacks_keys(tags.into_iter().map(|(k, _)| k), &keys)
            })
        })
        .collect()
}
