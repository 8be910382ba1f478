//! `settle proxy` end to end: the flags reach the proxy, it says when it is ready, and a taken
//! port is a clear error with a non-zero exit.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Ready, boto3, get, ready, ready_line, request, settle};

#[test]
fn the_flags_configure_the_proxy_and_it_reports_when_ready() {
    let record = std::env::temp_dir().join(format!("settle-proxy-cli-{}.jsonl", std::process::id()));
    let mut child = settle()
        .args(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0"])
        .args(["--lag", "500ms..3s", "--throttle", "5/s", "--errors", "0.01", "--latency", "20ms..80ms"])
        .args(["--seed", "7", "--record"])
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, token) = ready_line(&mut child);
    assert_eq!(token.len(), 32, "the ready line ends with the control token");

    let health = get(&addr, "/__settle/health", "");
    let config = get(&addr, "/__settle/config", &token);
    let refused = get(&addr, "/__settle/config", "wrong");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_file(&record);

    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    for expected in ["500ms..3s", "20ms..80ms", "0.01", "\"seed\":7"] {
        assert!(config.contains(expected), "the config has {expected}: {config}");
    }
}

#[test]
fn a_taken_port_is_a_clear_error_and_a_non_zero_exit() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out =
        settle().args(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", &addr]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exits non-zero");
    assert!(stderr.contains(&addr) && stderr.contains("in use"), "says which port and why: {stderr}");
}

#[test]
fn a_bad_flag_value_names_the_flag_form() {
    let out = settle().args(["proxy", "--upstream", "http://127.0.0.1:9", "--lag", "soon"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("soon"), "names the bad value: {stderr}");
}

#[test]
fn sigterm_stops_it_like_ctrl_c_with_every_answered_request_recorded() {
    let record = std::env::temp_dir().join(format!("settle-proxy-term-{}.jsonl", std::process::id()));
    let mut child = settle()
        .args(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--record"])
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, _) = ready_line(&mut child);
    // 300 requests on one keep-alive connection, each answered (502: nothing listens upstream).
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for i in 0..300 {
        stream.write_all(format!("GET /item-{i} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 502"), "{status}");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
    }
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&record).unwrap();
    let _ = std::fs::remove_file(&record);
    assert!(status.success(), "SIGTERM is a clean stop, not death by signal: {status:?}");
    assert_eq!(text.lines().count(), 300, "every answered request is in the recording");
}

#[test]
fn exactly_one_of_upstream_and_moto() {
    let both = settle().args(["proxy", "--moto", "--upstream", "http://127.0.0.1:9"]).output().unwrap();
    let neither = settle().args(["proxy", "--lag", "2s"]).output().unwrap();
    for out in [both, neither] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "a usage error: {stderr}");
        assert!(stderr.contains("--upstream") && stderr.contains("--moto"), "names both: {stderr}");
    }
}

/// `settle proxy --moto --lag hold`: the proxy starts its own moto; boto3 writes a parameter
/// through it, reads NotFound while the write is held (no time window: held until released), and
/// reads it once the control endpoint releases it with the printed token.
#[test]
fn with_moto_and_held_lag_boto3_sees_a_write_only_once_released() {
    settle_emulator::ensure_moto_venv().unwrap();
    let mut child = settle()
        .args(["proxy", "--moto", "--lag", "hold", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let Ready { addr, token, upstream, export } = ready(&mut child);
    let name = settle_emulator::unique_name("/settle/cli-moto");

    let before = boto3(
        &export,
        &format!(
            "ssm.put_parameter(Name='{name}', Value='v1', Type='String')\n\
             try:\n    print(ssm.get_parameter(Name='{name}')['Parameter']['Value'])\n\
             except ssm.exceptions.ParameterNotFound:\n    print('ParameterNotFound')"
        ),
    );
    let released = request("POST", &addr, "/__settle/release", &token);
    let after = boto3(&export, &format!("print(ssm.get_parameter(Name='{name}')['Parameter']['Value'])"));
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(upstream.starts_with("http://127.0.0.1:") && upstream != format!("http://{addr}"), "{upstream}");
    assert_eq!(before, "ParameterNotFound\n", "the write is held invisible");
    assert!(released.starts_with("HTTP/1.1 200") && released.contains("\"released\":1"), "{released}");
    assert_eq!(after, "v1\n", "visible once released");
}

/// The README's `settle proxy --config` schema is a working config, with each key where it says.
#[test]
fn the_readmes_config_schema_is_a_working_config() {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme.find("### `settle proxy --config FILE`").unwrap()..];
    let toml = &section[section.find("```toml\n").unwrap() + 8..];
    let toml = &toml[..toml.find("```").unwrap()];
    let config = settle_proxy::Config::from_toml(toml).unwrap();
    assert_eq!(
        (config.seed, config.max_body_bytes, config.record_params),
        (Some(7), 16 * 1024 * 1024, false)
    );
    let put = config.effective("ssm", "PutParameter");
    assert_eq!(put.lag.unwrap().to_string(), "2s", "the operation's lag wins");
    assert_eq!(put.operation_throttle.unwrap().to_string(), "3/s:3", "burst = rate by default");
    assert_eq!(
        put.service_throttle.unwrap().to_string(),
        "10/s:20",
        "the service's bucket replaces the global"
    );
    assert_eq!(config.effective("ssm", "GetParameter").lag.unwrap().to_string(), "exp:1s");
    assert_eq!(config.effective("sqs", "SendMessage").latency.unwrap().to_string(), "20ms..80ms");
    assert!(!config.effective("dynamodb", "PutItem").enabled);
    let s3 = config.effective("s3", "PutObject");
    assert_eq!(
        (s3.prefix_reads.unwrap().to_string(), s3.prefix_writes.unwrap().to_string()),
        ("5500/s:5500".to_string(), "3500/s:3500".to_string())
    );
    assert_eq!(config.effective("ssm", "GetParameter").operation_throttle.unwrap().to_string(), "40/s:40");
    assert_eq!(config.effective("iam", "CreateRole").errors, 0.01);

    // And the binary takes it as a file.
    let path = std::env::temp_dir().join(format!("settle-readme-config-{}.toml", std::process::id()));
    std::fs::write(&path, toml).unwrap();
    let mut child = settle()
        .args(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, token) = ready_line(&mut child);
    let served = get(&addr, "/__settle/config", &token);
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(served.contains("\"PutParameter\"") && served.contains("10/s:20"), "{served}");
}

/// `settle proxy --mitm`: boto3 keeps the real SSM endpoint and is given only the two printed
/// variables (HTTPS_PROXY, AWS_CA_BUNDLE); its calls reach moto through the proxy and a local TLS
/// front (the test's stand-in for AWS: never the internet), and the proxy's throttling applies.
#[test]
fn with_mitm_boto3_at_the_real_endpoint_is_throttled_through_the_printed_exports() {
    use std::os::unix::fs::PermissionsExt;
    let moto = settle_emulator::shared_moto();
    let dir = std::env::temp_dir().join(settle_emulator::unique_name("settle-cli-mitm"));
    let front = settle_emulator::TlsFront::start(
        ([127, 0, 0, 1], moto.port()).into(),
        &["ssm.us-east-1.amazonaws.com"],
        &dir,
    )
    .unwrap();
    let mut child = settle()
        .args(["proxy", "--mitm", "--throttle", "1/h:1", "--listen", "127.0.0.1:0", "--ca-dir"])
        .arg(dir.join("ca"))
        .args(["--mitm-upstream", &front.addr().to_string(), "--mitm-upstream-ca"])
        .arg(front.ca_pem())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = [String::new(), String::new(), String::new()];
    for line in &mut lines {
        stdout.read_line(line).unwrap();
    }
    let ca = dir.join("ca").join("ca.pem");
    assert!(lines[0].contains("-> HTTPS CONNECT targets"), "{lines:?}");
    assert!(lines[1].starts_with(&format!("local CA: {}", ca.display())), "{lines:?}");
    let exports = lines[2].trim_end().strip_prefix("export ").unwrap();
    let (proxy, bundle) = exports.split_once(' ').unwrap();
    let python = settle_emulator::venv_dir().join("bin/python");
    let out = Command::new(python)
        .args([
            "-c",
            "import boto3, botocore.config, botocore.exceptions\n\
             ssm = boto3.client('ssm', config=botocore.config.Config(retries={'mode': 'standard', 'total_max_attempts': 2}))\n\
             print(ssm.meta.endpoint_url)\n\
             ssm.describe_parameters()\n\
             try:\n    ssm.get_parameter(Name='/settle/absent')\n\
             except botocore.exceptions.ClientError as e:\n    print(e.response['Error']['Code'])",
        ])
        .env("HTTPS_PROXY", proxy.strip_prefix("HTTPS_PROXY=").unwrap())
        .env("AWS_CA_BUNDLE", bundle.strip_prefix("AWS_CA_BUNDLE=").unwrap())
        .env("AWS_ACCESS_KEY_ID", settle_emulator::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", settle_emulator::SECRET_ACCESS_KEY)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let key_mode = std::fs::metadata(dir.join("ca").join("ca-key.pem")).unwrap().permissions().mode();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "boto3: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "https://ssm.us-east-1.amazonaws.com\nThrottlingException\n",
        "the real endpoint, throttled by the proxy"
    );
    assert_eq!(key_mode & 0o777, 0o600, "the CA key is its owner's only");
}
