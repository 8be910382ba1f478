//! The README's settle-proxy snippet is the crate documentation's, which `cargo test` compiles.

#[test]
fn the_readme_held_visibility_snippet_is_the_compiled_doc_test() {
    let readme = include_str!("../../../README.md");
    let lib = include_str!("../src/lib.rs");
    let start = readme.find("### Deterministic tests").expect("the README section");
    let block = readme[start..].split("```rust\n").nth(1).and_then(|b| b.split("```").next()).unwrap();
    let doc: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!block.trim().is_empty());
    assert!(doc.contains(block.trim_end()), "README snippet differs from src/lib.rs docs:\n{block}");
}
