//! Stage 4: a timeline, one panel per operation (the busiest [`MAX_PANELS`]), of attempts,
//! throttles, injected errors and lag answers per second, drawn with `plotters` to SVG or, by the
//! file's extension, PNG. Text is laid out (and, in a PNG, drawn) with DejaVu Sans, built into the
//! binary (`assets/`, Bitstream Vera licence) and read by the pure-Rust `ab_glyph`: no system font
//! or library is needed.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

/// The font of every label.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

use super::kind::Kind;
use super::read::Recording;
use super::summary::Summary;

/// The most operations drawn; the rest are named as left out.
const MAX_PANELS: usize = 8;
/// At most about this many time bins across the whole recording.
const BINS: u64 = 30;
/// Bin widths, ms: the narrowest that gives at most [`BINS`] bins (a round number to read).
const BIN_STEPS_MS: &[u64] =
    &[250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 3_600_000];
const WIDTH: u32 = 960;
const PANEL_HEIGHT: u32 = 220;

/// What could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The extension is neither `.svg` nor `.png`.
    #[error("--plot {0}: the file must end in .svg or .png")]
    Extension(std::path::PathBuf),
    /// plotters failed to lay out or draw.
    #[error("drawing the plot: {0}")]
    Draw(String),
    /// The file could not be written.
    #[error("writing the plot to {path}: {source}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The series of one panel: label, colour, which events.
const SERIES: [(&str, RGBColor, Option<Kind>); 4] = [
    ("attempts", RGBColor(31, 119, 180), None),
    ("throttled", RGBColor(214, 39, 40), Some(Kind::Throttled)),
    ("injected errors", RGBColor(148, 103, 189), Some(Kind::Injected)),
    ("lag answers", RGBColor(255, 127, 14), Some(Kind::Lag)),
];

/// Draws the timeline to `path`: SVG for `.svg`, PNG for `.png`.
pub fn draw(recording: &Recording, summary: &Summary, path: &Path) -> Result<(), PlotError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let write = |source| PlotError::Write { path: path.to_path_buf(), source };
    match extension.as_deref() {
        Some("svg") => {
            let svg = render(recording, summary).map_err(PlotError::Draw)?;
            std::fs::write(path, svg).map_err(write)
        }
        Some("png") => render_png(recording, summary, path).map_err(PlotError::Draw),
        _ => Err(PlotError::Extension(path.to_path_buf())),
    }
}

/// Registers the built-in font under the family every label names, once.
fn font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    ok.then_some(()).ok_or_else(|| "the built-in font could not be read".to_string())
}

/// The panels drawn (the busiest first), how many were left out, and the picture's size.
fn layout(summary: &Summary) -> (Vec<&super::summary::Row>, usize, (u32, u32)) {
    let mut rows: Vec<_> = summary.operations.iter().collect();
    rows.sort_by(|a, b| {
        b.calls.cmp(&a.calls).then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
    });
    let left_out = rows.len().saturating_sub(MAX_PANELS);
    rows.truncate(MAX_PANELS);
    let height = 40 + PANEL_HEIGHT * rows.len().max(1) as u32;
    (rows, left_out, (WIDTH, height))
}

/// The timeline as a PNG file (plotters' bitmap backend encodes and writes it).
fn render_png(recording: &Recording, summary: &Summary, path: &Path) -> Result<(), String> {
    let (_, _, size) = layout(summary);
    draw_on(BitMapBackend::new(path, size).into_drawing_area(), recording, summary)
        .map_err(|e| format!("{e} (writing {})", path.display()))
}

/// The bin width for a recording spanning `span_ms`.
fn bin_width(span_ms: u64) -> u64 {
    let wanted = span_ms.div_ceil(BINS);
    BIN_STEPS_MS.iter().copied().find(|&step| step >= wanted).unwrap_or(wanted)
}

/// Per second, in bins of `bin_ms` from the recording's start, as steps (each bin's start and
/// end at its height: a rate held over the bin, not a line between samples).
fn binned(recording: &Recording, summary: &Summary, op: u32, bin_ms: u64) -> Vec<Vec<(f64, f64)>> {
    let bins = (summary.span_ms / bin_ms + 1) as usize;
    let mut counts = vec![vec![0u32; bins]; SERIES.len()];
    for e in recording.events.iter().filter(|e| e.op == op) {
        let bin = ((e.at_ms - summary.start_ms) / bin_ms) as usize;
        for (series, (_, _, wanted)) in SERIES.iter().enumerate() {
            if wanted.is_none_or(|w| w == e.kind) {
                counts[series][bin] += 1;
            }
        }
    }
    let per_s = 1000.0 / bin_ms as f64;
    counts
        .into_iter()
        .map(|c| {
            c.into_iter()
                .enumerate()
                .flat_map(|(i, n)| {
                    let (start, rate) = ((i as u64 * bin_ms) as f64 / 1000.0, n as f64 * per_s);
                    [(start, rate), (start + bin_ms as f64 / 1000.0, rate)]
                })
                .collect()
        })
        .collect()
}

/// The timeline as SVG text.
fn render(recording: &Recording, summary: &Summary) -> Result<String, String> {
    let (_, _, size) = layout(summary);
    let mut svg = String::new();
    draw_on(SVGBackend::with_string(&mut svg, size).into_drawing_area(), recording, summary)?;
    Ok(svg)
}

/// Draws every panel on `root`, whatever the backend.
fn draw_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    recording: &Recording,
    summary: &Summary,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    font()?;
    let (rows, left_out, _) = layout(summary);
    let bin_ms = bin_width(summary.span_ms);
    let span_s = (summary.span_ms + bin_ms) as f64 / 1000.0;
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut title = format!(
            "settle report: {} requests over {:.1} s (per second, bins of {} ms)",
            summary.calls,
            summary.span_ms as f64 / 1000.0,
            bin_ms
        );
        if left_out > 0 {
            title += &format!("; {left_out} quieter operations not drawn");
        }
        let root = root.titled(&title, ("sans-serif", 18)).map_err(|e| e.to_string())?;
        let panels = root.split_evenly((rows.len().max(1), 1));
        for (panel, row) in panels.iter().zip(rows) {
            let op = recording
                .operations
                .iter()
                .position(|o| (&o.service, &o.operation) == (&row.service, &row.operation))
                .ok_or_else(|| {
                    format!("{} {} is in the summary but not the recording", row.service, row.operation)
                })?;
            let series = binned(recording, summary, op as u32, bin_ms);
            let top = series[0].iter().map(|p| p.1).fold(1.0, f64::max) * 1.8; // room for the legend above the data
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("{} {}", row.service, row.operation), ("sans-serif", 15))
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(48)
                .build_cartesian_2d(0f64..span_s, 0f64..top)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc("seconds from start")
                .y_desc("per second")
                .light_line_style(WHITE)
                .draw()
                .map_err(|e| e.to_string())?;
            for ((label, colour, _), points) in SERIES.iter().zip(series) {
                if points.iter().all(|p| p.1 == 0.0) {
                    continue;
                }
                let colour = *colour;
                chart
                    .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(*label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_round_and_at_most_about_thirty() {
        assert_eq!(bin_width(0), 250);
        assert_eq!(bin_width(4_210), 250);
        assert_eq!(bin_width(20_000), 1000);
        assert_eq!(bin_width(3_600_000), 300_000);
        assert_eq!(bin_width(1_000 * 3_600_000), 120_000_000, "beyond the steps: span / 30");
    }
}
