//! `curves.png` / `curves.svg`: train and test loss of every variant as small multiples,
//! drawn with plotters and a bundled font (no system font libraries needed).

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::runs::{RunRecord, UnitStatus};

static FONT: &[u8] = include_bytes!("../../../../assets/DejaVuSans.ttf");

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is valid; if registration ever failed, text would be missing.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

const CELL: (u32, u32) = (420, 300);

/// At most this many small multiples: beyond it a picture is no longer readable (and at
/// 5,000 units it was 149 MB). The best units by the kept test loss are drawn, the title says
/// how many of how many, and every unit's numbers stay in `epochs.csv`.
pub const MAX_PANELS: usize = 30;

/// The units drawn: all when they fit, else the `MAX_PANELS` with the lowest final test loss.
fn panels(record: &RunRecord) -> Vec<&crate::runs::UnitRecord> {
    let mut all: Vec<&crate::runs::UnitRecord> = record.units.iter().collect();
    if all.len() > MAX_PANELS {
        let key = |v: &crate::runs::UnitRecord| match (v.status, v.final_metrics()) {
            (UnitStatus::Finished, Some(m)) if m.test_loss.is_finite() => m.test_loss,
            _ => f32::INFINITY,
        };
        all.sort_by(|a, b| key(a).total_cmp(&key(b)));
        all.truncate(MAX_PANELS);
    }
    all
}

/// Draws into memory and encodes a PNG: the file is then written like any other (atomically,
/// never through a link planted at its name).
pub(crate) fn png_bytes(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    draw(BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area())?;
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, size.0, size.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().context("encoding PNG")?;
    w.write_image_data(&rgb).context("encoding PNG")?;
    w.finish().context("encoding PNG")?;
    Ok(out)
}

/// Grid shape for `n` small multiples: up to 5 columns.
pub fn grid_shape(n: usize) -> (usize, usize) {
    let cols = (n as f64).sqrt().ceil().clamp(1.0, 5.0) as usize;
    (cols, n.div_ceil(cols).max(1))
}

pub fn image_size(n: usize) -> (u32, u32) {
    let (cols, rows) = grid_shape(n.min(MAX_PANELS));
    (CELL.0 * cols as u32, CELL.1 * rows as u32 + 60)
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, record: &RunRecord) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let (title, body) = root.split_vertically(60);
    let shown = panels(record);
    let which = if shown.len() < record.units.len() {
        format!(
            " — the {} best of {} units by final test loss (all in epochs.csv)",
            shown.len(),
            record.units.len()
        )
    } else {
        String::new()
    };
    title
        .titled(
            &format!(
                "{} — train (blue) and test (red) loss per epoch{which}",
                record.preset
            ),
            ("sans-serif", if which.is_empty() { 26 } else { 18 })
                .into_font()
                .color(&BLACK),
        )
        .map_err(err)?;
    let n = shown.len();
    let (cols, rows) = grid_shape(n);
    let cells = body.split_evenly((rows, cols));
    let y_max = shown
        .iter()
        .flat_map(|v| v.history.iter().flat_map(|m| [m.train_loss, m.test_loss]))
        .filter(|x| x.is_finite())
        .fold(0.0f32, f32::max)
        .max(1e-3) as f64
        * 1.05;
    for (v, cell) in shown.iter().zip(cells.iter()) {
        let caption = match (v.status, v.final_metrics()) {
            (UnitStatus::Finished, Some(m)) => {
                format!(
                    "{}  (test {:.4}, acc {:.4})",
                    v.spec.name, m.test_loss, m.test_acc
                )
            }
            _ => format!("{}  ({:?})", v.spec.name, v.status).to_lowercase(),
        };
        let epochs = v.spec.epochs.max(2) as f64;
        let mut chart = ChartBuilder::on(cell)
            .margin(8)
            .caption(caption, ("sans-serif", 15))
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(1.0..epochs, 0.0..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("loss")
            .x_labels(5)
            .y_labels(5)
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 12))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()
            .map_err(err)?;
        let series = |f: fn(&crate::spec::EpochMetrics) -> f32| {
            v.history
                .iter()
                .filter(move |m| f(m).is_finite())
                .map(move |m| (m.epoch as f64, f(m) as f64))
        };
        chart
            .draw_series(LineSeries::new(
                series(|m| m.train_loss),
                BLUE.stroke_width(2),
            ))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                series(|m| m.test_loss),
                RED.stroke_width(2),
            ))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Writes `curves.png` into `dir` (via a temporary file and a rename).
pub fn write_png(dir: &Path, record: &RunRecord) -> Result<()> {
    write_png_to(&dir.join("curves.png"), record)
}

/// Writes the curves as a PNG at `path`.
pub fn write_png_to(path: &Path, record: &RunRecord) -> Result<()> {
    register_font();
    let size = image_size(record.units.len());
    let bytes = png_bytes(size, |area| draw(area, record))
        .with_context(|| format!("{}: cannot draw", path.display()))?;
    super::write_atomic(path, &bytes)
}

/// Writes `curves.svg` into `dir`.
pub fn write_svg(dir: &Path, record: &RunRecord) -> Result<()> {
    write_svg_to(&dir.join("curves.svg"), record)
}

/// Writes the curves as an SVG at `path`.
pub fn write_svg_to(path: &Path, record: &RunRecord) -> Result<()> {
    register_font();
    let mut svg = String::new();
    let size = image_size(record.units.len());
    draw(
        SVGBackend::with_string(&mut svg, size).into_drawing_area(),
        record,
    )?;
    super::write_atomic(path, svg.as_bytes())
}

fn drawing_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing: {e:?}")
}

/// A K×K confusion matrix as a PNG heat map: cell shade by the row's rate, count inside
/// (where the cells are large enough to read it).
pub fn write_confusion_png(
    path: &Path,
    name: &str,
    m: &crate::insight::confusion::Matrix,
) -> Result<()> {
    register_font();
    let k = m.len().max(1) as i32;
    // Counts shrink with the cells (26 px of label offset is half a cell of ten classes).
    let half_cell = 260 / k;
    let font = (130 / k).clamp(7, 13) as u32;
    let bytes = png_bytes((620, 660), |root| {
        root.fill(&WHITE).map_err(drawing_error)?;
        // A reversed y range is plotters' way of putting row 0 at the top.
        #[allow(clippy::reversed_empty_ranges)]
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{name}: confusion (rows true, columns predicted)"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(30)
            .build_cartesian_2d(0i32..k, k..0i32)
            .map_err(drawing_error)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(k.min(30) as usize)
            .y_labels(k.min(30) as usize)
            .x_label_offset(half_cell)
            .y_label_offset(-half_cell)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(drawing_error)?;
        for (t, row) in m.iter().enumerate() {
            let total = row.iter().sum::<u32>().max(1) as f64;
            for (p, &c) in row.iter().enumerate() {
                let rate = c as f64 / total;
                let shade = if t == p {
                    RGBColor(
                        255 - (155.0 * rate) as u8,
                        255 - (60.0 * rate) as u8,
                        255 - (155.0 * rate) as u8,
                    )
                } else {
                    let r = (rate * 20.0).min(1.0);
                    RGBColor(255, 255 - (150.0 * r) as u8, 255 - (150.0 * r) as u8)
                };
                let (x, y) = (p as i32, t as i32);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1, y + 1)],
                        shade.filled(),
                    )))
                    .map_err(drawing_error)?;
                if k <= 30 {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            c.to_string(),
                            (x, y),
                            ("sans-serif", font).into_font(),
                        )))
                        .map_err(drawing_error)?;
                }
            }
        }
        root.present().map_err(drawing_error)?;
        Ok(())
    })?;
    super::write_atomic(path, &bytes)
}
