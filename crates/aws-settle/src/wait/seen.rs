//! What a failed wait says it saw last: a bounded summary with secrets redacted.
//!
//! An output with a JSON view (the captured body, or a `json_view`) is shown as that JSON
//! with [`SECRET_FIELDS`](crate::chain::SECRET_FIELDS) and SSM SecureString values redacted;
//! anything else as its `Debug`, with the values of those fields redacted; an SDK error as its
//! code, message and status (never the raw HTTP response). Either way at most
//! [`MAX_LAST_SEEN`] characters.

use std::fmt;

use serde_json::Value;

use crate::chain::{REDACTED, SECRET_FIELDS, redact_secrets};

/// The longest "last seen" a [`WaitError`](super::WaitError) carries, in characters.
pub const MAX_LAST_SEEN: usize = 600;

/// An output: its JSON view redacted when there is one, else its redacted `Debug`.
pub(crate) fn output<O: fmt::Debug>(output: &O, json: Option<&Value>) -> String {
    match json {
        Some(json) => {
            let mut json = json.clone();
            redact_secrets(&mut json);
            bounded(json.to_string())
        }
        None => bounded(redact_debug(&format!("{output:?}"))),
    }
}

/// An error's own summary, redacted and bounded.
pub(crate) fn error(summary: String) -> String {
    bounded(redact_debug(&summary))
}

/// Cuts a text to [`MAX_LAST_SEEN`] characters, saying how long it was.
pub(crate) fn bounded(text: String) -> String {
    match text.char_indices().nth(MAX_LAST_SEEN) {
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
        None => text,
    }
}

/// Replaces the quoted value after each secret field name in a `Debug` text (`SecretString:
/// Some("…")`, `secret_string: "…"`, `"SecretString": String("…")`) with [`REDACTED`].
pub(crate) fn redact_debug(text: &str) -> String {
    let names: Vec<String> = SECRET_FIELDS.iter().flat_map(|f| [f.to_string(), snake_case(f)]).collect();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, name)) = names.iter().filter_map(|n| rest.find(n.as_str()).map(|i| (i, n))).min() {
        let after = at + name.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // Skip `": `, ` = `, `Some(`, `String(` up to an opening quote.
        let mut skip = usize::from(rest.starts_with(['"', '\'']));
        skip += rest[skip..].len() - rest[skip..].trim_start_matches([':', '=', ' ']).len();
        let word =
            rest[skip..].len() - rest[skip..].trim_start_matches(|c: char| c.is_ascii_alphabetic()).len();
        if rest[skip + word..].starts_with('(') {
            skip += word + 1;
        }
        if !rest[skip..].starts_with('"') {
            continue;
        }
        let value = &rest[skip + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in value.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        out.push_str(&rest[..=skip]);
        out.push_str(REDACTED);
        match end {
            Some(end) => rest = &value[end..],
            None => return out, // unterminated: drop the rest rather than show it
        }
    }
    out.push_str(rest);
    out
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_texts_lose_secret_values_in_every_shape() {
        let cases = [
            r#"GetSecretValueOutput { name: Some("db"), secret_string: Some("hunter2"), version_id: None }"#,
            r#"Object {"Name": String("db"), "SecretString": String("hunter2")}"#,
            r#"{"SecretString": "hunter2", "Name": "db"}"#,
            r#"Creds { secret_access_key: "hunter2", session_token: "hunter2\"x" }"#,
        ];
        for text in cases {
            let redacted = redact_debug(text);
            assert!(!redacted.contains("hunter2"), "{redacted}");
            assert!(
                redacted.contains(REDACTED) && redacted.contains("db") || text.starts_with("Creds"),
                "{redacted}"
            );
        }
        assert_eq!(redact_debug("secret_string: None"), "secret_string: None");
        assert_eq!(redact_debug(r#"SecretString: "unterminated"#), format!("SecretString: \"{REDACTED}"));
    }

    #[test]
    fn json_views_are_redacted_and_everything_is_bounded() {
        let shown = output(&(), Some(&json!({"SecretBinary": "aHVudGVyMg==", "ARN": "arn"})));
        assert_eq!(shown, format!(r#"{{"ARN":"arn","SecretBinary":"{REDACTED}"}}"#));
        let long = output(&"x".repeat(10_000), None);
        assert!(
            long.chars().count() < MAX_LAST_SEEN + 40 && long.ends_with("(10002 bytes in all)"),
            "{long}"
        );
    }
}
