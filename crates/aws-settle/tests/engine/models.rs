//! botocore `waiters-2.json` files: the real ones load, the broken ones fail precisely.

use aws_settle::wait::Model;

#[test]
fn every_real_botocore_waiter_model_loads() {
    let dir = crate::data("waiters/valid");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let model = Model::from_path(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(model.waiters().count() > 0, "{}", path.display());
        count += 1;
    }
    assert!(count >= 15, "{count} files");
}

#[test]
fn every_broken_model_fails_with_a_precise_error() {
    let dir = crate::data("waiters/invalid");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("EXPECTED.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".waiters-2.json") {
            continue;
        }
        let want = expected.get(&name).unwrap_or_else(|| panic!("{name} has no entry in EXPECTED.json"));
        let err = Model::from_path(&path).expect_err(&name);
        let message = err.to_string();
        assert!(message.starts_with(&path.display().to_string()), "{message}");
        assert_eq!(err.waiter.as_deref(), want["waiter"].as_str(), "{message}");
        assert_eq!(err.acceptor, want["acceptor"].as_u64().map(|i| i as usize), "{message}");
        assert_eq!(err.field.as_deref(), want["field"].as_str(), "{message}");
        let needle = want["message"].as_str().unwrap();
        assert!(err.message.contains(needle), "{name}: `{message}` lacks `{needle}`");
        count += 1;
    }
    assert_eq!(count, expected.len());
}

#[test]
fn an_unknown_waiter_names_the_file_and_the_waiters_there_are() {
    let path = crate::data("waiters/valid/dynamodb.waiters-2.json");
    let message = Model::from_path(&path).unwrap().waiter("Nope").unwrap_err().to_string();
    assert!(message.starts_with(&path.display().to_string()), "{message}");
    assert!(message.contains("waiter `Nope`: no such waiter; the model has: "), "{message}");
    assert!(message.contains("TableExists"), "{message}");
}
