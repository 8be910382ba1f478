//! Keeping secrets out of the memo: redaction of named fields in a JSON value.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Fields [`redact_secrets`] always redacts: Secrets Manager's secret values and common
/// password / key fields.
pub const SECRET_FIELDS: &[&str] = &[
    "SecretString",
    "SecretBinary",
    "Password",
    "NewPassword",
    "OldPassword",
    "SecretAccessKey",
    "SessionToken",
    "PrivateKey",
];

/// Field names compare without case, `_` and `-` (so `SecretString` also matches `secret_string`).
fn normalize(name: &str) -> String {
    name.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect()
}

/// Replaces the value of every object field named in `fields`, at any depth (inside arrays
/// too), with the string [`REDACTED`]. Names compare without case, `_` and `-`.
///
/// ```
/// use aws_settle::chain::redact;
/// let mut v = serde_json::json!({"Name": "db", "SecretString": "hunter2", "Tags": [{"password": "x"}]});
/// redact(&mut v, &["SecretString", "Password"]);
/// assert_eq!(v, serde_json::json!({"Name": "db", "SecretString": "<redacted>", "Tags": [{"password": "<redacted>"}]}));
/// ```
pub fn redact(value: &mut Value, fields: &[&str]) {
    let fields: Vec<String> = fields.iter().map(|f| normalize(f)).collect();
    redact_normalized(value, &fields);
}

fn redact_normalized(value: &mut Value, fields: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if fields.contains(&normalize(key)) {
                    *v = Value::String(REDACTED.to_string());
                } else {
                    redact_normalized(v, fields);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_normalized(v, fields)),
        _ => {}
    }
}

/// Redacts [`SECRET_FIELDS`], plus the `Value` of every object whose `Type` is `SecureString`
/// (an SSM SecureString parameter).
pub fn redact_secrets(value: &mut Value) {
    redact(value, SECRET_FIELDS);
    redact_secure_strings(value);
}

fn redact_secure_strings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let secure =
                map.iter().any(|(k, v)| normalize(k) == "type" && v.as_str() == Some("SecureString"));
            for (key, v) in map.iter_mut() {
                if secure && normalize(key) == "value" {
                    *v = Value::String(REDACTED.to_string());
                } else {
                    redact_secure_strings(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secure_strings),
        _ => {}
    }
}
