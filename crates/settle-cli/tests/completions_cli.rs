//! `settle completions SHELL`: a script each shell accepts, naming the subcommands and flags;
//! bash's is loaded into a real bash and asked for completions.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

fn completions(shell: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_settle")).args(["completions", shell]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Sources the bash script in a non-interactive bash and runs `then` there; its output.
fn in_bash(then: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let script = std::env::temp_dir().join(format!(
        "settle-completion-{}-{}.bash",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&script, completions("bash")).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && {then}", script.display()))
        .output()
        .unwrap();
    std::fs::remove_file(&script).unwrap();
    assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// What bash offers after `settle WORDS…` (the last word being completed), called as bash calls it.
fn offered(words: &[&str]) -> String {
    let line = words.join(" ");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    in_bash(&format!(
        "COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT={}; _settle settle '{}' '{}'; echo \"${{COMPREPLY[@]}}\"",
        quoted.join(" "),
        words.len() - 1,
        line.len(),
        words[words.len() - 1],
        words[words.len() - 2],
    ))
}

#[test]
fn bash_loads_the_script_and_registers_settle() {
    let registered = in_bash("complete -p settle");
    assert!(registered.contains("-F _settle") && registered.trim_end().ends_with(" settle"), "{registered}");
}

#[test]
fn bash_completes_subcommands_flags_and_values() {
    assert_eq!(offered(&["settle", "rep"]), "report\n");
    assert_eq!(offered(&["settle", "report", "--for"]), "--format\n");
    assert_eq!(offered(&["settle", "report", "--format", ""]), "text json markdown\n");
    assert_eq!(offered(&["settle", "completions", "f"]), "fish\n");
}

#[test]
fn each_shell_names_the_subcommands_and_flags() {
    for (shell, marker) in [("bash", "_settle()"), ("zsh", "#compdef settle"), ("fish", "complete -c settle")]
    {
        let script = completions(shell);
        assert!(script.contains(marker), "{shell}: {marker}");
        for word in ["report", "proxy", "waiter", "completions", "moto", "plot", "markdown"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_listing_the_known_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_settle")).args(["completions", "tcsh"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for shell in ["tcsh", "bash", "zsh", "fish"] {
        assert!(stderr.contains(shell), "names {shell}: {stderr}");
    }
}
