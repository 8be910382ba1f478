//! The README's coverage table is the rule tables, row for row, both ways.

use std::collections::BTreeSet;

use aws_settle::post::coverage;

/// The rows `(service, operation, checks)` of the table under `### Coverage` in README.md.
fn readme_rows() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme.split("### Coverage\n").nth(1).expect("README.md has a ### Coverage section");
    let section = section.split("\n#").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| service ") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "a coverage row has 3 cells: {l}");
            (cells[0].to_string(), cells[1].to_string(), cells[2].to_string())
        })
        .collect()
}

#[test]
fn the_readme_coverage_table_and_the_rule_tables_are_the_same_rows() {
    let readme: Vec<(String, String, String)> = readme_rows();
    let rules: Vec<(String, String, String)> = coverage()
        .iter()
        .map(|c| (c.service.to_string(), c.operation.to_string(), c.checks.to_string()))
        .collect();
    // The breadth issue's bar: at least 90 operations over at least 12 services.
    let operations: BTreeSet<(&str, &str)> = rules.iter().map(|(s, o, _)| (s.as_str(), o.as_str())).collect();
    let services: BTreeSet<&str> = operations.iter().map(|(s, _)| *s).collect();
    assert!(
        operations.len() >= 90,
        "every service feature is on in this test: {} operations",
        operations.len()
    );
    assert!(services.len() >= 12, "{services:?}");
    let (in_readme, in_rules): (BTreeSet<_>, BTreeSet<_>) = (readme.iter().collect(), rules.iter().collect());
    assert_eq!(readme.len(), in_readme.len(), "README.md repeats a row");
    let missing: Vec<_> = in_rules.difference(&in_readme).collect();
    let extra: Vec<_> = in_readme.difference(&in_rules).collect();
    let table: Vec<String> = rules.iter().map(|(s, o, c)| format!("| {s} | {o} | {c} |")).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README.md lacks {missing:?} and lists rules that do not exist {extra:?}; the table is:\n{}",
        table.join("\n")
    );
}
