//! The conformance table `tests/data/waiters/conformance.json`: acceptors + a sequence of
//! responses → outcome, number of calls, number of sleeps.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_settle::wait::{Acceptor, Comparator, Delays, ErrorResponse, State, VirtualClock, WaitError, Waiter};
use serde_json::Value;

fn acceptor(spec: &Value) -> Acceptor<Value> {
    let state = match spec["state"].as_str().unwrap() {
        "success" => State::Success,
        "failure" => State::Failure,
        _ => State::Retry,
    };
    let argument = spec["argument"].as_str().unwrap_or_default();
    let expected = spec["expected"].clone();
    let smithy = |comparator: Comparator| {
        if spec["inputOutput"].as_bool() == Some(true) {
            Acceptor::input_output(state, argument, comparator).unwrap()
        } else {
            Acceptor::path(state, argument, comparator).unwrap()
        }
    };
    let text = || expected.as_str().unwrap().to_string();
    match spec["matcher"].as_str().unwrap() {
        "closure" => {
            let pointer = argument.to_string();
            Acceptor::output(state, move |output: &Value| output.pointer(&pointer) == Some(&expected))
        }
        "stringEquals" => smithy(Comparator::StringEquals(text())),
        "booleanEquals" => smithy(Comparator::BooleanEquals(expected.as_bool().unwrap())),
        "allStringEquals" => smithy(Comparator::AllStringEquals(text())),
        "anyStringEquals" => smithy(Comparator::AnyStringEquals(text())),
        _ => Acceptor::from_json(spec).unwrap(),
    }
}

#[tokio::test]
async fn every_case_of_the_conformance_table_passes() {
    let table: Value =
        serde_json::from_str(&std::fs::read_to_string(crate::data("waiters/conformance.json")).unwrap())
            .unwrap();
    let cases = table["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let clock = VirtualClock::new();
        let max_attempts = case["maxAttempts"].as_u64().unwrap() as u32;
        let mut waiter = Waiter::new(Delays::fixed(Duration::from_secs(1), max_attempts))
            .named(name)
            .clock(clock.clone())
            .json_view(|v: &Value| Some(v.clone()));
        for spec in case["acceptors"].as_array().unwrap() {
            waiter = waiter.acceptor(acceptor(spec));
        }
        if let Some(input) = case.get("input") {
            waiter = waiter.input(input.clone());
        }
        let last_acceptor = Arc::new(Mutex::new(None));
        let seen = last_acceptor.clone();
        waiter = waiter.on_attempt(move |report| *seen.lock().unwrap() = Some(report.acceptor));

        let responses = case["responses"].as_array().unwrap().clone();
        let mut calls = 0usize;
        let result = waiter
            .wait(|| {
                let response = responses[calls.min(responses.len() - 1)].clone();
                calls += 1;
                async move {
                    match response.get("output") {
                        Some(output) => Ok(output.clone()),
                        None => Err(ErrorResponse {
                            code: response["error"].as_str().map(str::to_string),
                            status: response["status"].as_u64().map(|s| s as u16),
                        }),
                    }
                }
            })
            .await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(WaitError::FailureState { .. }) => "failure",
            Err(WaitError::UnexpectedError { .. }) => "unexpected",
            Err(WaitError::Timeout { .. }) => "timeout",
            Err(e) => panic!("{name}: {e}"),
        };
        let expect = &case["expect"];
        let got = serde_json::json!({
            "result": outcome,
            "acceptor": last_acceptor.lock().unwrap().flatten(),
            "calls": calls,
            "sleeps": clock.sleeps().len(),
        });
        if &got != expect {
            failures.push(format!("{name}: expected {expect}, got {got} ({result:?})"));
        }
        // Attempts in the error/settled agree with the calls made.
        let attempts = match &result {
            Ok(settled) => settled.attempts,
            Err(e) => e.attempts(),
        };
        assert_eq!(attempts as usize, calls, "{name}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 35);
}
