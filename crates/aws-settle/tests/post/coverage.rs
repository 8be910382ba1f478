//! The README's coverage table is the rule tables, row for row.

use aws_settle::post::coverage;

#[test]
fn the_readme_lists_every_covered_operation_and_what_it_checks() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let rows: Vec<String> =
        coverage().iter().map(|c| format!("| {} | {} | {} |", c.service, c.operation, c.checks)).collect();
    assert!(rows.len() >= 38, "every service feature is on in this test: {}", rows.len());
    let missing: Vec<&String> = rows.iter().filter(|row| !readme.contains(row.as_str())).collect();
    assert!(
        missing.is_empty(),
        "README.md lacks these coverage rows (the whole table follows):\n{}",
        rows.join("\n")
    );
}
