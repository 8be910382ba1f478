//! The README's post-condition snippet is the example's code, which compiles.

#[test]
fn the_readme_post_condition_snippet_is_the_compiled_example() {
    let root = env!("CARGO_MANIFEST_DIR");
    let example = std::fs::read_to_string(format!("{root}/examples/settle_ssm.rs")).unwrap();
    let readme = std::fs::read_to_string(format!("{root}/../../README.md")).unwrap();
    let region = example
        .split("// README: post-conditions\n")
        .nth(1)
        .and_then(|rest| rest.split("    // README: end").next())
        .expect("the example marks its README region");
    let snippet: Vec<&str> = region.trim_end().lines().map(|l| l.strip_prefix("    ").unwrap_or(l)).collect();
    let block = format!("```rust\n{}\n```", snippet.join("\n"));
    assert!(snippet.len() > 10, "{block}");
    assert!(readme.contains(&block), "README.md must show the example's region verbatim:\n{block}");
}
