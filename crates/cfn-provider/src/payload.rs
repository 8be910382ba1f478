//! Reading an invocation: CloudFormation's handler request and the CloudFormation CLI's local
//! test payload, into one [`Invocation`]. Errors name the field and the JSON type found, never a
//! value (a credential sent in the wrong place must not come back in a message).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::credentials::Credentials;

/// The largest payload read: 6 MiB, Lambda's limit for a synchronous invocation.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// The handler action, as CloudFormation spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// Create the resource.
    Create,
    /// Read its current state (synchronous).
    Read,
    /// Update it.
    Update,
    /// Delete it.
    Delete,
    /// List the resources of the type (synchronous).
    List,
}

impl Action {
    /// The action named `name` (`CREATE`, `READ`, `UPDATE`, `DELETE`, `LIST`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "CREATE" => Self::Create,
            "READ" => Self::Read,
            "UPDATE" => Self::Update,
            "DELETE" => Self::Delete,
            "LIST" => Self::List,
            _ => return None,
        })
    }

    /// True for READ and LIST, which must answer in one invocation.
    pub fn is_synchronous(self) -> bool {
        matches!(self, Self::Read | Self::List)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "CREATE",
            Self::Read => "READ",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::List => "LIST",
        })
    }
}

/// Which payload shape an invocation came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// CloudFormation's handler request (`requestData`, `bearerToken`, …).
    HandlerRequest,
    /// The CloudFormation CLI's local test payload (`credentials`, `request`, …).
    TestEvent,
}

/// One invocation, whatever its payload shape. Models are still JSON here: the runtime reads
/// them into the provider's model type.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// Which shape it came in.
    pub shape: Shape,
    /// The action.
    pub action: Action,
    /// The region of the request.
    pub region: String,
    /// The request's idempotency token (`bearerToken`, or the test payload's `clientRequestToken`).
    pub client_request_token: String,
    /// The account.
    pub aws_account_id: Option<String>,
    /// The stack.
    pub stack_id: Option<String>,
    /// The resource type, e.g. `Settle::SecretsManager::Secret`.
    pub resource_type: Option<String>,
    /// The resource type's version.
    pub resource_type_version: Option<String>,
    /// The logical resource id in the template.
    pub logical_resource_id: Option<String>,
    /// The desired resource state (`resourceProperties`, `desiredResourceState`).
    pub desired: Option<Value>,
    /// The previous state, on update (`previousResourceProperties`, `previousResourceState`).
    pub previous: Option<Value>,
    /// The stack's tags.
    pub stack_tags: BTreeMap<String, String>,
    /// The stack's tags before the update.
    pub previous_stack_tags: BTreeMap<String, String>,
    /// The system tags (`aws:cloudformation:…`).
    pub system_tags: BTreeMap<String, String>,
    /// The type configuration.
    pub type_configuration: Option<Value>,
    /// Credentials to act on the user's behalf.
    pub caller_credentials: Option<Credentials>,
    /// Credentials of the provider's own role (for its memo store, logs, metrics).
    pub provider_credentials: Option<Credentials>,
    /// The callback context handed back from the previous invocation.
    pub callback_context: Option<Value>,
    /// The LIST page token.
    pub next_token: Option<String>,
}

/// Why a payload is not an invocation: the runtime answers it with `FAILED` / `InvalidRequest`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Above [`MAX_PAYLOAD_BYTES`].
    #[error("the payload is {bytes} bytes, above the limit of {limit}")]
    TooLarge {
        /// Its size (at least).
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON.
    #[error("the payload is not JSON: {0}")]
    NotJson(String),
    /// Neither a handler request nor a test payload.
    #[error(
        "the payload is neither a handler request (requestData) nor a test payload (credentials and request)"
    )]
    UnknownShape,
    /// A required field is missing (or null).
    #[error("{0} is missing")]
    Missing(String),
    /// A field has the wrong JSON type.
    #[error("{field} must be {expected}, found {found}")]
    WrongType {
        /// The field's path.
        field: String,
        /// The type it must have.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// The action is none of CREATE, READ, UPDATE, DELETE, LIST.
    #[error("action {0:?} is none of CREATE, READ, UPDATE, DELETE, LIST")]
    UnknownAction(String),
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Field access that names the path in its errors.
struct Fields<'a> {
    path: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn path(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_string() } else { format!("{}.{name}", self.path) }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn string(&self, name: &str) -> Result<Option<String>, PayloadError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong(name, "a string", other)),
        }
    }

    fn required_string(&self, name: &str) -> Result<String, PayloadError> {
        self.string(name)?.ok_or_else(|| PayloadError::Missing(self.path(name)))
    }

    fn object(&self, name: &str) -> Result<Option<&'a Map<String, Value>>, PayloadError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.wrong(name, "an object", other)),
        }
    }

    fn model(&self, name: &str) -> Result<Option<Value>, PayloadError> {
        Ok(self.object(name)?.map(|m| Value::Object(m.clone())))
    }

    fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, PayloadError> {
        let Some(map) = self.object(name)? else { return Ok(BTreeMap::new()) };
        map.iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(PayloadError::WrongType {
                    field: format!("{}.{k}", self.path(name)),
                    expected: "a string",
                    found: kind(other),
                }),
            })
            .collect()
    }

    /// Credentials: an object, or a string holding one as JSON (as hook requests send them).
    fn credentials(&self, name: &str) -> Result<Option<Credentials>, PayloadError> {
        let parsed;
        let map = match self.get(name) {
            None => return Ok(None),
            Some(Value::Object(map)) => map,
            Some(Value::String(json)) => match serde_json::from_str::<Value>(json) {
                Ok(Value::Object(map)) => {
                    parsed = map;
                    &parsed
                }
                // Not the parser's message: it could quote the string.
                _ => {
                    return Err(self.wrong(
                        name,
                        "an object (or an object as a JSON string)",
                        &Value::String(String::new()),
                    ));
                }
            },
            Some(other) => return Err(self.wrong(name, "an object", other)),
        };
        let path = self.path(name);
        let fields = Fields { path: &path, map };
        Ok(Some(Credentials::new(
            fields.required_string("accessKeyId")?,
            fields.required_string("secretAccessKey")?,
            fields.string("sessionToken")?,
        )))
    }

    fn wrong(&self, name: &str, expected: &'static str, found: &Value) -> PayloadError {
        PayloadError::WrongType { field: self.path(name), expected, found: kind(found) }
    }
}

fn action(fields: &Fields<'_>) -> Result<Action, PayloadError> {
    let name = fields.required_string("action")?;
    Action::parse(&name).ok_or_else(|| PayloadError::UnknownAction(name.chars().take(32).collect()))
}

impl Invocation {
    /// Reads a payload of at most [`MAX_PAYLOAD_BYTES`].
    pub fn from_slice(payload: &[u8]) -> Result<Self, PayloadError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge { bytes: payload.len(), limit: MAX_PAYLOAD_BYTES });
        }
        // serde_json's syntax errors give a line and column, never the input.
        let value: Value =
            serde_json::from_slice(payload).map_err(|e| PayloadError::NotJson(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Reads a parsed payload.
    pub fn from_value(payload: &Value) -> Result<Self, PayloadError> {
        let Value::Object(map) = payload else {
            return Err(PayloadError::WrongType {
                field: "the payload".into(),
                expected: "an object",
                found: kind(payload),
            });
        };
        let top = Fields { path: "", map };
        if map.contains_key("requestData") {
            Self::handler_request(&top)
        } else if map.contains_key("request") || map.contains_key("credentials") {
            Self::test_event(&top)
        } else {
            Err(PayloadError::UnknownShape)
        }
    }

    fn handler_request(top: &Fields<'_>) -> Result<Self, PayloadError> {
        let action = action(top)?;
        let data = top.object("requestData")?.ok_or_else(|| PayloadError::Missing("requestData".into()))?;
        let data = Fields { path: "requestData", map: data };
        // The Java runtime reads the callback context from `requestContext`; newer payloads put it at the top.
        let context = match top.get("callbackContext") {
            Some(context) => Some(context.clone()),
            None => top
                .object("requestContext")?
                .and_then(|c| c.get("callbackContext"))
                .filter(|c| !c.is_null())
                .cloned(),
        };
        Ok(Self {
            shape: Shape::HandlerRequest,
            action,
            region: top.required_string("region")?,
            client_request_token: top.required_string("bearerToken")?,
            aws_account_id: top.string("awsAccountId")?,
            stack_id: top.string("stackId")?,
            resource_type: top.string("resourceType")?,
            resource_type_version: top.string("resourceTypeVersion")?,
            logical_resource_id: data.string("logicalResourceId")?,
            desired: data.model("resourceProperties")?,
            previous: data.model("previousResourceProperties")?,
            stack_tags: data.tags("stackTags")?,
            previous_stack_tags: data.tags("previousStackTags")?,
            system_tags: data.tags("systemTags")?,
            type_configuration: data.model("typeConfiguration")?,
            caller_credentials: data.credentials("callerCredentials")?,
            provider_credentials: data.credentials("providerCredentials")?,
            callback_context: context,
            next_token: top.string("nextToken")?,
        })
    }

    fn test_event(top: &Fields<'_>) -> Result<Self, PayloadError> {
        let action = action(top)?;
        let credentials =
            top.credentials("credentials")?.ok_or_else(|| PayloadError::Missing("credentials".into()))?;
        let request = top.object("request")?.ok_or_else(|| PayloadError::Missing("request".into()))?;
        let request = Fields { path: "request", map: request };
        Ok(Self {
            shape: Shape::TestEvent,
            action,
            region: match top.string("region")? {
                Some(region) => region,
                None => request.required_string("region")?,
            },
            client_request_token: request.required_string("clientRequestToken")?,
            aws_account_id: request.string("awsAccountId")?,
            stack_id: request.string("stackId")?,
            resource_type: top.string("typeName")?,
            resource_type_version: None,
            logical_resource_id: request.string("logicalResourceIdentifier")?,
            desired: request.model("desiredResourceState")?,
            previous: request.model("previousResourceState")?,
            stack_tags: request.tags("desiredResourceTags")?,
            previous_stack_tags: request.tags("previousResourceTags")?,
            system_tags: request.tags("systemTags")?,
            type_configuration: request.model("typeConfiguration")?,
            caller_credentials: Some(credentials),
            provider_credentials: None,
            callback_context: top.get("callbackContext").cloned(),
            next_token: request.string("nextToken")?,
        })
    }
}
