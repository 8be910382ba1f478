//! [`Memo`]: the serializable record of a handler's calls, so a resumed handler continues
//! where it left off.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What the memo knows about one named call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The request, as the step's `translate` gave it (after redaction).
    pub request: Value,
    /// True once the call succeeded (or its error was ignored): it is not made again.
    #[serde(default)]
    pub called: bool,
    /// The recorded view of the response, when the call succeeded and the step records one
    /// (`null` otherwise).
    #[serde(default)]
    pub response: Option<Value>,
    /// True once stabilization succeeded (or when the step has none and the call succeeded).
    #[serde(default)]
    pub stabilized: bool,
    /// Calls made so far, over every invocation.
    #[serde(default)]
    pub attempts: u32,
    /// Milliseconds spent stabilizing in earlier invocations that stopped at their deadline
    /// (taken off the waiter's max wait; left out of the JSON while 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waited_ms: u64,
}

fn is_zero(ms: &u64) -> bool {
    *ms == 0
}

impl CallRecord {
    /// True when the call succeeded (or its error was ignored).
    pub fn is_called(&self) -> bool {
        self.called
    }
}

/// The callback context of a chain handler: one [`CallRecord`] per named call plus free-form
/// user context, serialized with `serde_json`:
///
/// ```json
/// {"calls": {"create-table": {"request": {"name": "t"}, "called": true, "response": {"arn": "…"}, "stabilized": false, "attempts": 1}},
///  "context": {"generatedName": "t-123"}}
/// ```
///
/// It holds exactly what the steps give it: requests from `translate` and responses from
/// `record`. Keep secrets out (see [`redact`](super::redact) and [`Step::redact`](super::Step::redact)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memo {
    /// The calls, by name.
    #[serde(default)]
    pub calls: BTreeMap<String, CallRecord>,
    /// Free-form user context.
    #[serde(default)]
    pub context: Map<String, Value>,
}

impl Memo {
    /// An empty memo (a first invocation).
    pub fn new() -> Self {
        Self::default()
    }

    /// The memo as a JSON string.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a memo of JSON values always serializes")
    }

    /// A memo from its JSON string.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The record of the named call, if any.
    pub fn call(&self, name: &str) -> Option<&CallRecord> {
        self.calls.get(name)
    }

    /// True when the named call succeeded.
    pub fn is_called(&self, name: &str) -> bool {
        self.call(name).is_some_and(CallRecord::is_called)
    }

    /// True when the named call is stabilized.
    pub fn is_stabilized(&self, name: &str) -> bool {
        self.call(name).is_some_and(|r| r.stabilized)
    }

    /// Sets a user context value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.context.insert(key.into(), value.into());
    }

    /// A user context value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.context.get(key)
    }

    pub(super) fn record_mut(&mut self, name: &str) -> &mut CallRecord {
        self.calls.entry(name.to_string()).or_default()
    }
}
