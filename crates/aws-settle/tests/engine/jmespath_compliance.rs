//! The official JMESPath compliance suite (jmespath.test, `tests/data/jmespath-compliance/`)
//! run through [`JsonPath`], the bounded evaluator the waiters use over the `jmespath` crate's parser
//! and functions (crate `jmespath` 0.5, feature `sync`).

use aws_settle::wait::JsonPath;
use serde_json::Value;

/// Cases where the `jmespath` crate deviates from the suite, with the reason. None left: the one
/// deviation of `jmespath` 0.5 (`avg(empty_list)` fails instead of giving `null`) is patched in
/// `JsonPath` by a spec-conforming `avg`. The test fails if a listed case starts passing (so the
/// list stays exact) or if any other case fails.
const DEVIATIONS: &[(&str, &str, &str)] = &[];

/// JSON equality with numbers compared by value (`1` == `1.0`), as the suite means it.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// How each case is checked. Counts of the suite at jmespath.test commit 53abcc3 (908 cases):
/// 742 with a result, compared with numbers by value; 150 with an error, whose kind must be the
/// suite's (105 syntax, 40 invalid-type, 3 invalid-arity, 1 invalid-value, 1 unknown-function),
/// whether it is found at compile or at evaluation time; 16 benchmarks, whose results are
/// compared with those of Python's `jmespath` 1.1.0 (the one botocore uses), recorded in
/// `tests/data/jmespath-benchmark-results.json` because the suite gives none.
#[test]
fn the_jmespath_wrapper_passes_the_official_compliance_suite() {
    let dir = crate::data("jmespath-compliance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 16, "the 16 suite files");
    let bench: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::data("jmespath-benchmark-results.json")).unwrap(),
    )
    .unwrap();
    let bench_results: std::collections::HashMap<&str, &Value> = bench["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["expression"].as_str().unwrap(), &c["result"]))
        .collect();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut total, mut passed) = (0usize, 0usize);
    let mut failed = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let suites: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for suite in &suites {
            let given = &suite["given"];
            for case in suite["cases"].as_array().unwrap() {
                total += 1;
                let expression = case["expression"].as_str().unwrap();
                let got = JsonPath::compile(expression).and_then(|path| path.search(given));
                let (class, ok) = if let Some(error) = case.get("error").and_then(Value::as_str) {
                    (error.to_string(), got.as_ref().is_err_and(|e| e.kind.as_str() == error))
                } else if case.get("bench").is_some() {
                    let want = bench_results
                        .get(expression)
                        .unwrap_or_else(|| panic!("no recorded result for benchmark `{expression}`"));
                    ("bench".to_string(), got.as_ref().is_ok_and(|got| same(got, want)))
                } else {
                    ("result".to_string(), got.as_ref().is_ok_and(|got| same(got, &case["result"])))
                };
                *counts.entry(class).or_default() += 1;
                let deviation = DEVIATIONS.iter().any(|(f, e, _)| *f == name && *e == expression);
                if ok {
                    passed += 1;
                    assert!(
                        !deviation,
                        "{name} `{expression}` is listed as a deviation but passes: remove it"
                    );
                } else if !deviation {
                    failed.push(format!("{name}: `{expression}` (expected {case}, got {got:?})"));
                }
            }
        }
    }
    println!(
        "JMESPath compliance: {passed}/{total} passed, {} listed deviations, {counts:?}",
        DEVIATIONS.len()
    );
    assert!(failed.is_empty(), "{} unexpected failures:\n{}", failed.len(), failed.join("\n"));
    let counts: Vec<(&str, usize)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("bench", 16),
            ("invalid-arity", 3),
            ("invalid-type", 40),
            ("invalid-value", 1),
            ("result", 742),
            ("syntax", 105),
            ("unknown-function", 1)
        ]
    );
    assert_eq!(total, 908);
    assert_eq!(passed + DEVIATIONS.len(), total);
}
