//! KMS: keys (found, their state and policy), tags and scheduled deletion.
//!
//! KMS answers from several hosts that do not all see a change at once, so each check needs 5
//! matching reads in a row, as Terraform's AWS provider asks of a new key.

use aws_sdk_kms::Client;
use aws_sdk_kms::operation::create_key::{CreateKeyInput, CreateKeyOutput};
use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
use aws_sdk_kms::operation::disable_key::{DisableKeyInput, DisableKeyOutput};
use aws_sdk_kms::operation::enable_key::{EnableKeyInput, EnableKeyOutput};
use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
use aws_sdk_kms::operation::list_resource_tags::ListResourceTagsOutput;
use aws_sdk_kms::operation::put_key_policy::{PutKeyPolicyInput, PutKeyPolicyOutput};
use aws_sdk_kms::operation::schedule_key_deletion::{ScheduleKeyDeletionInput, ScheduleKeyDeletionOutput};
use aws_sdk_kms::operation::tag_resource::{TagResourceInput, TagResourceOutput};
use aws_sdk_kms::operation::untag_resource::{UntagResourceInput, UntagResourceOutput};
use aws_sdk_kms::types::{KeyMetadata, KeyState, Tag};

use super::{has_tags, lacks_keys, rule, same_json, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;
use crate::wait::Waiter;

/// Matching reads in a row before a key change counts (Terraform's AWS provider: 5).
pub(crate) const READS_IN_A_ROW: u32 = 5;
const NOT_FOUND: &str = "NotFoundException";

/// Operations that change nothing (the cryptographic operations compute; they change no key).
const READS: &[&str] = &[
    "Decrypt",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "kms",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "CreateKey",
                "DescribeKey: found, 5 reads in a row; ListResourceTags: the tags given",
                create_key,
            ),
            rule("EnableKey", "DescribeKey: KeyState Enabled, 5 reads in a row", enable_key),
            rule("DisableKey", "DescribeKey: KeyState Disabled, 5 reads in a row", disable_key),
            rule(
                "PutKeyPolicy",
                "GetKeyPolicy: the policy written (compared as JSON), 5 reads in a row",
                put_key_policy,
            ),
            rule(
                "ScheduleKeyDeletion",
                "DescribeKey: KeyState PendingDeletion, 5 reads in a row",
                schedule_key_deletion,
            ),
            rule("TagResource", "ListResourceTags: every tag added, with its value", tag_resource),
            rule("UntagResource", "ListResourceTags: no removed key", untag_resource),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

/// A waiter for `READS_IN_A_ROW` matching reads of a key that may not be found yet.
fn in_a_row<O>(done: impl Fn(&O) -> bool + Send + Sync + 'static) -> Waiter<O> {
    waiter::<O>().success_when(done).retry_on_error_code(NOT_FOUND).successes_in_a_row(READS_IN_A_ROW)
}

/// DescribeKey on `key` until `done` holds for its metadata, 5 reads in a row.
fn describe_until(
    operation: &'static str,
    kms: &Client,
    key: &str,
    expected: String,
    done: impl Fn(&KeyMetadata) -> bool + Send + Sync + 'static,
) -> Check {
    let (kms, id) = (kms.clone(), key.to_string());
    Check::new(
        operation,
        key,
        format!("{expected}, {READS_IN_A_ROW} reads in a row"),
        in_a_row(move |o: &DescribeKeyOutput| o.key_metadata().is_some_and(&done)),
        move || kms.describe_key().key_id(&id).send(),
    )
}

fn key_state(operation: &'static str, kms: &Client, key: Option<&str>, state: KeyState) -> Vec<Check> {
    let Some(key) = key else { return Vec::new() };
    let expected = format!("DescribeKey shows KeyState {state}");
    vec![describe_until(operation, kms, key, expected, move |m| m.key_state() == Some(&state))]
}

fn tags_read(
    operation: &'static str,
    kms: &Client,
    key: &str,
    expected: String,
    done: impl Fn(&ListResourceTagsOutput) -> bool + Send + Sync + 'static,
) -> Check {
    let (kms, id) = (kms.clone(), key.to_string());
    Check::new(
        operation,
        key,
        expected,
        waiter::<ListResourceTagsOutput>().success_when(done).retry_on_error_code(NOT_FOUND),
        move || kms.list_resource_tags().key_id(&id).send(),
    )
}

fn has_all(operation: &'static str, kms: &Client, key: &str, tags: &[Tag]) -> Check {
    let wanted: Vec<(String, String)> =
        tags.iter().map(|t| (t.tag_key().to_string(), t.tag_value().to_string())).collect();
    let expected = format!("ListResourceTags shows {}", show_tags(&wanted));
    tags_read(operation, kms, key, expected, move |o| {
        has_tags(o.tags().iter().map(|t| (t.tag_key(), t.tag_value())), &wanted)
    })
}

fn create_key(kms: &Client, input: &CreateKeyInput, output: &CreateKeyOutput) -> Vec<Check> {
    let Some(key) = output.key_metadata().map(|m| m.key_id()) else { return Vec::new() };
    let mut checks = vec![describe_until("CreateKey", kms, key, "DescribeKey finds the key".into(), |_| true)];
    if !input.tags().is_empty() {
        checks.push(has_all("CreateKey", kms, key, input.tags()));
    }
    checks
}

fn enable_key(kms: &Client, input: &EnableKeyInput, _: &EnableKeyOutput) -> Vec<Check> {
    key_state("EnableKey", kms, input.key_id(), KeyState::Enabled)
}

fn disable_key(kms: &Client, input: &DisableKeyInput, _: &DisableKeyOutput) -> Vec<Check> {
    key_state("DisableKey", kms, input.key_id(), KeyState::Disabled)
}

fn schedule_key_deletion(
    kms: &Client,
    input: &ScheduleKeyDeletionInput,
    _: &ScheduleKeyDeletionOutput,
) -> Vec<Check> {
    key_state("ScheduleKeyDeletion", kms, input.key_id(), KeyState::PendingDeletion)
}

fn put_key_policy(kms: &Client, input: &PutKeyPolicyInput, _: &PutKeyPolicyOutput) -> Vec<Check> {
    let (Some(key), Some(policy)) = (input.key_id(), input.policy()) else { return Vec::new() };
    let name = input.policy_name().unwrap_or("default").to_string();
    let (client, id, wanted) = (kms.clone(), key.to_string(), policy.to_string());
    vec![Check::new(
        "PutKeyPolicy",
        key,
        format!("GetKeyPolicy shows the policy {name} written, {READS_IN_A_ROW} reads in a row"),
        in_a_row(move |o: &GetKeyPolicyOutput| o.policy().is_some_and(|p| same_json(p, &wanted))),
        move || client.get_key_policy().key_id(&id).policy_name(&name).send(),
    )]
}

fn tag_resource(kms: &Client, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
    input.key_id().map(|key| has_all("TagResource", kms, key, input.tags())).into_iter().collect()
}

fn untag_resource(kms: &Client, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
    let Some(key) = input.key_id() else { return Vec::new() };
    let keys = input.tag_keys().to_vec();
    let expected = format!("ListResourceTags shows none of {}", keys.join(", "));
    vec![tags_read("UntagResource", kms, key, expected, move |o| {
        lacks_keys(o.tags().iter().map(|t| t.tag_key()), &keys)
    })]
}
