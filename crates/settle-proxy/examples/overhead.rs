//! Measures settle-proxy on loopback against the shared moto: median added latency per
//! request with all faults off (direct vs through the proxy, interleaved in the same run),
//! and lag accuracy (observed visibility time − configured lag).
//!
//! `cargo run -p settle-proxy --example overhead [--release]`

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn call(client: &HttpClient, endpoint: &str, op: &str, body: String) -> u16 {
    let request = http::Request::post(format!("{endpoint}/"))
        .header("x-amz-target", format!("AmazonSSM.{op}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20250101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    status
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let moto = settle_emulator::shared_moto().endpoint();
    let proxy = settle_proxy::Proxy::builder().upstream(&moto).start().await.unwrap();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let name = settle_emulator::unique_name("/settle/bench");
    let get = serde_json::json!({ "Name": name }).to_string();
    call(
        &client,
        &moto,
        "PutParameter",
        serde_json::json!({"Name": name, "Value": "v", "Type": "String"}).to_string(),
    )
    .await;
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    for i in 0..400 {
        for (endpoint, out) in [(&moto, &mut direct), (&proxy.endpoint(), &mut proxied)] {
            let t = Instant::now();
            assert_eq!(call(&client, endpoint, "GetParameter", get.clone()).await, 200);
            if i >= 20 {
                out.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    let (d, p) = (median(direct), median(proxied));
    println!("| path (SSM GetParameter, loopback, n=380) | median ms |");
    println!("|---|---|");
    println!("| direct to moto | {d:.3} |");
    println!("| through settle-proxy, faults off | {p:.3} |");
    println!("| added by the proxy | {:.3} |", p - d);

    // Lag accuracy: fixed 500 ms lag; poll every 5 ms from the write's answer.
    let lag = Duration::from_millis(500);
    proxy.set_config(settle_proxy::Config::with_lag(settle_proxy::Dist::Fixed(lag).into()));
    let mut errors = Vec::new();
    for _ in 0..10 {
        let name = settle_emulator::unique_name("/settle/lagacc");
        let put = serde_json::json!({"Name": name, "Value": "v", "Type": "String"}).to_string();
        call(&client, &proxy.endpoint(), "PutParameter", put).await;
        let written = Instant::now();
        let get = serde_json::json!({ "Name": name }).to_string();
        while call(&client, &proxy.endpoint(), "GetParameter", get.clone()).await != 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        errors.push(written.elapsed().as_secs_f64() * 1000.0 - lag.as_secs_f64() * 1000.0);
    }
    let records = proxy.visibility(None, Some("PutParameter"));
    let recorded: Vec<f64> = records
        .iter()
        .map(|r| r.visible_at_ms.unwrap_or(f64::NAN) - r.written_at_ms - r.lag_ms.unwrap_or(f64::NAN))
        .collect();
    println!();
    println!("| lag accuracy (fixed 500 ms, poll 5 ms, n=10) | ms |");
    println!("|---|---|");
    println!("| observed visibility − lag, median | {:.1} |", median(errors.clone()));
    println!(
        "| observed visibility − lag, min / max | {:.1} / {:.1} |",
        errors.iter().cloned().fold(f64::MAX, f64::min),
        errors.iter().cloned().fold(f64::MIN, f64::max)
    );
    println!(
        "| recorded visible_at − written_at − lag, max | {:.3} |",
        recorded.iter().cloned().fold(0.0, f64::max)
    );
}
