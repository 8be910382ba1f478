//! The official JMESPath compliance suite (jmespath.test, `tests/data/jmespath-compliance/`)
//! run through [`JsonPath`], the wrapper the waiters use (crate `jmespath` 0.5, feature `sync`).

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

#[test]
fn the_jmespath_crate_passes_the_official_compliance_suite() {
    let dir = crate::data("jmespath-compliance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 16, "the 16 suite files");
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
                let compiled = JsonPath::compile(expression);
                let ok = if let Some(error) = case.get("error").and_then(Value::as_str) {
                    match (&compiled, error) {
                        (Err(_), "syntax") => true,
                        (Ok(_), "syntax") => false,
                        (Err(_), _) => true, // static checks may report arity/function errors at compile time
                        (Ok(path), _) => path.search(given).is_err(),
                    }
                } else if case.get("bench").is_some() {
                    compiled.is_ok_and(|path| path.search(given).is_ok())
                } else {
                    match &compiled {
                        Ok(path) => path.search(given).is_ok_and(|got| same(&got, &case["result"])),
                        Err(_) => false,
                    }
                };
                let deviation = DEVIATIONS.iter().any(|(f, e, _)| *f == name && *e == expression);
                if ok {
                    passed += 1;
                    assert!(
                        !deviation,
                        "{name} `{expression}` is listed as a deviation but passes: remove it"
                    );
                } else if !deviation {
                    failed.push(format!("{name}: `{expression}` (expected {case})"));
                }
            }
        }
    }
    println!("JMESPath compliance: {passed}/{total} passed, {} listed deviations", DEVIATIONS.len());
    assert!(failed.is_empty(), "{} unexpected failures:\n{}", failed.len(), failed.join("\n"));
    assert_eq!(total, 908);
    assert_eq!(passed + DEVIATIONS.len(), total);
}
