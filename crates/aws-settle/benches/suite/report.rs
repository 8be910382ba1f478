//! The suite's output: tables printed as markdown and written as JSON, from the same values.

use serde::Serialize;
use serde_json::Value;

/// One table: a caption, column names, rows of cells (text or numbers) and a note on method.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Stable name, the key in the JSON (`strategies`, `batch`, `overhead`, `cache`).
    pub name: &'static str,
    pub caption: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Value>>,
    pub note: String,
}

impl Table {
    pub fn new(name: &'static str, caption: impl Into<String>, columns: &[&'static str]) -> Self {
        Table {
            name,
            caption: caption.into(),
            columns: columns.to_vec(),
            rows: Vec::new(),
            note: String::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Value>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }

    /// The numbers of column `column` (cells that are numbers).
    pub fn column(&self, column: &str) -> Vec<f64> {
        let Some(i) = self.columns.iter().position(|c| *c == column) else { return Vec::new() };
        self.rows.iter().filter_map(|r| r[i].as_f64()).collect()
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "**{}**\n\n| {} |\n|{}\n",
            self.caption,
            self.columns.join(" | "),
            "---|".repeat(self.columns.len())
        );
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(cell).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        if !self.note.is_empty() {
            out.push_str(&format!("\n{}\n", self.note));
        }
        out
    }
}

/// A number with as many decimals as its size needs; text as is.
fn cell(value: &Value) -> String {
    match value {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let a = x.abs();
            if n.is_u64() || n.is_i64() || a >= 100.0 || (x.fract() == 0.0 && a > 0.0) {
                format!("{x:.0}")
            } else if a >= 10.0 {
                format!("{x:.1}")
            } else {
                format!("{x:.2}")
            }
        }
        Value::String(s) => s.clone(),
        Value::Null => "–".to_string(),
        other => other.to_string(),
    }
}

/// A number cell (NaN and infinities become null: JSON has no NaN).
pub fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

pub fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// The whole run: how it was made and every table.
#[derive(Debug, Serialize)]
pub struct Report {
    pub command: String,
    pub quick: bool,
    pub seed: u64,
    pub cores: usize,
    pub os: String,
    pub tables: Vec<Table>,
}

impl Report {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "`{}` — {} core(s), {}, seed {}{}\n\n",
            self.command,
            self.cores,
            self.os,
            self.seed,
            if self.quick { ", quick mode" } else { "" }
        );
        for table in &self.tables {
            out.push_str(&table.markdown());
            out.push('\n');
        }
        out
    }
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
