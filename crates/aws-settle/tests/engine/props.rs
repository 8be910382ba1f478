//! Property tests (proptest) of the two inputs a user's model hands the engine: JMESPath
//! expressions and `waiters-2.json` text. Bounded to a few hundred cases each so they run in
//! seconds; a failing case is saved by proptest under `tests/proptest-regressions/props.txt`, to be
//! checked in (none so far: the one failure found was a generator bug, `@.`1`` is not JMESPath).

use aws_settle::wait::{JsonPath, JsonPathErrorKind, MAX_DELAY_SECS, Model};
use proptest::prelude::*;
use serde_json::{Value, json};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, max_shrink_iters: 2_000, ..ProptestConfig::default() }
}

/// Well-formed expressions, built from the grammar (nesting up to ~6 levels).
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("@".to_string()),
        "[a-c]".prop_map(String::from),
        Just("`1`".to_string()),
        Just("'a'".to_string()),
        Just("`[1, \"a\", null]`".to_string()),
        (-3i32..3).prop_map(|i| format!("[{i}]")),
    ];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            (inner.clone(), "[a-c]").prop_map(|(a, b)| format!("{a}.{b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.[{b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} | {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{x: {a}, y: {b}}}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} == {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[?{b}]")),
            inner.clone().prop_map(|a| format!("{a}[*]")),
            inner.clone().prop_map(|a| format!("{a}[]")),
            inner.clone().prop_map(|a| format!("{a}.*")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("{a}[::-1]")),
            (
                prop::sample::select(vec![
                    "length",
                    "to_string",
                    "type",
                    "keys",
                    "sort",
                    "not_null",
                    "reverse"
                ]),
                inner.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
            (prop::sample::select(vec!["map", "sort_by", "max_by", "min_by"]), inner.clone(), inner)
                .prop_map(|(f, a, b)| if f == "map" {
                    format!("map(&{a}, {b})")
                } else {
                    format!("{f}({a}, &{b})")
                }),
        ]
    })
}

/// Any JSON document of a few levels.
fn document() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(|n| json!(n)),
        "[a-c]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const RUNTIME_KINDS: [JsonPathErrorKind; 5] = [
    JsonPathErrorKind::InvalidType,
    JsonPathErrorKind::InvalidArity,
    JsonPathErrorKind::UnknownFunction,
    JsonPathErrorKind::InvalidValue,
    JsonPathErrorKind::TooLarge,
];

proptest! {
    #![proptest_config(config(512))]

    /// Well-formed expressions compile, and evaluate to the same result twice or to a
    /// runtime error kind: never a panic, never a compile-time kind at run time.
    #[test]
    fn well_formed_expressions_compile_and_evaluate_deterministically(e in expression(), data in document()) {
        let path = JsonPath::compile(&e).map_err(|err| TestCaseError::fail(format!("{err}")))?;
        let first = path.search(&data);
        match &first {
            Ok(_) => prop_assert_eq!(first.clone().ok(), path.search(&data).ok()),
            Err(err) => prop_assert!(RUNTIME_KINDS.contains(&err.kind), "{}", err),
        }
    }

    /// Any string over JMESPath's alphabet: compiles or gives a compile-time kind, and what
    /// compiles evaluates without a panic.
    #[test]
    fn arbitrary_text_never_panics(e in "[a-c@.\\[\\]{}()*?|&!=<>,:'`\"0-2 \\-]{0,40}", data in document()) {
        match JsonPath::compile(&e) {
            Ok(path) => {
                if let Err(err) = path.search(&data) {
                    prop_assert!(RUNTIME_KINDS.contains(&err.kind), "{}", err);
                }
            }
            Err(err) => prop_assert!(
                matches!(err.kind, JsonPathErrorKind::Syntax | JsonPathErrorKind::TooDeep | JsonPathErrorKind::TooLong)
                    || RUNTIME_KINDS.contains(&err.kind),
                "{}", err
            ),
        }
    }
}

/// A valid model, the seed the loader's mutations start from.
const SEED_MODEL: &str = r#"{"version": 2, "waiters": {"TableExists": {"delay": 20, "maxAttempts": 25,
 "operation": "DescribeTable", "description": "d", "acceptors": [
 {"state": "success", "matcher": "path", "argument": "Table.TableStatus", "expected": "ACTIVE"},
 {"state": "retry", "matcher": "error", "expected": "ResourceNotFoundException"},
 {"state": "failure", "matcher": "pathAny", "argument": "Table.Replicas[].Status", "expected": "FAILED"},
 {"state": "retry", "matcher": "status", "expected": 500}]}}}"#;

/// One edit of the text: replace, insert or delete a byte (kept UTF-8 by working on chars).
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop::sample::select("{}[]\",:0123456789.eE-+ abtrufnlsx\\".chars().collect::<Vec<_>>());
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), ch).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let len = chars.len().max(1);
        match *edit {
            Edit::Replace(i, c) if !chars.is_empty() => chars[i % len] = c,
            Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
            Edit::Delete(i) if !chars.is_empty() => {
                chars.remove(i % len);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Model-shaped JSON with arbitrary values where the fields go.
fn model_value() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        document(),
        (0u32..100).prop_map(|n| json!(n)),
        prop::sample::select(vec![json!(1e20), json!(-1), json!(f64::MAX), json!(u64::MAX), json!(0.5)]),
        prop::sample::select(vec![
            "success", "retry", "failure", "path", "pathAll", "pathAny", "error", "status", "a.[", "a.b"
        ])
        .prop_map(|s| json!(s)),
    ];
    let acceptor = prop::collection::btree_map(
        prop::sample::select(vec!["state", "matcher", "argument", "expected", "extra"]),
        field.clone(),
        0..5,
    )
    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    (field.clone(), field.clone(), field, prop::collection::vec(acceptor, 0..4)).prop_map(|(delay, attempts, op, acceptors)| {
        json!({"version": 2, "waiters": {"W": {"delay": delay, "maxAttempts": attempts, "operation": op, "acceptors": acceptors}}})
    })
}

/// What every model that loads must satisfy.
fn check_loaded(model: &Model) -> Result<(), TestCaseError> {
    for waiter in model.waiters() {
        prop_assert!(waiter.delay.as_secs_f64() <= MAX_DELAY_SECS);
        prop_assert!(waiter.max_attempts >= 1);
        prop_assert!(!waiter.acceptors().is_empty());
        prop_assert!(!waiter.operation.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    /// Mutated model text loads or fails with a message; never a panic.
    #[test]
    fn mutated_model_text_loads_or_fails_with_a_message(edits in prop::collection::vec(edit(), 1..6)) {
        match Model::from_json_str(&apply(SEED_MODEL, &edits)) {
            Ok(model) => check_loaded(&model)?,
            Err(err) => prop_assert!(!err.message.is_empty()),
        }
    }

    /// Model-shaped JSON with hostile field values: the same.
    #[test]
    fn hostile_field_values_load_or_fail_with_a_message(value in model_value()) {
        match Model::from_value(&value) {
            Ok(model) => check_loaded(&model)?,
            Err(err) => prop_assert!(!err.message.is_empty() && err.waiter.as_deref() == Some("W"), "{}", err),
        }
    }
}

#[test]
fn the_seed_model_loads() {
    // The mutations start from a valid model, or they would only ever test the JSON parser.
    let model = Model::from_json_str(SEED_MODEL).unwrap();
    assert_eq!(model.waiter("TableExists").unwrap().acceptors().len(), 4);
}
