//! Wildcard patterns over `service:Operation:kind`: `ssm:Put*:retry`, `*:*:throttled`, `dynamodb:*`.
//!
//! A pattern has up to three `:`-separated parts; a missing trailing part matches anything, so
//! `dynamodb` and `dynamodb:*` mean every event of DynamoDB. Within a part, `*` matches any run of
//! characters (never a `:`) and `?` exactly one. Parts hold ASCII letters, digits, `-`, `_`, `.`,
//! `*` and `?`; the kind part must be able to match one of [`KIND_NAMES`]. Service names match as
//! the cargo features spell them (`ssm`, `dynamodb`), operation names as the API does (`PutItem`),
//! both case-sensitively.

use std::fmt;

use super::event::KIND_NAMES;

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    parts: [String; 3],
}

/// Why a pattern is invalid, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event pattern {pattern:?} at position {position}: {reason}")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// The character offset (from 0) of the problem.
    pub position: usize,
    /// What is wrong.
    pub reason: PatternErrorReason,
}

/// What is wrong with a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternErrorReason {
    /// The pattern is empty.
    Empty,
    /// More than three `:`-separated parts.
    TooManyParts,
    /// A part between two `:` (or before the first) is empty.
    EmptyPart,
    /// A character that is not allowed.
    InvalidChar(char),
    /// The kind part matches no event kind.
    UnknownKind(String),
}

impl fmt::Display for PatternErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternErrorReason::Empty => f.write_str("the pattern is empty"),
            PatternErrorReason::TooManyParts => f.write_str("more than three parts (service:Operation:kind)"),
            PatternErrorReason::EmptyPart => f.write_str("empty part (use * for any)"),
            PatternErrorReason::InvalidChar(c) => {
                write!(f, "character {c:?} is not allowed (letters, digits, - _ . * ?)")
            }
            PatternErrorReason::UnknownKind(kind) => {
                write!(f, "kind {kind:?} matches none of {}", KIND_NAMES.join(", "))
            }
        }
    }
}

impl Pattern {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let error = |position, reason| PatternError { pattern: text.to_string(), position, reason };
        if text.is_empty() {
            return Err(error(0, PatternErrorReason::Empty));
        }
        let mut parts: [String; 3] = ["*".into(), "*".into(), "*".into()];
        let mut start = 0; // character offset of the current part
        for (index, part) in text.split(':').enumerate() {
            if index == 3 {
                return Err(error(start - 1, PatternErrorReason::TooManyParts));
            }
            if part.is_empty() {
                return Err(error(start, PatternErrorReason::EmptyPart));
            }
            for (offset, c) in part.chars().enumerate() {
                if !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | '?')) {
                    return Err(error(start + offset, PatternErrorReason::InvalidChar(c)));
                }
            }
            if index == 2 && !KIND_NAMES.iter().any(|kind| glob(part, kind)) {
                return Err(error(start, PatternErrorReason::UnknownKind(part.to_string())));
            }
            parts[index] = part.to_string();
            start += part.chars().count() + 1;
        }
        Ok(Pattern { text: text.to_string(), parts })
    }

    /// Whether an event of `service`, `operation` and kind name `kind` matches.
    pub fn matches(&self, service: &str, operation: &str, kind: &str) -> bool {
        glob(&self.parts[0], service) && glob(&self.parts[1], operation) && glob(&self.parts[2], kind)
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::parse(s)
    }
}

/// Glob match of `text` against `pattern` (`*` any run, `?` one character), linear with one
/// backtrack point.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None; // (pattern index after '*', text index it matched up to)
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi + 1, ti));
            pi += 1;
        } else if let Some((after, matched)) = star {
            pi = after;
            ti = matched + 1;
            star = Some((after, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, key: &str) -> bool {
        let parts: Vec<&str> = key.split(':').collect();
        Pattern::parse(pattern).unwrap().matches(parts[0], parts[1], parts[2])
    }

    #[test]
    fn glob_basics() {
        assert!(glob("*", ""));
        assert!(glob("*", "anything"));
        assert!(glob("Put*", "PutParameter"));
        assert!(glob("Put*", "Put"));
        assert!(!glob("Put*", "GetParameter"));
        assert!(glob("*Item", "PutItem"));
        assert!(!glob("*Item", "PutItems"));
        assert!(glob("*Param*", "GetParameters"));
        assert!(glob("P?t*", "PutItem"));
        assert!(!glob("P?t", "Pt"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(glob("a*b*c", "abcbc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("**", "x"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(!glob("", "x"));
        assert!(glob("*aab", "aaaab"));
    }

    #[test]
    fn parts_and_defaults() {
        assert!(m("ssm:Put*:retry", "ssm:PutParameter:retry"));
        assert!(!m("ssm:Put*:retry", "ssm:PutParameter:throttled"));
        assert!(!m("ssm:Put*:retry", "dynamodb:PutItem:retry"));
        assert!(m("*:*:throttled", "s3:PutObject:throttled"));
        assert!(m("dynamodb:*", "dynamodb:PutItem:call_end"));
        assert!(m("dynamodb", "dynamodb:GetItem:attempt_start"));
        assert!(!m("dynamodb", "ssm:GetParameter:attempt_start"));
        assert!(m("*", "iam:CreateRole:give_up"));
        assert!(m("*:*:attempt_*", "iam:CreateRole:attempt_end"));
        assert!(m("*:*:call_?????", "iam:CreateRole:call_start"));
        assert!(!m("ssm:putparameter", "ssm:PutParameter:retry"), "case-sensitive");
        let p = Pattern::parse("ssm:Put*").unwrap();
        assert_eq!(p.as_str(), "ssm:Put*");
        assert_eq!(p.to_string(), "ssm:Put*");
        assert_eq!("*:*:retry".parse::<Pattern>().unwrap(), Pattern::parse("*:*:retry").unwrap());
    }

    #[test]
    fn errors_name_pattern_and_position() {
        let err = |p: &str| Pattern::parse(p).unwrap_err();
        assert_eq!(err("").reason, PatternErrorReason::Empty);
        let e = err("ssm:Put*:retry:x");
        assert_eq!((e.position, e.reason.clone()), (14, PatternErrorReason::TooManyParts));
        assert_eq!(e.pattern, "ssm:Put*:retry:x");
        assert_eq!((err(":Put").position, err(":Put").reason), (0, PatternErrorReason::EmptyPart));
        assert_eq!(
            (err("ssm::retry").position, err("ssm::retry").reason),
            (4, PatternErrorReason::EmptyPart)
        );
        assert_eq!(err("ssm:").reason, PatternErrorReason::EmptyPart);
        let e = err("ssm:Put Parameter");
        assert_eq!((e.position, e.reason), (7, PatternErrorReason::InvalidChar(' ')));
        let e = err("ssm:[PG]ut");
        assert_eq!((e.position, e.reason), (4, PatternErrorReason::InvalidChar('[')));
        let e = err("ssm:*:retries");
        assert_eq!((e.position, e.reason), (6, PatternErrorReason::UnknownKind("retries".into())));
        assert!(Pattern::parse("ssm:*:re*").is_ok());
        let message = err("ssm:*:nope").to_string();
        assert!(message.contains("\"ssm:*:nope\"") && message.contains("position 6"), "{message}");
    }
}
