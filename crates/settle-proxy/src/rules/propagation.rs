//! Cross-service propagation, as data: which IAM writes make a principal (a role, an instance
//! profile) new to other services, and how each consumer service refuses a principal it does
//! not see yet, in its own error shape and wording.
//!
//! AWS answers a consumer call that names a role or instance profile created (or changed) a
//! moment before with an error of its own: Lambda cannot assume the role, EC2 finds no such
//! instance profile, KMS, SNS and SQS reject the policy's principal. moto accepts them at once.

use super::{DEFAULT_ACCOUNT, Key, KeyFrom as K};
use crate::protocol::ParsedRequest;

/// The principal classes the table names.
pub(crate) const ROLE: &str = "iam-role";
pub(crate) const PROFILE: &str = "iam-instance-profile";

/// An IAM write that makes a principal new to its consumers for the write's lag (or hold).
#[derive(Debug)]
pub(crate) struct Producer {
    pub op: &'static str,
    pub class: &'static str,
    pub key: K,
}

/// How a consumer request names principals.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Names {
    /// A field holding a role ARN: a JSON field (Lambda `Role`) or a query parameter (STS
    /// `RoleArn`).
    RoleArn(&'static str),
    /// EC2 `IamInstanceProfile.Name` or `IamInstanceProfile.Arn`.
    InstanceProfile,
    /// A JSON field holding a policy document: its `Principal.AWS` role ARNs (KMS `Policy`).
    PolicyJson(&'static str),
    /// A policy among the attributes of the request (SQS JSON `Attributes.Policy`; SNS query
    /// `Attributes.entry.N` or `AttributeName=Policy` + `AttributeValue`).
    PolicyAttribute,
}

/// How the refusal is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The request's protocol, as for any other error the proxy renders.
    Protocol,
    /// EC2's own query errors: `<Response><Errors><Error>…</Errors><RequestID>`.
    Ec2,
    /// The request's protocol with status 403, as access errors are (STS `AccessDenied`).
    Denied,
}

/// A consumer operation that refuses a principal still propagating.
#[derive(Debug)]
pub(crate) struct Consumer {
    pub service: &'static str,
    pub op: &'static str,
    pub names: Names,
    pub code: &'static str,
    /// The message; `{name}` is the principal as sent, `{field}`/`{kind}` how it was sent
    /// (`name`/`name`, or `arn`/`ARN` for an ARN): see [`message`].
    pub message: &'static str,
    pub shape: Shape,
}

const ROLE_NAME: K = K::Query("RoleName");
const PROFILE_NAME: K = K::Query("InstanceProfileName");

/// IAM writes after which a principal is not yet usable by other services.
pub(crate) const PRODUCERS: &[Producer] = &[
    Producer { op: "CreateRole", class: ROLE, key: ROLE_NAME },
    Producer { op: "UpdateAssumeRolePolicy", class: ROLE, key: ROLE_NAME },
    Producer { op: "PutRolePolicy", class: ROLE, key: ROLE_NAME },
    Producer { op: "AttachRolePolicy", class: ROLE, key: ROLE_NAME },
    Producer { op: "CreateInstanceProfile", class: PROFILE, key: PROFILE_NAME },
    Producer { op: "AddRoleToInstanceProfile", class: PROFILE, key: PROFILE_NAME },
];

const LAMBDA_ROLE: &str = "The role defined for the function cannot be assumed by Lambda.";
const KMS_PRINCIPALS: &str = "Policy contains a statement with one or more invalid principals.";
const SNS_PRINCIPAL: &str = "Invalid parameter: Policy Error: PrincipalNotFound";
const SQS_POLICY: &str = "Invalid value for the parameter Policy.";

/// Consumer calls and their refusals (wording as AWS answers, and as Terraform's AWS provider
/// matches it in its retries).
pub(crate) const CONSUMERS: &[Consumer] = &[
    Consumer {
        service: "lambda",
        op: "CreateFunction",
        names: Names::RoleArn("Role"),
        code: "InvalidParameterValueException",
        message: LAMBDA_ROLE,
        shape: Shape::Protocol,
    },
    Consumer {
        service: "lambda",
        op: "UpdateFunctionConfiguration",
        names: Names::RoleArn("Role"),
        code: "InvalidParameterValueException",
        message: LAMBDA_ROLE,
        shape: Shape::Protocol,
    },
    Consumer {
        service: "ec2",
        op: "RunInstances",
        names: Names::InstanceProfile,
        code: "InvalidParameterValue",
        // EC2 names the field the request used: `.name` with a name, `.arn` with an ARN.
        message: "Value ({name}) for parameter iamInstanceProfile.{field} is invalid. Invalid IAM Instance Profile {kind}",
        shape: Shape::Ec2,
    },
    Consumer {
        service: "kms",
        op: "CreateKey",
        names: Names::PolicyJson("Policy"),
        code: "MalformedPolicyDocumentException",
        message: KMS_PRINCIPALS,
        shape: Shape::Protocol,
    },
    Consumer {
        service: "kms",
        op: "PutKeyPolicy",
        names: Names::PolicyJson("Policy"),
        code: "MalformedPolicyDocumentException",
        message: KMS_PRINCIPALS,
        shape: Shape::Protocol,
    },
    Consumer {
        service: "sns",
        op: "CreateTopic",
        names: Names::PolicyAttribute,
        code: "InvalidParameter",
        message: SNS_PRINCIPAL,
        shape: Shape::Protocol,
    },
    Consumer {
        service: "sns",
        op: "SetTopicAttributes",
        names: Names::PolicyAttribute,
        code: "InvalidParameter",
        message: SNS_PRINCIPAL,
        shape: Shape::Protocol,
    },
    Consumer {
        service: "sqs",
        op: "CreateQueue",
        names: Names::PolicyAttribute,
        code: "InvalidAttributeValue",
        message: SQS_POLICY,
        shape: Shape::Protocol,
    },
    Consumer {
        service: "sqs",
        op: "SetQueueAttributes",
        names: Names::PolicyAttribute,
        code: "InvalidAttributeValue",
        message: SQS_POLICY,
        shape: Shape::Protocol,
    },
    // A role that trusts the caller, assumed before STS sees it (the probe behind
    // `aws_settle::propagate::Propagation::until_assumable`).
    Consumer {
        service: "sts",
        op: "AssumeRole",
        names: Names::RoleArn("RoleArn"),
        code: "AccessDenied",
        message: "User: arn:aws:iam::123456789012:user/settle is not authorized to perform: sts:AssumeRole on resource: {name}",
        shape: Shape::Denied,
    },
];

/// The refusal's message for the principal as the request named it.
pub(crate) fn message(consumer: &Consumer, sent: &str) -> String {
    let (field, kind) = if sent.starts_with("arn:") { ("arn", "ARN") } else { ("name", "name") };
    consumer.message.replace("{name}", sent).replace("{field}", field).replace("{kind}", kind)
}

/// The principal keys an IAM write makes new to its consumers.
pub(crate) fn produced(req: &ParsedRequest) -> Vec<Key> {
    if req.info.service != "iam" {
        return Vec::new();
    }
    PRODUCERS
        .iter()
        .filter(|p| p.op == req.info.operation)
        .flat_map(|p| super::keys(p.key, p.class, req))
        .collect()
}

/// The consumer rule of a request, and the principals it names: `(key, name as sent)`.
pub(crate) fn consumed(req: &ParsedRequest) -> Option<(&'static Consumer, Vec<(Key, String)>)> {
    let consumer = CONSUMERS.iter().find(|c| c.service == req.info.service && c.op == req.info.operation)?;
    let named = match consumer.names {
        Names::RoleArn(field) => {
            req.json_str(field).or_else(|| req.param(field)).and_then(role_key).into_iter().collect()
        }
        Names::InstanceProfile => {
            let by_name = req.param("IamInstanceProfile.Name").map(|n| (n.to_string(), n.to_string()));
            let by_arn = req
                .param("IamInstanceProfile.Arn")
                .and_then(|arn| Some((arn.split_once(":instance-profile/")?.1.rsplit('/').next()?, arn)))
                .map(|(name, arn)| (name.to_string(), arn.to_string()));
            by_name.into_iter().chain(by_arn).map(|(name, sent)| (key(PROFILE, name), sent)).collect()
        }
        Names::PolicyJson(field) => req.json_str(field).map(policy_roles).unwrap_or_default(),
        Names::PolicyAttribute => policy_attribute(req).map(|p| policy_roles(&p)).unwrap_or_default(),
    };
    Some((consumer, named))
}

fn key(class: &'static str, name: String) -> Key {
    Key { class, reference: vec![name.clone()], name }
}

/// `arn:aws:iam::ACCOUNT:role/path/NAME` names the role `NAME` (the default account only: a
/// role of another account is not one the proxy saw created).
fn role_key(arn: &str) -> Option<(Key, String)> {
    let (head, path) = arn.split_once(":role/")?;
    if !head.starts_with("arn:aws:iam::") || !head.ends_with(DEFAULT_ACCOUNT) {
        return None;
    }
    let name = path.rsplit('/').next().filter(|n| !n.is_empty())?;
    Some((key(ROLE, name.to_string()), arn.to_string()))
}

/// The role principals (`Principal.AWS`, a string or a list) of a policy document.
fn policy_roles(policy: &str) -> Vec<(Key, String)> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(policy) else { return Vec::new() };
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for principal in statements.iter().filter_map(|s| s.get("Principal")?.get("AWS")) {
        let arns: Vec<&str> = match principal {
            serde_json::Value::String(one) => vec![one.as_str()],
            serde_json::Value::Array(list) => list.iter().filter_map(|a| a.as_str()).collect(),
            _ => Vec::new(),
        };
        out.extend(arns.into_iter().filter_map(role_key));
    }
    out
}

/// The `Policy` attribute of an SQS (JSON) or SNS (query) request.
fn policy_attribute(req: &ParsedRequest) -> Option<String> {
    if let Some(policy) = req.json.as_ref().and_then(|j| j.get("Attributes")?.get("Policy")?.as_str()) {
        return Some(policy.to_string());
    }
    if req.param("AttributeName") == Some("Policy") {
        return req.param("AttributeValue").map(str::to_string);
    }
    // `Attributes.entry.N.key=Policy` with `Attributes.entry.N.value`.
    let entry = req.params.iter().find_map(|(k, v)| {
        (v == "Policy").then(|| k.strip_prefix("Attributes.entry.")?.strip_suffix(".key")).flatten()
    })?;
    req.param(&format!("Attributes.entry.{entry}.value")).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Protocol, RequestInfo};

    fn request(
        service: &str,
        op: &str,
        json: Option<serde_json::Value>,
        params: &[(&str, &str)],
    ) -> ParsedRequest {
        let info = RequestInfo {
            service: service.into(),
            operation: op.into(),
            resource: None,
            protocol: Protocol::Query,
        };
        let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ParsedRequest { info, target_prefix: None, json, params, s3: None, region: None }
    }

    fn names(req: &ParsedRequest) -> Vec<String> {
        consumed(req).map(|(_, n)| n.into_iter().map(|(k, _)| k.id()).collect()).unwrap_or_default()
    }

    #[test]
    fn consumers_name_roles_and_profiles_wherever_their_service_puts_them() {
        let role = "arn:aws:iam::123456789012:role/service/app-fn";
        let lambda = request("lambda", "CreateFunction", Some(serde_json::json!({ "Role": role })), &[]);
        assert_eq!(names(&lambda), ["iam-role:app-fn"]);
        let other = "arn:aws:iam::210987654321:role/app-fn";
        let lambda = request("lambda", "CreateFunction", Some(serde_json::json!({ "Role": other })), &[]);
        assert!(names(&lambda).is_empty(), "another account's role");
        let ec2 = request("ec2", "RunInstances", None, &[("IamInstanceProfile.Name", "web")]);
        assert_eq!(names(&ec2), ["iam-instance-profile:web"]);
        let arn = "arn:aws:iam::123456789012:instance-profile/p/web";
        let ec2 = request("ec2", "RunInstances", None, &[("IamInstanceProfile.Arn", arn)]);
        assert_eq!(names(&ec2), ["iam-instance-profile:web"]);
        let (run, _) = consumed(&ec2).unwrap();
        assert_eq!(
            message(run, arn),
            format!(
                "Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
            )
        );
        assert_eq!(
            message(run, "web"),
            "Value (web) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
        );
        let policy = serde_json::json!({ "Statement": [
            { "Principal": { "AWS": [role, "*"] } }, { "Principal": { "Service": "x" } }
        ] })
        .to_string();
        let kms = request("kms", "CreateKey", Some(serde_json::json!({ "Policy": policy })), &[]);
        assert_eq!(names(&kms), ["iam-role:app-fn"]);
        let sqs = request(
            "sqs",
            "SetQueueAttributes",
            Some(serde_json::json!({ "Attributes": { "Policy": policy } })),
            &[],
        );
        assert_eq!(names(&sqs), ["iam-role:app-fn"]);
        let sns = request(
            "sns",
            "SetTopicAttributes",
            None,
            &[("AttributeName", "Policy"), ("AttributeValue", &policy)],
        );
        assert_eq!(names(&sns), ["iam-role:app-fn"]);
        let sns = request(
            "sns",
            "CreateTopic",
            None,
            &[("Attributes.entry.2.key", "Policy"), ("Attributes.entry.2.value", &policy)],
        );
        assert_eq!(names(&sns), ["iam-role:app-fn"]);
        assert!(consumed(&request("lambda", "GetFunction", None, &[])).is_none());
    }

    #[test]
    fn producers_name_the_principal_they_change() {
        let attach = request("iam", "AttachRolePolicy", None, &[("RoleName", "r"), ("PolicyArn", "arn:p")]);
        assert_eq!(produced(&attach).iter().map(Key::id).collect::<Vec<_>>(), ["iam-role:r"]);
        let add = request(
            "iam",
            "AddRoleToInstanceProfile",
            None,
            &[("RoleName", "r"), ("InstanceProfileName", "p")],
        );
        assert_eq!(produced(&add).iter().map(Key::id).collect::<Vec<_>>(), ["iam-instance-profile:p"]);
        assert!(produced(&request("iam", "GetRole", None, &[("RoleName", "r")])).is_empty());
    }
}
