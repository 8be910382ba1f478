//! Overhead: calls per second on loopback with nothing attached, telemetry, the enforcer and the
//! governor.
//!
//! Through settle-proxy with no faults (pass-through to moto), one task, the same run:
//! GetParameter (a read: the enforcer records nothing) and PutParameter with overwrite (a write:
//! `.settled()` adds its read-back), each on a plain client, an instrumented client, and an
//! instrumented client with an enforcer attached, and a governed client (local, and shared on
//! Valkey). Ratios are against the plain client in the same
//! run; the variants are interleaved three times so drift in the machine's load hits all alike.
//!
//! Then the report's own costs, without the network: ns per event emitted into a telemetry (the
//! report's per-row counters and duration histogram; no subscriber, no recorder), and the time
//! `report()` takes over 100 rows after 400,000 calls (its cost does not grow with the calls).

use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;
use aws_settle::govern::{FleetOptions, Governor, Limits, govern};
use aws_settle::observe::{Event, EventKind, Telemetry, instrument};
use aws_settle::post::{Enforcer, SettleExt, attach};

use super::report::{Table, num, text};

async fn reads(ssm: &Client, name: &str, calls: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..calls {
        ssm.get_parameter().name(name).send().await.unwrap();
    }
    started.elapsed()
}

async fn writes(ssm: &Client, name: &str, calls: usize, settle: bool) -> Duration {
    let started = Instant::now();
    for i in 0..calls {
        let put = ssm.put_parameter().name(name).value(format!("v{i}")).overwrite(true).send();
        if settle {
            put.settled().await.unwrap();
        } else {
            put.await.unwrap();
        }
    }
    started.elapsed()
}

/// ns per event emitted, and µs per `report()` over 50 rows, after 400,000 calls.
fn report_costs() -> (f64, f64) {
    let telemetry = Telemetry::new();
    let event = |id: u64, kind: EventKind| Event {
        call_id: id,
        service: "ssm".into(),
        operation: format!("Op{}", id % 50),
        kind,
        attempt: 1,
        at: std::time::SystemTime::now(),
        duration: Some(Duration::from_micros(100 + id % 100_000)),
        status: Some(200),
        error_code: None,
        read_back: id.is_multiple_of(7),
    };
    let events: Vec<Event> = (0..400_000u64)
        .flat_map(|id| [event(id, EventKind::CallStart), event(id, EventKind::CallEnd { ok: true })])
        .collect();
    let started = Instant::now();
    for e in events.iter().cloned() {
        telemetry.emit(e);
    }
    let per_event = started.elapsed().as_secs_f64() * 1e9 / events.len() as f64;
    let started = Instant::now();
    let reports = 100;
    for _ in 0..reports {
        std::hint::black_box(telemetry.report());
    }
    let per_report = started.elapsed().as_secs_f64() * 1e6 / f64::from(reports);
    assert_eq!(telemetry.report().rows.len(), 100, "50 operations, each with its read-backs");
    (per_event, per_report)
}

/// What a variant's calls are.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Calls {
    Reads,
    Writes,
    SettledWrites,
}

/// The overhead table: `calls` calls per variant against `endpoint` (the pass-through proxy).
pub fn table(endpoint: &str, calls: usize) -> Table {
    let config = settle_emulator::sdk_config(endpoint);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let plain = Client::new(&config);
    let telemetry = Telemetry::new();
    let observed = instrument(plain.clone(), &telemetry);
    let enforcer = Enforcer::new();
    let both = attach(observed.clone(), &enforcer);
    // A rate no variant reaches: what pacing costs when it never has to wait.
    let limits = Limits::new(1e6).with_account(&settle_emulator::unique_name("overhead"));
    let local = govern(plain.clone(), &Governor::local(limits.clone()));
    let valkey = settle_emulator::ValkeyServer::start().expect("valkey starts");
    let shared = {
        let _entered = runtime.enter();
        let fleet =
            Governor::fleet(&valkey.url(), limits, FleetOptions::default()).expect("the fleet governor");
        govern(plain.clone(), &fleet)
    };
    let name = format!("/settle/bench/{}", settle_emulator::unique_name("overhead"));
    let variants = [
        ("GetParameter, plain client", &plain, Calls::Reads),
        ("GetParameter, + telemetry (instrumented)", &observed, Calls::Reads),
        ("GetParameter, + telemetry + enforcer", &both, Calls::Reads),
        ("GetParameter, + governor (local, rate never reached)", &local, Calls::Reads),
        ("GetParameter, + governor (shared on Valkey, lease)", &shared, Calls::Reads),
        ("PutParameter, plain client", &plain, Calls::Writes),
        ("PutParameter, + telemetry (instrumented)", &observed, Calls::Writes),
        ("PutParameter, + telemetry + enforcer, .settled()", &both, Calls::SettledWrites),
        ("PutParameter, + governor (local, rate never reached)", &local, Calls::Writes),
    ];

    let totals = runtime.block_on(async {
        plain.put_parameter().name(&name).value("v").r#type(ParameterType::String).send().await.unwrap();
        // Warm up connections and caches on every client.
        for (_, client, _) in &variants {
            reads(client, &name, 20).await;
        }
        let mut totals = vec![Duration::ZERO; variants.len()];
        for _ in 0..3 {
            for (total, (_, client, kind)) in totals.iter_mut().zip(&variants) {
                *total += match kind {
                    Calls::Reads => reads(client, &name, calls / 3).await,
                    Calls::Writes => writes(client, &name, calls / 3, false).await,
                    Calls::SettledWrites => writes(client, &name, calls / 3, true).await,
                };
            }
        }
        totals
    });
    let per_variant = 3 * (calls / 3);
    let mut table = Table::new(
        "overhead",
        format!(
            "Overhead: {per_variant} calls per variant through settle-proxy (pass-through) to moto, one task"
        ),
        &["variant", "calls/s", "ms per call", "ratio to plain"],
    );
    for (i, (label, _, kind)) in variants.iter().enumerate() {
        let base = if *kind == Calls::Reads { totals[0] } else { totals[5] };
        table.row(vec![
            text(*label),
            num(per_variant as f64 / totals[i].as_secs_f64()),
            num(totals[i].as_secs_f64() * 1000.0 / per_variant as f64),
            num(totals[i].as_secs_f64() / base.as_secs_f64()),
        ]);
    }
    drop(valkey);
    let stats = enforcer.stats();
    assert_eq!(stats.checks_passed as usize, per_variant, "every settled write read back once: {stats:?}");
    let (per_event, per_report) = report_costs();
    table.note = format!(
        "A settled write is the write plus its read-back: about 2x the plain write is the expected cost. \
         The governor rows pace at a rate they never reach, so they show what taking a slot costs \
         (the shared one leases its share from Valkey once a second, off the request path). \
         Telemetry without the network: {per_event:.0} ns per event emitted; `report()` over 100 rows \
         after 400,000 calls: {per_report:.0} µs."
    );
    table
}
