//! SSM Parameter Store: parameters and their tags.

use super::{Hooks, Key, KeyFrom as K, Read, ServiceRules, TagView, Template as T, Write, WriteKind as W};

const PARAM: &str = "ssm-parameter";
const TAGGED: K = K::JsonIf("ResourceId", "ResourceType", "Parameter");
const VALUE_READS: &[&str] = &["GetParameter", "ListTagsForResource"];

pub(crate) static RULES: ServiceRules = ServiceRules {
    service: "ssm",
    writes: &[
        Write {
            op: "PutParameter",
            class: PARAM,
            key: K::Parameter("Name"),
            kind: W::Put,
            reads: VALUE_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteParameter",
            class: PARAM,
            key: K::Parameter("Name"),
            kind: W::Delete,
            reads: VALUE_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "DeleteParameters",
            class: PARAM,
            key: K::JsonList("Names"),
            kind: W::Delete,
            reads: VALUE_READS,
            status: None,
            tagging: false,
        },
        Write {
            op: "LabelParameterVersion",
            class: PARAM,
            key: K::Parameter("Name"),
            kind: W::Update,
            reads: &["GetParameter"],
            status: None,
            tagging: false,
        },
        Write {
            op: "AddTagsToResource",
            class: PARAM,
            key: TAGGED,
            kind: W::Tag,
            reads: &["ListTagsForResource"],
            status: None,
            tagging: true,
        },
        Write {
            op: "RemoveTagsFromResource",
            class: PARAM,
            key: TAGGED,
            kind: W::Tag,
            reads: &["ListTagsForResource"],
            status: None,
            tagging: true,
        },
    ],
    reads: &[
        Read {
            op: "GetParameter",
            class: PARAM,
            key: K::Parameter("Name"),
            template: T::Json(r#"{"Name":{0},"WithDecryption":{v}}"#),
            variant: Some("WithDecryption"),
        },
        Read {
            op: "ListTagsForResource",
            class: PARAM,
            key: TAGGED,
            template: T::Json(r#"{"ResourceType":"Parameter","ResourceId":{0}}"#),
            variant: None,
        },
    ],
    hooks: Hooks::NONE,
    tag_view: Some(TagView { type_filter: "ssm:parameter", names: parameter_arn }),
    wire: super::Wire::DEFAULT,
};

/// `arn:aws:ssm:r:a:parameter/NAME` names `/NAME` and `NAME`.
fn parameter_arn(key: &Key, arn: &str) -> bool {
    let name = key.name.trim_start_matches('/');
    arn.starts_with("arn:") && arn.split_once(":parameter/").is_some_and(|(_, n)| n == name)
}
