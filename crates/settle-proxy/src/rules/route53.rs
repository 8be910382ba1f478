//! Route 53 (restXml, operations named by method and path): a change (to record sets, or a
//! hosted zone's creation or deletion) is `PENDING` in GetChange until its lag ends, then
//! `INSYNC`, as AWS's changes are until every authoritative DNS server has them.
//! ListResourceRecordSets shows a change at once, as on AWS: only its propagation lags.
//!
//! moto answers every change with one fixed id, so the proxy names each change itself: the id
//! (`C` and 16 hex digits) is made from the SDK's invocation id (kept across retries of one
//! call), else from the signature and body, and put in the write's answer. A change is keyed
//! `route53-change:ID`.

use std::hash::{Hash, Hasher};

use super::{
    ErrorShape, Hooks, KeyFrom as K, Read, Route, ServiceRules, StatusLag, Template as T, Wire, Write,
    WriteKind as W,
};
use crate::protocol::{ParsedRequest, StoredResponse};

const CHANGE: &str = "route53-change";
/// The parameter the parse puts a change's id in (the proxy's own, for writes).
pub(crate) const CHANGE_ID: &str = "ChangeId";
const PENDING: StatusLag =
    StatusLag { status: "PENDING", read: "GetChange", from_snapshot: false, blocks: &[] };

/// A change the proxy lags: GetChange shows it PENDING.
const RECORDS: Write = Write {
    op: "ChangeResourceRecordSets",
    class: CHANGE,
    key: K::Query(CHANGE_ID),
    kind: W::Update,
    reads: &[],
    status: Some(PENDING),
    tagging: false,
};

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "route53",
    writes: &[
        RECORDS,
        Write { op: "CreateHostedZone", kind: W::Create, ..RECORDS },
        Write { op: "DeleteHostedZone", kind: W::Delete, ..RECORDS },
    ],
    reads: &[Read {
        op: "GetChange",
        class: CHANGE,
        key: K::Query(CHANGE_ID),
        // Never issued: no write snapshots GetChange (its status window rewrites the live answer).
        template: T::Query(""),
        variant: None,
    }],
    hooks: Hooks { show_status: Some(show_change_status), answer: Some(name_the_change), ..Hooks::NONE },
    tag_view: None,
    wire: Wire {
        routes: ROUTES,
        // Route 53's own throttling code (in the SDK's and botocore's throttling lists).
        throttle: Some(ErrorShape { status: 400, code: "Throttling", message: "Rate exceeded" }),
        error_namespace: Some("https://route53.amazonaws.com/doc/2013-04-01/"),
        parsed: Some(name_a_change),
        ..Wire::DEFAULT
    },
};

/// Route 53's operations by method and path, as its Smithy model binds them (`{ChangeId}` is
/// [`CHANGE_ID`]).
const ROUTES: &[Route] = &[
    Route { method: "POST", path: "/2013-04-01/hostedzone", op: "CreateHostedZone" },
    Route { method: "GET", path: "/2013-04-01/hostedzone", op: "ListHostedZones" },
    Route { method: "GET", path: "/2013-04-01/hostedzone/{Id}", op: "GetHostedZone" },
    Route { method: "POST", path: "/2013-04-01/hostedzone/{Id}", op: "UpdateHostedZoneComment" },
    Route { method: "DELETE", path: "/2013-04-01/hostedzone/{Id}", op: "DeleteHostedZone" },
    Route {
        method: "POST",
        path: "/2013-04-01/hostedzone/{HostedZoneId}/rrset",
        op: "ChangeResourceRecordSets",
    },
    Route {
        method: "GET",
        path: "/2013-04-01/hostedzone/{HostedZoneId}/rrset",
        op: "ListResourceRecordSets",
    },
    Route {
        method: "POST",
        path: "/2013-04-01/hostedzone/{HostedZoneId}/associatevpc",
        op: "AssociateVPCWithHostedZone",
    },
    Route {
        method: "POST",
        path: "/2013-04-01/hostedzone/{HostedZoneId}/disassociatevpc",
        op: "DisassociateVPCFromHostedZone",
    },
    Route { method: "GET", path: "/2013-04-01/hostedzone/{HostedZoneId}/dnssec", op: "GetDNSSEC" },
    Route { method: "GET", path: "/2013-04-01/hostedzonecount", op: "GetHostedZoneCount" },
    Route { method: "GET", path: "/2013-04-01/hostedzonesbyname", op: "ListHostedZonesByName" },
    Route { method: "GET", path: "/2013-04-01/hostedzonesbyvpc", op: "ListHostedZonesByVPC" },
    Route { method: "GET", path: "/2013-04-01/change/{ChangeId}", op: "GetChange" },
    Route { method: "POST", path: "/2013-04-01/healthcheck", op: "CreateHealthCheck" },
    Route { method: "GET", path: "/2013-04-01/healthcheck", op: "ListHealthChecks" },
    Route { method: "GET", path: "/2013-04-01/healthcheck/{HealthCheckId}", op: "GetHealthCheck" },
    Route { method: "POST", path: "/2013-04-01/healthcheck/{HealthCheckId}", op: "UpdateHealthCheck" },
    Route { method: "DELETE", path: "/2013-04-01/healthcheck/{HealthCheckId}", op: "DeleteHealthCheck" },
    Route {
        method: "GET",
        path: "/2013-04-01/healthcheck/{HealthCheckId}/status",
        op: "GetHealthCheckStatus",
    },
    Route {
        method: "POST",
        path: "/2013-04-01/tags/{ResourceType}/{ResourceId}",
        op: "ChangeTagsForResource",
    },
    Route { method: "GET", path: "/2013-04-01/tags/{ResourceType}/{ResourceId}", op: "ListTagsForResource" },
    Route { method: "POST", path: "/2013-04-01/tags/{ResourceType}", op: "ListTagsForResources" },
    Route { method: "POST", path: "/2013-04-01/queryloggingconfig", op: "CreateQueryLoggingConfig" },
    Route { method: "GET", path: "/2013-04-01/queryloggingconfig", op: "ListQueryLoggingConfigs" },
    Route { method: "GET", path: "/2013-04-01/queryloggingconfig/{Id}", op: "GetQueryLoggingConfig" },
    Route { method: "DELETE", path: "/2013-04-01/queryloggingconfig/{Id}", op: "DeleteQueryLoggingConfig" },
    Route { method: "POST", path: "/2013-04-01/delegationset", op: "CreateReusableDelegationSet" },
    Route { method: "GET", path: "/2013-04-01/delegationset", op: "ListReusableDelegationSets" },
    Route { method: "GET", path: "/2013-04-01/delegationset/{Id}", op: "GetReusableDelegationSet" },
    Route { method: "DELETE", path: "/2013-04-01/delegationset/{Id}", op: "DeleteReusableDelegationSet" },
];

/// Adds the id the proxy gives the change a write makes to the write's parameters.
fn name_a_change(parsed: &mut ParsedRequest, headers: &http::HeaderMap, body: &[u8]) {
    if makes_a_change(&parsed.info.operation) {
        parsed.params.push((CHANGE_ID.to_string(), change_id(headers, body)));
    }
}

/// The id the proxy gives the change a write makes: the same for every attempt of one SDK call
/// (same `amz-sdk-invocation-id`), else for the same signed request.
fn change_id(headers: &http::HeaderMap, body: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    match crate::protocol::header_str(headers, "amz-sdk-invocation-id") {
        Some(invocation) => invocation.hash(&mut hasher),
        None => {
            crate::protocol::header_str(headers, "authorization").hash(&mut hasher);
            crate::protocol::header_str(headers, "x-amz-date").hash(&mut hasher);
            body.hash(&mut hasher);
        }
    }
    format!("C{:016X}", hasher.finish())
}

/// Whether `op` answers with a `ChangeInfo` (the writes whose change the proxy names).
fn makes_a_change(op: &str) -> bool {
    RULES.writes.iter().any(|w| w.op == op)
}

/// Puts the proxy's change id in a write's `ChangeInfo`.
fn name_the_change(req: &ParsedRequest, response: &mut StoredResponse) {
    let Some(id) = req.param(CHANGE_ID) else { return };
    let Ok(body) = std::str::from_utf8(&response.body) else { return };
    let Some(start) = body.find("<ChangeInfo>") else { return };
    let Some(open) = body[start..].find("<Id>").map(|i| start + i + "<Id>".len()) else { return };
    let Some(close) = body[open..].find("</Id>").map(|i| open + i) else { return };
    response.body = format!("{}/change/{id}{}", &body[..open], &body[close..]).into();
}

/// Shows `status` as the `ChangeInfo` status of an answer (a write's, or GetChange's).
fn show_change_status(response: &mut StoredResponse, status: &str) -> bool {
    let Ok(body) = std::str::from_utf8(&response.body) else { return false };
    let insync = "<Status>INSYNC</Status>";
    if !body.contains(insync) {
        return false;
    }
    response.body = body.replacen(insync, &format!("<Status>{status}</Status>"), 1).into();
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn operations_come_from_method_and_path_with_their_parameters() {
        let op = |m: Method, p: &str| super::super::route("route53", m.as_str(), p);
        assert_eq!(
            op(Method::POST, "/2013-04-01/hostedzone/Z1/rrset/"),
            Some(("ChangeResourceRecordSets", vec![("HostedZoneId".into(), "Z1".into())]))
        );
        assert_eq!(
            op(Method::GET, "/2013-04-01/change/C2"),
            Some(("GetChange", vec![(CHANGE_ID.into(), "C2".into())]))
        );
        assert_eq!(op(Method::POST, "/2013-04-01/hostedzone").map(|o| o.0), Some("CreateHostedZone"));
        assert_eq!(op(Method::DELETE, "/2013-04-01/hostedzone/Z1").map(|o| o.0), Some("DeleteHostedZone"));
        assert_eq!(
            op(Method::GET, "/2013-04-01/tags/hostedzone/Z1").map(|o| o.1),
            Some(vec![("ResourceType".into(), "hostedzone".into()), ("ResourceId".into(), "Z1".into())])
        );
        assert_eq!(op(Method::PUT, "/2013-04-01/hostedzone"), None);
        assert_eq!(op(Method::GET, "/2013-04-01/nothing/here"), None);
        assert_eq!(op(Method::GET, "/"), None);
    }

    #[test]
    fn a_change_answer_gets_the_proxys_id_and_the_lagging_status() {
        let body = "<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id>\
                    <Status>INSYNC</Status></ChangeInfo></ChangeResourceRecordSetsResponse>";
        let mut response = StoredResponse::new(http::StatusCode::OK, "text/xml", body);
        let mut req = crate::protocol::parse(
            &Method::POST,
            &"/2013-04-01/hostedzone/Z1/rrset".parse().unwrap(),
            &http::HeaderMap::new(),
            b"",
        );
        req.params.push((CHANGE_ID.into(), "C00000000000000AB".into()));
        name_the_change(&req, &mut response);
        assert!(show_change_status(&mut response, "PENDING"));
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert!(text.contains("<Id>/change/C00000000000000AB</Id><Status>PENDING</Status>"), "{text}");
        assert!(!show_change_status(&mut response, "PENDING"), "nothing INSYNC is left to rewrite");
    }

    #[test]
    fn one_call_keeps_its_change_id_across_retries_and_two_calls_get_two() {
        let headers = |invocation: &str| {
            let mut h = http::HeaderMap::new();
            h.insert("amz-sdk-invocation-id", invocation.parse().unwrap());
            h
        };
        assert_eq!(change_id(&headers("a"), b"x"), change_id(&headers("a"), b"x"));
        assert_ne!(change_id(&headers("a"), b"x"), change_id(&headers("b"), b"x"));
        assert_ne!(change_id(&http::HeaderMap::new(), b"x"), change_id(&http::HeaderMap::new(), b"y"));
        assert_eq!(change_id(&headers("a"), b"").len(), 17);
    }
}
