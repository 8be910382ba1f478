//! Crash-resume: the handler process is SIGKILLed after each memo save in turn (the process
//! is this test binary, re-run as `crash::handler_process`), then run again from the memo in the
//! file store or the DynamoDB store. The proxy's counters show CreateSecret made once per
//! resource, and the resumed run answers SUCCESS.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_settle::chain::store::DynamoDbStore;
use aws_settle::chain::{FileStore, Memo, MemoStore, MemoStoreError, Versioned};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::secret::{SECRET_VALUE, runtime};
use super::{aws_like, child_process, forwarded, handler_request, patient_retries};

/// What the handler process prints, after `memo-saved`, a memo save's number (from 1).
const SAVED: &str = "cfn-child memo-saved ";
/// What the handler process prints before its response.
const RESPONSE: &str = "cfn-child response ";

/// A store that says on stdout when it saved, and stops forever after the `hang_after`-th save,
/// for the parent to kill the process there.
#[derive(Debug)]
struct Announcing {
    inner: Arc<dyn MemoStore>,
    saves: AtomicU64,
    hang_after: u64,
}

impl MemoStore for Announcing {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, MemoStoreError>> {
        self.inner.load(key)
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        memo: &'a Memo,
        expected: u64,
    ) -> BoxFuture<'a, Result<u64, MemoStoreError>> {
        Box::pin(async move {
            let version = self.inner.save(key, memo, expected).await?;
            let n = self.saves.fetch_add(1, Ordering::SeqCst) + 1;
            println!("{SAVED}{n}");
            std::io::stdout().flush().ok();
            if n == self.hang_after {
                std::future::pending::<()>().await;
            }
            Ok(version)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), MemoStoreError>> {
        self.inner.delete(key)
    }
}

/// The handler process: one invocation from `CFN_CHILD_PAYLOAD`, its response on stdout.
#[tokio::test]
#[ignore = "run by the crash tests as a child process"]
async fn handler_process() {
    let Ok(payload) = std::env::var("CFN_CHILD_PAYLOAD") else {
        return; // Run by hand (`--include-ignored`), not by a crash test: nothing to handle.
    };
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let endpoint = env("CFN_CHILD_ENDPOINT");
    let inner: Arc<dyn MemoStore> = match std::env::var("CFN_CHILD_MEMO_TABLE") {
        Ok(table) => {
            let config =
                settle_emulator::sdk_config(&endpoint).into_builder().retry_config(patient_retries());
            let ddb = aws_sdk_dynamodb::Client::new(&config.build());
            Arc::new(DynamoDbStore::new(ddb, table))
        }
        Err(_) => Arc::new(FileStore::new(env("CFN_CHILD_MEMO_DIR"))),
    };
    let hang_after = env("CFN_CHILD_HANG_AFTER").parse().unwrap();
    let store = Arc::new(Announcing { inner, saves: AtomicU64::new(0), hang_after });
    let rt = runtime(std::path::Path::new("."), &endpoint).with_store(store);
    let response = rt.handle(payload.as_bytes(), Some(Duration::from_secs(60))).await;
    println!("{RESPONSE}{}", response.to_json());
}

enum Store<'a> {
    Dir(&'a std::path::Path),
    Table(&'a str),
}

/// How long the parent waits for the child's next line: generous, for a loaded machine; the
/// child answers in well under a second unless it hangs.
const CHILD_LINE_BOUND: Duration = Duration::from_secs(120);

/// Runs the handler process; with `kill_at`, SIGKILLs it once it announces that save.
/// Returns the saves announced and the response, if it got to answer.
///
/// The markers are looked for anywhere in a line: the test harness prints `test NAME ... `
/// without a newline before the child's first line of output.
fn run_child(
    endpoint: &str,
    store: &Store<'_>,
    payload: &Value,
    kill_at: Option<u64>,
) -> (u64, Option<Value>) {
    let mut command = child_process("crash::handler_process");
    command
        .env("CFN_CHILD_ENDPOINT", endpoint)
        .env("CFN_CHILD_PAYLOAD", payload.to_string())
        .env("CFN_CHILD_HANG_AFTER", kill_at.unwrap_or(u64::MAX).to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match store {
        Store::Dir(dir) => command.env("CFN_CHILD_MEMO_DIR", dir),
        Store::Table(table) => command.env("CFN_CHILD_MEMO_TABLE", table),
    };
    let mut child = command.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut saves, mut response) = (0, None);
    let mut output = Vec::new();
    loop {
        let line = match lines.recv_timeout(CHILD_LINE_BOUND) {
            Ok(line) => line.unwrap(),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                child.kill().ok();
                child.wait().ok();
                panic!("the handler process said nothing for {CHILD_LINE_BOUND:?}; its output: {output:#?}");
            }
        };
        if let Some((_, n)) = line.split_once(SAVED) {
            saves = n.trim().parse().unwrap();
            if Some(saves) == kill_at {
                child.kill().unwrap(); // SIGKILL: no destructor, no flush, no cleanup runs.
                break;
            }
        } else if let Some((_, json)) = line.split_once(RESPONSE) {
            response = Some(serde_json::from_str(json).unwrap());
        }
        output.push(line);
    }
    let status = child.wait().unwrap();
    if kill_at.is_some() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL; its output: {output:#?}");
    }
    (saves, response)
}

/// The saves of one CREATE: the request before CreateSecret, its answer, stabilization.
const SAVES: u64 = 3;

/// Kills a CREATE after each memo save in turn (before CreateSecret, after it, after
/// stabilization), through the AWS-like proxy, resumes each, and checks from the proxy's
/// counters that CreateSecret reached moto once per secret, and from moto that each secret
/// exists once with its value.
fn kill_after_each_save(proxy: &settle_proxy::ProxyHandle, store: &Store<'_>, prefix: &str) {
    let endpoint = proxy.endpoint();
    let name = settle_emulator::unique_name(prefix);
    let creates = || forwarded(proxy, "secretsmanager:CreateSecret");
    for kill_at in 1..=SAVES {
        let before = creates();
        let secret = format!("{name}-{kill_at}");
        let payload = handler_request(
            "CREATE",
            &format!("{secret}-token"),
            json!({"Name": secret, "SecretString": SECRET_VALUE}),
            None,
        );
        let (saves, response) = run_child(&endpoint, store, &payload, Some(kill_at));
        assert_eq!((saves, response), (kill_at, None), "killed at save {kill_at}");
        let made = if kill_at == 1 { 0 } else { 1 };
        assert_eq!(
            creates() - before,
            made,
            "save {kill_at} comes {} CreateSecret",
            if made == 0 { "before" } else { "after" }
        );

        let (resumed_saves, response) = run_child(&endpoint, store, &payload, None);
        let response = response.expect("the resumed process answers");
        assert_eq!(response["status"], "SUCCESS", "resumed after save {kill_at}: {response}");
        assert!(response["resourceModel"]["Id"].as_str().unwrap().contains(&secret), "{response}");
        // Killed before CreateSecret, the call is made (and its request saved) again; after
        // it, the run goes on from the next save.
        let rest = if kill_at == 1 { SAVES } else { SAVES - kill_at };
        assert_eq!(resumed_saves, rest, "the resumed run goes on from save {kill_at}");
        assert_eq!(creates() - before, 1, "one CreateSecret for {secret}");
    }

    let counters = proxy.counters();
    assert!(counters.throttled > 0 && counters.writes_lagged > 0, "AWS-like: {counters:?}");

    // The final state, from moto itself: each secret once, with its value.
    let sm = aws_sdk_secretsmanager::Client::new(&settle_emulator::moto_sdk_config());
    block_on(async {
        let listed = sm.list_secrets().send().await.unwrap();
        let ours: Vec<&str> =
            listed.secret_list().iter().filter_map(|s| s.name()).filter(|n| n.starts_with(&name)).collect();
        assert_eq!(ours.len() as u64, SAVES, "{ours:?}");
        for kill_at in 1..=SAVES {
            let value = sm.get_secret_value().secret_id(format!("{name}-{kill_at}")).send().await.unwrap();
            assert_eq!(value.secret_string(), Some(SECRET_VALUE));
        }
    });
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

#[test]
fn a_handler_killed_after_each_step_resumes_from_the_file_memo() {
    let proxy = settle_emulator::proxy_in_front_of_moto(aws_like());
    let memos = tempfile::tempdir().unwrap();
    kill_after_each_save(&proxy, &Store::Dir(memos.path()), "cfn-crash-file");
    assert_eq!(
        std::fs::read_dir(memos.path())
            .unwrap()
            .filter(|e| { e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json") })
            .count(),
        0,
        "finished memos are removed"
    );
}

#[test]
fn a_handler_killed_after_each_step_resumes_from_the_dynamodb_memo() {
    let proxy = settle_emulator::proxy_in_front_of_moto(aws_like());
    let table = settle_emulator::unique_name("cfn-memos");
    // The table is made at moto directly (no lag to wait out); the memo store goes through the
    // proxy, lag, throttling and all.
    let ddb = aws_sdk_dynamodb::Client::new(&settle_emulator::moto_sdk_config());
    block_on(async {
        use aws_sdk_dynamodb::types::*;
        ddb.create_table()
            .table_name(&table)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
    });
    kill_after_each_save(&proxy, &Store::Table(&table), "cfn-crash-ddb");
    assert!(forwarded(&proxy, "dynamodb:PutItem") >= 2 * SAVES, "the memos went through the proxy");
    let items = block_on(ddb.scan().table_name(&table).consistent_read(true).send()).unwrap();
    assert_eq!(items.count(), 0, "finished memos are removed");
}
