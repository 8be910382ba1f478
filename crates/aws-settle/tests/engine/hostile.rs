//! Hostile models and expressions (issue 10's probe): typed errors, never a panic, a stack
//! overflow or an unbounded evaluation. Each case runs on a thread with a small stack, so a
//! recursion that the limits fail to bound aborts the test binary instead of passing.

use aws_settle::wait::{
    JsonPath, JsonPathErrorKind, MAX_AST_DEPTH, MAX_EVALUATION_UNITS, MAX_NESTING, Model,
};
use serde_json::{Value, json};

/// The stack every case runs on: a thirty-second of a default test thread's. Parsing and
/// evaluation move to heap segments (`stacker`) when the caller's stack runs low, so even the
/// deepest expression the limits accept runs here.
const SMALL_STACK: usize = 64 * 1024;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).unwrap().join().unwrap()
}

fn compile_kind(expression: String) -> Option<JsonPathErrorKind> {
    on_small_stack(move || JsonPath::compile(&expression).err().map(|e| e.kind))
}

fn search(expression: &str, data: Value) -> Result<Value, aws_settle::wait::JsonPathError> {
    let expression = expression.to_string();
    // The test's own deep input is handed back, to be dropped on this thread's larger stack.
    let (result, _data) = on_small_stack(move || {
        let result = JsonPath::compile(&expression).and_then(|path| path.search(&data));
        (result, data)
    });
    result
}

#[test]
fn two_thousand_nested_parentheses_are_too_deep_not_a_stack_overflow() {
    let expression = format!("{}a{}", "(".repeat(2000), ")".repeat(2000));
    assert_eq!(compile_kind(expression), Some(JsonPathErrorKind::TooDeep));
    for (open, close) in [("[", "]"), ("{a:", "}")] {
        let expression = format!("{}a{}", open.repeat(2000), close.repeat(2000));
        assert_eq!(compile_kind(expression), Some(JsonPathErrorKind::TooDeep), "{open}");
    }
    assert_eq!(compile_kind(format!("{}a", "!".repeat(2000))), Some(JsonPathErrorKind::TooDeep));
    let projections = format!("a{}", "[*].a".repeat(2000));
    assert_eq!(compile_kind(projections), Some(JsonPathErrorKind::TooDeep));
}

#[test]
fn a_thousand_segment_path_is_too_deep_not_a_stack_overflow() {
    let expression = vec!["a"; 1000].join(".");
    let err = on_small_stack(move || JsonPath::compile(&expression).unwrap_err());
    assert_eq!(err.kind, JsonPathErrorKind::TooDeep);
    assert!(err.message.contains(&format!("at most {MAX_AST_DEPTH}")), "{err}");
    assert!(err.expression.chars().count() <= 201, "the error quotes a bounded expression");
    let pipes = vec!["a"; 1000].join("|");
    assert_eq!(compile_kind(pipes), Some(JsonPathErrorKind::TooDeep));
}

#[test]
fn a_one_megabyte_flat_expression_is_too_long() {
    for unit in ["a.", "a|", "[a]|", "a,"] {
        let expression = format!("{}a", unit.repeat(1024 * 1024 / unit.len()));
        assert_eq!(compile_kind(expression), Some(JsonPathErrorKind::TooLong), "{unit}");
    }
}

#[test]
fn expressions_at_the_limits_compile_and_evaluate_on_a_small_stack() {
    // As deep as the limits let through: these must run, and run within the small stack.
    let nested = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert_eq!(search(&nested, json!({"a": 1})).unwrap(), json!(1));
    let lists = format!("{}a{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
    let mut want = json!(1);
    for _ in 0..MAX_NESTING {
        want = json!([want]);
    }
    assert_eq!(search(&lists, json!({"a": 1})).unwrap(), want);
    let segments = vec!["a"; MAX_AST_DEPTH - 1].join(".");
    let mut data = json!(7);
    for _ in 0..100 {
        data = json!({"a": data});
    }
    assert_eq!(search(&segments, data).unwrap(), Value::Null);
    let projections = format!("a{}", "[*].a".repeat(120));
    assert_eq!(search(&projections, json!({"a": [{"a": []}]})).unwrap(), json!([[]]), "as Python jmespath");
}

/// `[@,@]|[@,@]|…` n times: 2ⁿ leaves if copied, 2n nodes if shared.
fn doubling(n: usize) -> String {
    vec!["[@,@]"; n].join("|")
}

#[test]
fn doubling_results_are_shared_and_their_copy_is_bounded() {
    // Small enough to copy: the exact result.
    let mut want = json!(1);
    for _ in 0..10 {
        want = json!([want, want]);
    }
    assert_eq!(search(&doubling(10), json!(1)).unwrap(), want);
    // The probe's 144-byte expression: evaluating is 48 nodes; copying 2^24 leaves would
    // take gigabytes, so the copy stops at the budget with a typed error.
    let err = search(&doubling(24), json!(1)).unwrap_err();
    assert_eq!(err.kind, JsonPathErrorKind::TooLarge, "{err}");
    assert!(err.message.contains(&MAX_EVALUATION_UNITS.to_string()), "{err}");
    // What is read from the shared result without copying it stays exact.
    assert_eq!(search(&format!("{}|length(@)", doubling(60)), json!(1)).unwrap(), json!(2));
    assert_eq!(search(&format!("{}|[0][1][0] == [1][0][1]", doubling(60)), json!(1)).unwrap(), json!(true));
}

#[test]
fn growth_through_flatten_join_equality_and_to_string_is_bounded() {
    let err = |expression: String, data: Value| search(&expression, data).unwrap_err().kind;
    // Each `[@,@][]` doubles a real list: 2^40 elements unbounded.
    let flatten = vec!["[@,@][]"; 40].join("|");
    assert_eq!(err(flatten, json!([1])), JsonPathErrorKind::TooLarge);
    // Each join doubles a real string.
    let join = vec!["join('', [@,@])"; 40].join("|");
    assert_eq!(err(join, json!("ab")), JsonPathErrorKind::TooLarge);
    // Two equal graphs built apart: comparing them walks 2^40 paths unbounded.
    let equal = format!("({d}) == ({d})", d = doubling(40));
    assert_eq!(err(equal, json!(1)), JsonPathErrorKind::TooLarge);
    let contains = format!("contains([{d}], {d})", d = doubling(40));
    assert_eq!(err(contains, json!(1)), JsonPathErrorKind::TooLarge);
    // Printing a graph prints every path.
    let print = format!("{}|to_string(@)", doubling(40));
    assert_eq!(err(print, json!(1)), JsonPathErrorKind::TooLarge);
    // Expression functions evaluate under the same budget.
    let map = format!("map(&({}|[@][]), @)", vec!["[@,@][]"; 40].join("|"));
    assert_eq!(err(map, json!([[1]])), JsonPathErrorKind::TooLarge);
    let sort = format!("sort_by(@, &length({}))", vec!["[@,@][]"; 40].join("|"));
    assert_eq!(err(sort, json!([[1], [2]])), JsonPathErrorKind::TooLarge);
}

#[test]
fn a_delay_of_1e20_seconds_is_a_typed_model_error() {
    for delay in ["1e20", "1e300", "-1", "86401", "\"5\""] {
        let text = format!(
            r#"{{"version": 2, "waiters": {{"W": {{"delay": {delay}, "maxAttempts": 3, "operation": "Op",
            "acceptors": [{{"state": "success", "matcher": "status", "expected": 200}}]}}}}}}"#
        );
        let err = Model::from_json_str(&text).unwrap_err();
        assert_eq!(
            (err.waiter.as_deref(), err.field.as_deref()),
            (Some("W"), Some("delay")),
            "{delay}: {err}"
        );
        assert!(err.message.contains("from 0 to 86400"), "{err}");
    }
    let text = r#"{"version": 2, "waiters": {"W": {"delay": 86400, "maxAttempts": 4294967295, "operation": "Op",
        "acceptors": [{"state": "success", "matcher": "status", "expected": 200}]}}}"#;
    let model = Model::from_json_str(text).unwrap();
    let waiter = model.waiter("W").unwrap();
    assert_eq!(waiter.delays().max_attempts_limit(), Some(u32::MAX), "the largest model still loads");
}

#[test]
fn a_fifo_named_like_a_model_is_an_error_not_a_hang() {
    let dir = std::env::temp_dir().join(format!("settle-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("x.waiters-2.json");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo (coreutils)");
    assert!(made.success());
    // Opening a FIFO for reading blocks until a writer comes: the old loader hung here forever.
    let err = Model::from_path(&fifo).unwrap_err();
    assert!(err.message.contains("not a regular file"), "{err}");
    let err = Model::from_path(&dir).unwrap_err();
    assert!(err.message.contains("a directory"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
