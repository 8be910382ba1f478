//! botocore `waiters-2.json` models: loaded and validated once (JMESPath compiled at load time).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};

use super::acceptor::{Acceptor, Comparator, Decision, EvalError, Matcher, Observation, State, evaluate};
use super::delay::Delays;
use super::jmespath::JsonPath;
use super::waiter::Waiter;

/// The longest `delay` a model may ask for, in seconds (one day; botocore's longest is minutes).
pub const MAX_DELAY_SECS: f64 = 86_400.0;

/// The largest model file [`Model::from_path`] reads (botocore's largest is under 100 KB).
pub const MAX_MODEL_BYTES: u64 = 16 * 1024 * 1024;

/// A model that cannot be loaded: names the file, the waiter, the acceptor index and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ModelError {
    /// The file, when loaded from one.
    pub file: Option<String>,
    /// The waiter.
    pub waiter: Option<String>,
    /// The acceptor's index (0-based) in its waiter.
    pub acceptor: Option<usize>,
    /// The field, e.g. `matcher`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.clone());
        }
        if let Some(waiter) = &self.waiter {
            parts.push(format!("waiter `{waiter}`"));
        }
        if let Some(acceptor) = self.acceptor {
            parts.push(format!("acceptor {acceptor}"));
        }
        if let Some(field) = &self.field {
            parts.push(format!("field `{field}`"));
        }
        if parts.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", parts.join(", "), self.message)
        }
    }
}

/// One waiter of a model: botocore's fixed `delay` × `maxAttempts` and its acceptors.
#[derive(Debug, Clone)]
pub struct WaiterModel {
    /// The waiter's name, e.g. `TableExists`.
    pub name: String,
    /// The operation it polls, e.g. `DescribeTable`.
    pub operation: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Seconds between attempts.
    pub delay: Duration,
    /// Calls at most.
    pub max_attempts: u32,
    acceptors: Vec<Acceptor<Value>>,
}

impl WaiterModel {
    /// The acceptors, in order (none is a closure).
    pub fn acceptors(&self) -> &[Acceptor<Value>] {
        &self.acceptors
    }

    /// botocore's delays: `delay` between at most `maxAttempts` calls.
    pub fn delays(&self) -> Delays {
        Delays::fixed(self.delay, self.max_attempts)
    }

    /// Decides on one observation (the output document, or an error code and a status).
    ///
    /// ```
    /// use aws_settle::wait::{Model, Observation, State};
    /// let model = Model::from_json_str(r#"{"version": 2, "waiters": {"TableExists": {
    ///     "delay": 20, "maxAttempts": 25, "operation": "DescribeTable", "acceptors": [
    ///     {"state": "success", "matcher": "path", "argument": "Table.TableStatus", "expected": "ACTIVE"},
    ///     {"state": "retry", "matcher": "error", "expected": "ResourceNotFoundException"}]}}}"#).unwrap();
    /// let waiter = model.waiter("TableExists").unwrap();
    /// let output = serde_json::json!({"Table": {"TableStatus": "ACTIVE"}});
    /// let decision = waiter.evaluate(&Observation::output(&output, Some(&output))).unwrap();
    /// assert_eq!((decision.state, decision.acceptor), (State::Success, Some(0)));
    /// ```
    pub fn evaluate(&self, observed: &Observation<'_, Value>) -> Result<Decision, EvalError> {
        evaluate(&self.acceptors, observed)
    }

    /// A waiter over a typed operation with these acceptors and delays. JMESPath acceptors need
    /// a JSON view: give it a [`CaptureBody`](super::CaptureBody) attached to the operation
    /// (awsJson/restJson services only) or a [`json_view`](Waiter::json_view). With a
    /// `CaptureBody`, polling another operation than the model's is
    /// [`WaitError::WrongOperation`](super::WaitError::WrongOperation).
    pub fn typed<O>(&self) -> Waiter<O> {
        let mut waiter =
            Waiter::new(self.delays()).named(self.name.clone()).operation(self.operation.clone());
        for acceptor in &self.acceptors {
            let matcher = acceptor.matcher.retype::<O>().expect("model acceptors are never closures");
            waiter = waiter.acceptor(Acceptor::new(acceptor.state, matcher));
        }
        waiter
    }

    /// A waiter over an operation whose output already is JSON.
    pub fn json(&self) -> Waiter<Value> {
        self.typed::<Value>().json_view(|v: &Value| Some(v.clone()))
    }
}

/// A botocore `waiters-2.json` model (version 2), validated at load time.
#[derive(Debug, Clone)]
pub struct Model {
    waiters: BTreeMap<String, WaiterModel>,
    file: Option<String>,
}

impl Model {
    /// Loads a model from a file; errors name the file. Only a regular file (or a symlink to
    /// one) of at most [`MAX_MODEL_BYTES`] is read: a FIFO, a device or a directory is an
    /// error, never a hang.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let fail = |message: String| ModelError {
            file: Some(file.clone()),
            waiter: None,
            acceptor: None,
            field: None,
            message,
        };
        let text = read_regular_file(path, MAX_MODEL_BYTES).map_err(fail)?;
        Self::parse(&text, Some(file))
    }

    /// Loads a model from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, ModelError> {
        Self::parse(text, None)
    }

    /// Loads a model from a JSON value.
    pub fn from_value(value: &Value) -> Result<Self, ModelError> {
        Self::load(value, None)
    }

    fn parse(text: &str, file: Option<String>) -> Result<Self, ModelError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ModelError {
            file: file.clone(),
            waiter: None,
            acceptor: None,
            field: None,
            message: format!("not valid JSON: {e}"),
        })?;
        Self::load(&value, file)
    }

    fn load(value: &Value, file: Option<String>) -> Result<Self, ModelError> {
        let err = |waiter: Option<&str>, acceptor: Option<usize>, field: Option<&str>, message: String| {
            ModelError {
                file: file.clone(),
                waiter: waiter.map(str::to_string),
                acceptor,
                field: field.map(str::to_string),
                message,
            }
        };
        let top = value
            .as_object()
            .ok_or_else(|| err(None, None, None, "the model must be a JSON object".into()))?;
        match top.get("version") {
            Some(v) if v.as_u64() == Some(2) => {}
            Some(v) => {
                return Err(err(None, None, Some("version"), format!("unsupported version {v}: only 2 is")));
            }
            None => return Err(err(None, None, Some("version"), "missing (must be 2)".into())),
        }
        let waiters = top
            .get("waiters")
            .ok_or_else(|| err(None, None, Some("waiters"), "missing".into()))?
            .as_object()
            .ok_or_else(|| err(None, None, Some("waiters"), "must be an object".into()))?;
        let mut out = BTreeMap::new();
        for (name, body) in waiters {
            let w = Some(name.as_str());
            let body = body.as_object().ok_or_else(|| err(w, None, None, "must be an object".into()))?;
            check_keys(body, &["delay", "maxAttempts", "operation", "acceptors", "description"])
                .map_err(|k| err(w, None, Some(&k), "unknown field".into()))?;
            let delay = match body.get("delay") {
                Some(v) => v
                    .as_f64()
                    .filter(|d| (0.0..=MAX_DELAY_SECS).contains(d))
                    .and_then(|d| Duration::try_from_secs_f64(d).ok())
                    .ok_or_else(|| {
                        err(
                            w,
                            None,
                            Some("delay"),
                            format!("must be a number of seconds from 0 to {MAX_DELAY_SECS}, got {v}"),
                        )
                    })?,
                None => return Err(err(w, None, Some("delay"), "missing".into())),
            };
            let max_attempts = match body.get("maxAttempts") {
                Some(v) => {
                    v.as_u64().filter(|n| *n >= 1 && *n <= u32::MAX as u64).map(|n| n as u32).ok_or_else(
                        || err(w, None, Some("maxAttempts"), format!("must be a positive integer, got {v}")),
                    )?
                }
                None => return Err(err(w, None, Some("maxAttempts"), "missing".into())),
            };
            let operation = match body.get("operation") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(v) => {
                    return Err(err(
                        w,
                        None,
                        Some("operation"),
                        format!("must be a non-empty string, got {v}"),
                    ));
                }
                None => return Err(err(w, None, Some("operation"), "missing".into())),
            };
            let description = match body.get("description") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(v) => {
                    return Err(err(w, None, Some("description"), format!("must be a string, got {v}")));
                }
            };
            let list = match body.get("acceptors") {
                Some(Value::Array(list)) if !list.is_empty() => list,
                Some(Value::Array(_)) => {
                    return Err(err(w, None, Some("acceptors"), "must not be empty".into()));
                }
                Some(v) => return Err(err(w, None, Some("acceptors"), format!("must be a list, got {v}"))),
                None => return Err(err(w, None, Some("acceptors"), "missing".into())),
            };
            let mut acceptors = Vec::with_capacity(list.len());
            for (index, acceptor) in list.iter().enumerate() {
                let acceptor = parse_acceptor(acceptor)
                    .map_err(|(field, message)| err(w, Some(index), field.as_deref(), message))?;
                acceptors.push(acceptor);
            }
            out.insert(
                name.clone(),
                WaiterModel { name: name.clone(), operation, description, delay, max_attempts, acceptors },
            );
        }
        Ok(Self { waiters: out, file })
    }

    /// The waiter with this name; the error names the file and lists the names there are.
    pub fn waiter(&self, name: &str) -> Result<&WaiterModel, ModelError> {
        self.waiters.get(name).ok_or_else(|| ModelError {
            file: self.file.clone(),
            waiter: Some(name.to_string()),
            acceptor: None,
            field: None,
            message: format!(
                "no such waiter; the model has: {}",
                self.waiters.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// All waiters, by name.
    pub fn waiters(&self) -> impl Iterator<Item = &WaiterModel> {
        self.waiters.values()
    }
}

/// Reads a regular file of at most `limit` bytes. The type is checked before opening (opening a
/// FIFO blocks until a writer comes) and again on the open file.
fn read_regular_file(path: &Path, limit: u64) -> Result<String, String> {
    use std::io::Read;
    let not_regular = |kind: std::fs::FileType| {
        let what =
            if kind.is_dir() { "a directory" } else { "not a regular file (a FIFO, socket or device)" };
        format!("cannot read: {what}")
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(meta.file_type()));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(meta.file_type()));
    }
    if meta.len() > limit {
        return Err(format!("cannot read: {} bytes (at most {limit})", meta.len()));
    }
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text).map_err(|e| format!("cannot read: {e}"))?;
    if text.len() as u64 > limit {
        return Err(format!("cannot read: more than {limit} bytes"));
    }
    Ok(text)
}

fn check_keys(object: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(k.clone()),
        None => Ok(()),
    }
}

/// Parses one botocore acceptor (`state`, `matcher`, `expected`, `argument`).
pub(crate) fn parse_acceptor(value: &Value) -> Result<Acceptor<Value>, (Option<String>, String)> {
    let field = |f: &str, m: String| (Some(f.to_string()), m);
    let object = value.as_object().ok_or_else(|| (None, "must be an object".to_string()))?;
    check_keys(object, &["state", "matcher", "expected", "argument"])
        .map_err(|k| field(&k, "unknown field".into()))?;
    let state = match object.get("state") {
        Some(Value::String(s)) => match s.as_str() {
            "success" => State::Success,
            "failure" => State::Failure,
            "retry" => State::Retry,
            other => {
                return Err(field(
                    "state",
                    format!("bad state {other:?}: expected success, failure or retry"),
                ));
            }
        },
        Some(v) => return Err(field("state", format!("must be a string, got {v}"))),
        None => return Err(field("state", "missing".into())),
    };
    let matcher = match object.get("matcher") {
        Some(Value::String(s)) => s.as_str(),
        Some(v) => return Err(field("matcher", format!("must be a string, got {v}"))),
        None => return Err(field("matcher", "missing".into())),
    };
    let expected = object.get("expected").ok_or_else(|| field("expected", "missing".into()))?.clone();
    let argument = || match object.get("argument") {
        Some(Value::String(s)) => JsonPath::compile(s).map_err(|e| field("argument", e.to_string())),
        Some(v) => Err(field("argument", format!("must be a string, got {v}"))),
        None => Err(field("argument", format!("missing (the {matcher} matcher needs a JMESPath)"))),
    };
    let no_argument = || match object.get("argument") {
        Some(_) => Err(field("argument", format!("not allowed with the {matcher} matcher"))),
        None => Ok(()),
    };
    let matcher = match matcher {
        "path" => {
            Matcher::Path { path: argument()?, comparator: Comparator::Equals(expected), input_output: false }
        }
        "pathAll" => Matcher::Path {
            path: argument()?,
            comparator: Comparator::AllEquals(expected),
            input_output: false,
        },
        "pathAny" => Matcher::Path {
            path: argument()?,
            comparator: Comparator::AnyEquals(expected),
            input_output: false,
        },
        "error" => {
            no_argument()?;
            match expected {
                Value::String(code) => Matcher::ErrorCode(code),
                Value::Bool(b) => Matcher::Error(b),
                v => {
                    return Err(field(
                        "expected",
                        format!("the error matcher expects a code or a boolean, got {v}"),
                    ));
                }
            }
        }
        "status" => {
            no_argument()?;
            match expected.as_u64().filter(|s| (100..=599).contains(s)) {
                Some(status) => Matcher::Status(status as u16),
                None => {
                    return Err(field(
                        "expected",
                        format!("the status matcher expects an HTTP status, got {expected}"),
                    ));
                }
            }
        }
        other => {
            return Err(field(
                "matcher",
                format!("unknown matcher {other:?}: expected path, pathAll, pathAny, error or status"),
            ));
        }
    };
    Ok(Acceptor::new(state, matcher))
}

impl<O> Acceptor<O> {
    /// Parses one botocore acceptor (`{"state", "matcher", "expected", "argument"}`), compiling
    /// its JMESPath; the error names the field.
    ///
    /// ```
    /// use aws_settle::wait::{Acceptor, State};
    /// let json = serde_json::json!({"state": "retry", "matcher": "status", "expected": 404});
    /// let acceptor: Acceptor<()> = Acceptor::from_json(&json).unwrap();
    /// assert_eq!(acceptor.state, State::Retry);
    /// let bad = serde_json::json!({"state": "retry", "matcher": "path", "argument": "a.[", "expected": 1});
    /// assert!(Acceptor::<()>::from_json(&bad).unwrap_err().to_string().contains("argument"));
    /// ```
    pub fn from_json(value: &Value) -> Result<Self, ModelError> {
        let acceptor = parse_acceptor(value).map_err(|(field, message)| ModelError {
            file: None,
            waiter: None,
            acceptor: None,
            field,
            message,
        })?;
        let matcher = acceptor.matcher.retype::<O>().expect("parsed acceptors are never closures");
        Ok(Acceptor::new(acceptor.state, matcher))
    }
}
