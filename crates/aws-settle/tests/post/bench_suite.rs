//! The benchmark suite's quick mode runs and every table comes out with sane values.

#[allow(dead_code, unused_imports)]
#[path = "../../benches/suite/main.rs"]
mod suite;

#[test]
fn the_quick_suite_emits_every_table_with_sane_values() {
    let args = suite::Args { quick: true, json: None, seed: 14, only: Vec::new() };
    let report = suite::run(&args);
    let markdown = report.markdown();
    for name in ["strategies", "batch", "overhead", "cache"] {
        let table = report.table(name).unwrap_or_else(|| panic!("no {name} table"));
        assert!(!table.rows.is_empty(), "{name} has rows");
        assert!(markdown.contains(&table.caption), "{name} is printed");
    }

    let strategies = report.table("strategies").unwrap();
    let overshoot = strategies.column("median overshoot ms");
    let reads = strategies.column("reads/write");
    assert_eq!(overshoot.len(), strategies.rows.len());
    assert!(overshoot.iter().all(|o| *o >= 0.0), "{overshoot:?}");
    assert!(reads.iter().all(|r| *r >= 1.0), "{reads:?}");
    // The offline optimum is the frontier: no strategy beats it on either count.
    for (i, row) in strategies.rows.iter().enumerate() {
        if row[1] == "offline optimum" {
            let lag = &row[0];
            for (j, other) in strategies.rows.iter().enumerate().filter(|(_, r)| &r[0] == lag) {
                assert!(overshoot[i] <= overshoot[j] && reads[i] <= reads[j], "{other:?} beats the optimum");
            }
        }
    }
    assert_eq!(
        strategies.rows.iter().filter(|r| r[1] == "offline optimum").count(),
        4,
        "four lag distributions"
    );

    // On a memoryless lag the bound is (½ − 1%) / (1 − e^(−h)): every window catches the same share.
    let h = 0.125;
    let needed = suite::strategies_reads_needed(h);
    let exact = 0.49 / (1.0 - (-h).exp());
    assert!((needed - exact).abs() < 0.01 * exact, "{needed} vs {exact}");

    let batch = report.table("batch").unwrap();
    assert!(batch.column("reads/write").iter().all(|r| *r >= 1.0));
    assert!(batch.column("wall s").iter().all(|w| *w > 0.0));
    let overhead = report.table("overhead").unwrap();
    assert_eq!(overhead.column("calls/s").len(), 9);
    assert_eq!(
        overhead.rows.iter().filter(|r| r[0].as_str().is_some_and(|v| v.contains("governor"))).count(),
        3
    );
    assert!(overhead.column("calls/s").iter().all(|c| *c > 0.0));
    let cache = report.table("cache").unwrap();
    assert!(cache.column("ClientCache").iter().all(|v| *v > 0.0), "{:?}", cache.rows);

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["tables"].as_array().unwrap().len(), 4);
    assert!(json["cores"].as_u64().unwrap() >= 1);
}
