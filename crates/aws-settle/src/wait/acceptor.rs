//! Acceptors: a [`State`] and a [`Matcher`]; the first acceptor whose matcher matches decides.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::jmespath::{JsonPath, JsonPathError};

/// What an acceptor decides when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The wait is over: the resource reached the wanted state.
    Success,
    /// The wait is over: the resource can never reach the wanted state.
    Failure,
    /// Poll again (after a delay).
    Retry,
}

impl State {
    /// `"success"`, `"failure"` or `"retry"`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Success => "success",
            State::Failure => "failure",
            State::Retry => "retry",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the result of a [`JsonPath`] is compared with the expected value.
///
/// `Equals`, `AllEquals` and `AnyEquals` are botocore's `path`, `pathAll` and `pathAny` (JSON
/// equality, numbers compared by value); the four string/boolean comparators are Smithy's.
/// `All*` and `Any*` need a non-empty list: an empty list, a missing value or a non-list never match.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparator {
    /// botocore `path`: the result equals the value.
    Equals(Value),
    /// botocore `pathAll`: the result is a non-empty list whose every element equals the value.
    AllEquals(Value),
    /// botocore `pathAny`: the result is a non-empty list with an element equal to the value.
    AnyEquals(Value),
    /// Smithy `stringEquals`: the result is this string.
    StringEquals(String),
    /// Smithy `booleanEquals`: the result is this boolean.
    BooleanEquals(bool),
    /// Smithy `allStringEquals`: a non-empty list of strings, all equal to this one.
    AllStringEquals(String),
    /// Smithy `anyStringEquals`: a non-empty list with at least one string equal to this one.
    AnyStringEquals(String),
}

/// JSON equality as Python compares `json.loads` values: numbers by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

impl Comparator {
    /// Whether a path result satisfies this comparator.
    pub fn matches(&self, result: &Value) -> bool {
        let non_empty = result.as_array().filter(|a| !a.is_empty());
        match self {
            Comparator::Equals(expected) => json_eq(result, expected),
            Comparator::AllEquals(expected) => {
                non_empty.is_some_and(|list| list.iter().all(|e| json_eq(e, expected)))
            }
            Comparator::AnyEquals(expected) => {
                non_empty.is_some_and(|list| list.iter().any(|e| json_eq(e, expected)))
            }
            Comparator::StringEquals(expected) => result.as_str() == Some(expected),
            Comparator::BooleanEquals(expected) => result.as_bool() == Some(*expected),
            Comparator::AllStringEquals(expected) => {
                non_empty.is_some_and(|list| list.iter().all(|e| e.as_str() == Some(expected)))
            }
            Comparator::AnyStringEquals(expected) => {
                non_empty.is_some_and(|list| list.iter().any(|e| e.as_str() == Some(expected)))
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Comparator::Equals(v) => format!("== {v}"),
            Comparator::AllEquals(v) => format!("all == {v}"),
            Comparator::AnyEquals(v) => format!("any == {v}"),
            Comparator::StringEquals(v) => format!("stringEquals {v:?}"),
            Comparator::BooleanEquals(v) => format!("booleanEquals {v}"),
            Comparator::AllStringEquals(v) => format!("allStringEquals {v:?}"),
            Comparator::AnyStringEquals(v) => format!("anyStringEquals {v:?}"),
        }
    }
}

/// A predicate over the typed output.
pub type OutputFn<O> = Arc<dyn Fn(&O) -> bool + Send + Sync>;

/// What an acceptor looks at.
pub enum Matcher<O> {
    /// A Rust closure over the typed output (never matches an error).
    Output(OutputFn<O>),
    /// A JMESPath over the JSON view of the output — or, with `input_output`, over
    /// `{"input": …, "output": …}` (Smithy `inputOutput`; without an input it cannot be
    /// evaluated). Never matches an error.
    Path {
        /// The compiled expression.
        path: JsonPath,
        /// How its result is compared.
        comparator: Comparator,
        /// Evaluate over `{"input", "output"}` instead of the output alone.
        input_output: bool,
    },
    /// The error has this code (botocore `error` with a string; Smithy `errorType`).
    ErrorCode(String),
    /// `true`: any error (with a code, as botocore); `false`: no error, i.e. any output
    /// (botocore `error` with a boolean; Smithy `success`, negated).
    Error(bool),
    /// The HTTP status code of the response (output or error). An output's status comes from the
    /// [`CaptureBody`](super::CaptureBody) when the waiter has one, and is taken as 200 otherwise.
    Status(u16),
}

impl<O> Clone for Matcher<O> {
    fn clone(&self) -> Self {
        match self {
            Matcher::Output(f) => Matcher::Output(f.clone()),
            other => other.retype().expect("only closures cannot be retyped"),
        }
    }
}

impl<O> fmt::Debug for Matcher<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl<O> Matcher<O> {
    /// A one-line description, e.g. `path "Table.TableStatus" == "ACTIVE"`.
    pub fn describe(&self) -> String {
        match self {
            Matcher::Output(_) => "output closure".to_string(),
            Matcher::Path { path, comparator, input_output } => {
                let kind = if *input_output { "inputOutput" } else { "path" };
                format!("{kind} {:?} {}", path.as_str(), comparator.describe())
            }
            Matcher::ErrorCode(code) => format!("error code {code:?}"),
            Matcher::Error(true) => "any error".to_string(),
            Matcher::Error(false) => "no error".to_string(),
            Matcher::Status(status) => format!("status {status}"),
        }
    }

    /// The same matcher over another output type; `None` for [`Matcher::Output`].
    pub(crate) fn retype<P>(&self) -> Option<Matcher<P>> {
        Some(match self {
            Matcher::Output(_) => return None,
            Matcher::Path { path, comparator, input_output } => Matcher::Path {
                path: path.clone(),
                comparator: comparator.clone(),
                input_output: *input_output,
            },
            Matcher::ErrorCode(c) => Matcher::ErrorCode(c.clone()),
            Matcher::Error(b) => Matcher::Error(*b),
            Matcher::Status(s) => Matcher::Status(*s),
        })
    }
}

/// An acceptor: when its matcher matches, the wait moves to its state.
///
/// ```
/// use aws_settle::wait::{Acceptor, Comparator, State};
/// let ready: Acceptor<serde_json::Value> =
///     Acceptor::path(State::Success, "Table.TableStatus", Comparator::Equals("ACTIVE".into())).unwrap();
/// let gone: Acceptor<serde_json::Value> = Acceptor::error_code(State::Retry, "ResourceNotFoundException");
/// assert_eq!(ready.state, State::Success);
/// assert_eq!(gone.to_string(), "retry on error code \"ResourceNotFoundException\"");
/// ```
pub struct Acceptor<O> {
    /// The state the wait moves to when this acceptor matches.
    pub state: State,
    /// What it looks at.
    pub matcher: Matcher<O>,
}

impl<O> Clone for Acceptor<O> {
    fn clone(&self) -> Self {
        Self { state: self.state, matcher: self.matcher.clone() }
    }
}

impl<O> fmt::Debug for Acceptor<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Acceptor({self})")
    }
}

impl<O> fmt::Display for Acceptor<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.state, self.matcher.describe())
    }
}

impl<O> Acceptor<O> {
    /// An acceptor from a state and a matcher.
    pub fn new(state: State, matcher: Matcher<O>) -> Self {
        Self { state, matcher }
    }

    /// Matches when the closure returns true for the typed output.
    pub fn output(state: State, predicate: impl Fn(&O) -> bool + Send + Sync + 'static) -> Self {
        Self::new(state, Matcher::Output(Arc::new(predicate)))
    }

    /// Matches an error with this code.
    pub fn error_code(state: State, code: impl Into<String>) -> Self {
        Self::new(state, Matcher::ErrorCode(code.into()))
    }

    /// Matches any error (`true`) or any output (`false`).
    pub fn error(state: State, is_error: bool) -> Self {
        Self::new(state, Matcher::Error(is_error))
    }

    /// Matches this HTTP status code.
    pub fn status(state: State, status: u16) -> Self {
        Self::new(state, Matcher::Status(status))
    }

    /// Matches a JMESPath over the JSON view of the output.
    pub fn path(state: State, expression: &str, comparator: Comparator) -> Result<Self, JsonPathError> {
        Ok(Self::new(
            state,
            Matcher::Path { path: JsonPath::compile(expression)?, comparator, input_output: false },
        ))
    }

    /// Matches a JMESPath over `{"input": …, "output": …}` (Smithy `inputOutput`).
    pub fn input_output(
        state: State,
        expression: &str,
        comparator: Comparator,
    ) -> Result<Self, JsonPathError> {
        Ok(Self::new(
            state,
            Matcher::Path { path: JsonPath::compile(expression)?, comparator, input_output: true },
        ))
    }

    /// Whether it matches what one attempt produced; `Err` when a path cannot be evaluated
    /// (no JSON view of the output, or a JMESPath runtime error).
    pub fn matches(&self, observed: &Observation<'_, O>) -> Result<bool, String> {
        Ok(match &self.matcher {
            Matcher::Output(predicate) => observed.output.is_some_and(|o| predicate(o)),
            Matcher::Path { path, comparator, input_output } => {
                if observed.is_error {
                    return Ok(false);
                }
                let Some(json) = observed.json else {
                    return Err(observed
                        .json_unavailable
                        .clone()
                        .unwrap_or_else(|| "no JSON view of the output is available".to_string()));
                };
                let result = if *input_output {
                    let Some(input) = observed.input else {
                        return Err(
                            "an inputOutput path needs the input: give the waiter `.input(..)` or a \
                                    CaptureBody attached to the operation (JSON request bodies only)"
                                .to_string(),
                        );
                    };
                    path.search(&serde_json::json!({"input": input, "output": json}))
                        .map_err(|e| e.to_string())?
                } else {
                    path.search(json).map_err(|e| e.to_string())?
                };
                comparator.matches(&result)
            }
            Matcher::ErrorCode(code) => observed.is_error && observed.error_code == Some(code.as_str()),
            Matcher::Error(true) => observed.is_error && observed.error_code.is_some(),
            Matcher::Error(false) => !observed.is_error,
            Matcher::Status(status) => observed.status == Some(*status),
        })
    }
}

/// What one attempt produced, as acceptors see it.
#[derive(Debug)]
pub struct Observation<'a, O> {
    /// The typed output, when the call succeeded.
    pub output: Option<&'a O>,
    /// The JSON view of the output (the raw response body), when available.
    pub json: Option<&'a Value>,
    /// Why there is no JSON view, when known (e.g. an XML protocol).
    pub json_unavailable: Option<String>,
    /// The JSON view of the input, for `inputOutput` paths.
    pub input: Option<&'a Value>,
    /// Whether the call failed.
    pub is_error: bool,
    /// The error code, when the call failed with one.
    pub error_code: Option<&'a str>,
    /// The HTTP status code, when known.
    pub status: Option<u16>,
}

impl<'a, O> Observation<'a, O> {
    /// A successful call's output with its JSON view (status 200).
    pub fn output(output: &'a O, json: Option<&'a Value>) -> Self {
        Self {
            output: Some(output),
            json,
            json_unavailable: None,
            input: None,
            is_error: false,
            error_code: None,
            status: Some(200),
        }
    }

    /// A failed call with an error code and an HTTP status.
    pub fn error(code: Option<&'a str>, status: Option<u16>) -> Self {
        Self {
            output: None,
            json: None,
            json_unavailable: None,
            input: None,
            is_error: true,
            error_code: code,
            status,
        }
    }

    /// Sets the input seen by `inputOutput` paths.
    pub fn with_input(mut self, input: Option<&'a Value>) -> Self {
        self.input = input;
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: Option<u16>) -> Self {
        self.status = status;
        self
    }
}

/// The decision for one observation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// success, failure or retry.
    pub state: State,
    /// The index of the matching acceptor, `None` when none matched.
    pub acceptor: Option<usize>,
    /// Why, in words.
    pub reason: String,
}

/// Applies acceptors in order: the first that matches decides. When none matches, an error
/// fails at once (botocore's "unexpected error") and an output means retry.
///
/// ```
/// use aws_settle::wait::{evaluate, Acceptor, Observation, State};
/// let acceptors: Vec<Acceptor<()>> = vec![Acceptor::error_code(State::Retry, "NotFound")];
/// let d = evaluate(&acceptors, &Observation::error(Some("NotFound"), Some(404))).unwrap();
/// assert_eq!((d.state, d.acceptor), (State::Retry, Some(0)));
/// let d = evaluate(&acceptors, &Observation::error(Some("AccessDenied"), Some(403))).unwrap();
/// assert_eq!((d.state, d.acceptor), (State::Failure, None));
/// ```
pub fn evaluate<O>(acceptors: &[Acceptor<O>], observed: &Observation<'_, O>) -> Result<Decision, EvalError> {
    for (index, acceptor) in acceptors.iter().enumerate() {
        if acceptor.matches(observed).map_err(|message| EvalError { acceptor: index, message })? {
            return Ok(Decision {
                state: acceptor.state,
                acceptor: Some(index),
                reason: format!("acceptor {index} matched: {acceptor}"),
            });
        }
    }
    Ok(if observed.is_error {
        let code = observed.error_code.unwrap_or("<no code>");
        Decision {
            state: State::Failure,
            acceptor: None,
            reason: format!("unexpected error {code}: no acceptor matches it"),
        }
    } else {
        Decision { state: State::Retry, acceptor: None, reason: "no acceptor matched".to_string() }
    })
}

/// An acceptor that cannot be evaluated (no JSON view of the output, or a JMESPath runtime error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("acceptor {acceptor} cannot be evaluated: {message}")]
pub struct EvalError {
    /// The index of the acceptor.
    pub acceptor: usize,
    /// What went wrong.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_like_python() {
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(json_eq(&json!({"a": [0]}), &json!({"a": [0.0]})));
        assert!(!json_eq(&json!(1), &json!("1")));
        assert!(!json_eq(&json!(true), &json!(1)));
    }

    #[test]
    fn list_comparators_need_a_non_empty_list() {
        for comparator in [
            Comparator::AllEquals(json!("a")),
            Comparator::AnyEquals(json!("a")),
            Comparator::AllStringEquals("a".into()),
            Comparator::AnyStringEquals("a".into()),
        ] {
            assert!(!comparator.matches(&json!([])), "{comparator:?}");
            assert!(!comparator.matches(&json!(null)), "{comparator:?}");
            assert!(!comparator.matches(&json!("a")), "{comparator:?}");
            assert!(comparator.matches(&json!(["a"])), "{comparator:?}");
        }
        assert!(!Comparator::AllEquals(json!("a")).matches(&json!(["a", "b"])));
        assert!(Comparator::AnyEquals(json!("a")).matches(&json!(["b", "a"])));
        assert!(!Comparator::AllStringEquals("1".into()).matches(&json!([1])));
    }

    #[test]
    fn string_and_boolean_comparators_are_typed() {
        assert!(Comparator::StringEquals("true".into()).matches(&json!("true")));
        assert!(!Comparator::StringEquals("true".into()).matches(&json!(true)));
        assert!(Comparator::BooleanEquals(false).matches(&json!(false)));
        assert!(!Comparator::BooleanEquals(false).matches(&json!(null)));
    }

    #[test]
    fn path_and_closure_matchers_never_match_an_error() {
        let path: Acceptor<Value> =
            Acceptor::path(State::Success, "@", Comparator::Equals(json!(null))).unwrap();
        let closure: Acceptor<Value> = Acceptor::output(State::Success, |_| true);
        let error = Observation::error(Some("X"), Some(400));
        assert_eq!(path.matches(&error), Ok(false));
        assert_eq!(closure.matches(&error), Ok(false));
    }

    #[test]
    fn avg_of_an_empty_list_is_null() {
        let path = JsonPath::compile("avg(@)").unwrap();
        assert_eq!(path.search(&json!([])).unwrap(), json!(null));
        assert_eq!(path.search(&json!([1, 2])).unwrap(), json!(1.5));
        assert!(path.search(&json!(["a"])).is_err());
    }
}
