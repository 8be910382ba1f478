//! Stage 3: the summary as text (aligned columns), Markdown (a table) or JSON.

use super::summary::{Row, Summary, number};

/// The column headers, shared by text and Markdown.
const HEADERS: [&str; 11] = [
    "service",
    "operation",
    "calls",
    "throttled",
    "share",
    "injected",
    "lag",
    "p50 ms",
    "p99 ms",
    "req/s",
    "limit/s",
];

fn cells(row: &Row) -> [String; 11] {
    [
        row.service.clone(),
        row.operation.clone(),
        row.calls.to_string(),
        row.throttled.to_string(),
        format!("{:.1}%", row.throttled_share * 100.0),
        row.injected_errors.to_string(),
        row.lag_served.to_string(),
        format!("{:.2}", row.p50_ms),
        format!("{:.2}", row.p99_ms),
        number(row.rate_per_s),
        row.limit_seen_per_s.map_or("-".to_string(), number),
    ]
}

fn headline(summary: &Summary) -> String {
    let start = humantime::format_rfc3339_millis(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(summary.start_ms),
    );
    format!(
        "{} requests, {} operations, over {:.1} s from {start}",
        summary.calls,
        summary.operations.len(),
        summary.span_ms as f64 / 1000.0
    )
}

/// Aligned columns (names left, numbers right), then the findings.
pub fn text(summary: &Summary) -> String {
    let rows: Vec<[String; 11]> = summary.operations.iter().map(cells).collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).chain([HEADERS[i].len()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..HEADERS.len()).map(width).collect();
    let line = |cells: &[&str]| {
        let parts: Vec<String> =
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < 2 { format!("{c:<w$}", w = widths[i]) } else { format!("{c:>w$}", w = widths[i]) }
                })
                .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = headline(summary) + "\n\n";
    out += &line(&HEADERS);
    for row in &rows {
        out += &line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out += &findings(summary, "");
    out
}

/// A Markdown table, then the findings as a list.
pub fn markdown(summary: &Summary) -> String {
    let mut out = format!("# settle report\n\n{}\n\n", headline(summary));
    out += &format!("| {} |\n", HEADERS.join(" | "));
    out += &format!("|{}\n", ["---|"; 2].into_iter().chain(["---:|"; 9]).collect::<String>());
    for row in summary.operations.iter().map(cells) {
        out += &format!("| {} |\n", row.join(" | "));
    }
    out += &findings(summary, "- ");
    out
}

/// The summary as pretty JSON.
pub fn json(summary: &Summary) -> String {
    serde_json::to_string_pretty(summary).expect("a summary is plain data") + "\n"
}

fn findings(summary: &Summary, bullet: &str) -> String {
    if summary.findings.is_empty() {
        return "\nNo throttling, injected errors or lag.\n".to_string();
    }
    let mut out = "\nFindings:\n".to_string();
    if !bullet.is_empty() {
        out.push('\n');
    }
    for finding in &summary.findings {
        out += &format!("{}{finding}\n", if bullet.is_empty() { "  " } else { bullet });
    }
    out
}
