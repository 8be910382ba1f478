//! `settle demo`, the README's main command: the naive script fails under the proxy's lag, the
//! settled one passes, and the command exits 0 only then.

use std::process::Command;

#[test]
fn the_demo_shows_the_naive_script_failing_and_the_settled_one_passing() {
    let out = Command::new(env!("CARGO_BIN_EXE_settle")).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "settle demo failed:\n{stdout}\n{stderr}");
    let naive = stdout.split("Settled script").next().unwrap();
    let settled = stdout.split("Settled script").nth(1).expect("a settled section");
    // The naive run's writes are held until it ends, so each of its steps fails on any machine.
    assert_eq!(naive.matches("  FAIL  ").count(), 4, "{stdout}");
    assert!(naive.contains("FAIL  PutParameter, then GetParameter reads it"), "{stdout}");
    assert!(!settled.contains("FAIL"), "{stdout}");
    assert_eq!(settled.matches("  ok    ").count(), 4, "{stdout}");
    assert!(stdout.contains("the settled one passed them all"), "{stdout}");
}
