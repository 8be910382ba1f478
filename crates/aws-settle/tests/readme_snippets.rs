//! Every Rust snippet of the README's sections on call chains, observability and the client cache
//! is compiled: each is, line for line (indentation aside), a part of `examples/readme.rs`, which
//! `cargo test --features full` and `cargo clippy --all-targets` build.

const README: &str = include_str!("../../../README.md");
const EXAMPLE: &str = include_str!("../examples/readme.rs");

/// The ```rust blocks of the README section whose heading starts with `heading`.
fn rust_blocks(heading: &str) -> Vec<Vec<&'static str>> {
    let start =
        README.find(&format!("\n{heading}")).unwrap_or_else(|| panic!("README has no section {heading}"));
    let section = &README[start + 1..];
    let end = section[1..].find("\n## ").map_or(section.len(), |e| e + 1);
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in section[..end].lines() {
        match (&mut current, line.trim_end()) {
            (None, "```rust") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), line) => block.push(line.trim()),
            (None, _) => {}
        }
    }
    blocks
}

fn in_example(block: &[&str]) -> bool {
    let lines: Vec<&str> = EXAMPLE.lines().map(str::trim).collect();
    lines.windows(block.len()).any(|w| w == block)
}

#[test]
fn the_readme_snippets_of_chains_observability_and_the_cache_are_the_compiled_example() {
    for heading in ["## Call chains", "## Observability", "## Client cache", "## Fleet rate governor"] {
        let blocks = rust_blocks(heading);
        assert!(!blocks.is_empty(), "{heading} has a Rust snippet");
        for block in blocks {
            assert!(
                in_example(&block),
                "this snippet of {heading} is not in examples/readme.rs:\n{}",
                block.join("\n")
            );
        }
    }
}

#[test]
fn a_changed_snippet_is_found_out() {
    let mut block = rust_blocks("## Call chains").remove(0);
    assert!(in_example(&block));
    block[1] = "let attribute = 42;";
    assert!(!in_example(&block));
}
