//! Loss and accuracy charts built from a variant's history (plus the live batch loss).

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition};

use crate::runs::UnitRecord;
use crate::tui::theme::Theme;

/// Points of one chart, already transformed (log10 when asked).
#[derive(Debug, Default)]
pub struct Series {
    pub train: Vec<(f64, f64)>,
    pub test: Vec<(f64, f64)>,
    /// Validation (holdout) metric per epoch; empty where the test set is monitored.
    pub val: Vec<(f64, f64)>,
    /// Lower and upper edges of the seed-to-seed band (grid cells of repeated variants).
    pub band_lo: Vec<(f64, f64)>,
    pub band_hi: Vec<(f64, f64)>,
    /// The band as a fill: a braille dot at every dot position between its edges
    /// (`fill_band`, once the scale and the plot's size are known).
    pub band_fill: Vec<(f64, f64)>,
    pub batch: Vec<(f64, f64)>,
    /// EMA-smoothed batch loss (drawn over the faint raw line).
    pub smooth: Vec<(f64, f64)>,
    /// The smoothed line's legend name, with its weight ("batch EMA 0.90").
    pub smooth_name: String,
    /// The best validation-loss epoch, as one point.
    pub best: Vec<(f64, f64)>,
    /// Where early stopping would have stopped: a vertical line.
    pub stop: Vec<(f64, f64)>,
    /// The epoch cursor (`←`/`→`): a vertical line.
    pub cursor: Vec<(f64, f64)>,
    pub x_max: f64,
    pub y: (f64, f64),
    pub log: bool,
    /// Plot rows and columns on screen (0: unknown); curves within a row of each other share
    /// cells, and the legend goes where it covers the fewest curve cells.
    pub rows: u16,
    pub cols: u16,
}

fn transform(v: f64, log: bool) -> f64 {
    if log {
        v.max(1e-6).log10()
    } else {
        v
    }
}

fn bounds(points: impl Iterator<Item = f64>, floor_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in points.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if floor_zero {
        // Losses are non-negative: anchor the axis at zero so curves compare honestly.
        lo = 0.0;
    }
    if (hi - lo).abs() < 1e-9 {
        hi = lo + 1e-3;
    }
    let pad = (hi - lo) * 0.05;
    (if floor_zero { lo } else { lo - pad }, hi + pad)
}

/// What to draw besides the curves.
#[derive(Debug, Clone, Copy)]
pub struct Extras {
    pub smooth: bool,
    pub patience: usize,
    /// The EMA's weight per batch (said in the legend).
    pub weight: f64,
    /// Its weight per point of `batch` (points may average several batches).
    pub weight_per_point: f64,
}

/// Loss per epoch (train, test), the running batch loss of the running variant, and with
/// `extras` its EMA smoothing and the best / early-stopping markers.
pub fn loss_series_with(
    v: &UnitRecord,
    batch: &[(f64, f64)],
    log: bool,
    extras: Option<Extras>,
) -> Series {
    let mut s = plain_series(v, batch, log);
    let Some(x) = extras else { return s };
    if x.smooth && !batch.is_empty() {
        // TensorBoard's debiased EMA over every batch's own loss.
        let ys: Vec<f64> = batch.iter().map(|p| p.1).collect();
        s.smooth_name = format!("batch EMA {:.2}", x.weight);
        s.smooth = crate::insight::curves::ema(&ys, x.weight_per_point)
            .into_iter()
            .zip(batch)
            .map(|(y, p)| (p.0, transform(y, log)))
            .collect();
    }
    if let Some(e) = crate::insight::curves::best_epoch(&v.history) {
        if let Some(m) = v.history.iter().find(|m| m.epoch == e) {
            s.best = vec![(e as f64, transform(m.monitored_loss() as f64, log))];
        }
    }
    if let Some(e) = crate::insight::curves::early_stop_epoch(&v.history, x.patience) {
        s.stop = vec![(e as f64, s.y.0), (e as f64, s.y.1)];
    }
    s
}

fn plain_series(v: &UnitRecord, batch: &[(f64, f64)], log: bool) -> Series {
    let train: Vec<(f64, f64)> = v
        .history
        .iter()
        .map(|m| (m.epoch as f64, transform(m.train_loss as f64, log)))
        .collect();
    let test: Vec<(f64, f64)> = v
        .history
        .iter()
        .map(|m| (m.epoch as f64, transform(m.test_loss as f64, log)))
        .collect();
    let val: Vec<(f64, f64)> = v
        .history
        .iter()
        .filter_map(|m| Some((m.epoch as f64, transform(m.val_loss? as f64, log))))
        .collect();
    let batch: Vec<(f64, f64)> = batch.iter().map(|&(x, y)| (x, transform(y, log))).collect();
    let y = bounds(
        train
            .iter()
            .chain(&test)
            .chain(&val)
            .chain(&batch)
            .map(|p| p.1),
        !log,
    );
    Series {
        train,
        test,
        val,
        batch,
        x_max: v.spec.epochs as f64,
        y,
        log,
        ..Default::default()
    }
}

pub fn accuracy_series(v: &UnitRecord) -> Series {
    let train: Vec<(f64, f64)> = v
        .history
        .iter()
        .map(|m| (m.epoch as f64, m.train_acc as f64))
        .collect();
    let test: Vec<(f64, f64)> = v
        .history
        .iter()
        .map(|m| (m.epoch as f64, m.test_acc as f64))
        .collect();
    let val: Vec<(f64, f64)> = v
        .history
        .iter()
        .filter_map(|m| Some((m.epoch as f64, m.val_acc? as f64)))
        .collect();
    let y = bounds(train.iter().chain(&test).chain(&val).map(|p| p.1), false);
    Series {
        train,
        test,
        val,
        x_max: v.spec.epochs as f64,
        y: (y.0.max(0.0), y.1.min(1.0).max(y.0 + 1e-3)),
        ..Default::default()
    }
}

fn label(v: f64, log: bool) -> String {
    if log {
        format!("{:.3}", 10f64.powf(v))
    } else {
        format!("{v:.3}")
    }
}

/// The key of a chart too small for its legend (ratatui leaves a legend out when it would
/// take over half the plot's width or 9/10 of its height): each line's mark (without colour)
/// and name, in its style, for the chart's title. Empty when the legend shows.
pub fn title_key(s: &Series, theme: Theme) -> Vec<Span<'static>> {
    if legend_fits(s, legend_box(&layers(s, theme, true))) {
        return Vec::new();
    }
    // "≈": the curve ends under one drawn later, as the legend would have said.
    let (val_name, train_name) = overlap_names(s);
    let tag = |n: &str| if n.contains('≈') { "≈" } else { "" };
    let (train, val) = (
        format!("train{}", tag(&train_name)),
        format!("val{}", tag(&val_name)),
    );
    let lines = [
        (&s.train, train.as_str(), theme.train(), '+'),
        (&s.test, "test", theme.test(), 'x'),
        (&s.val, val.as_str(), theme.val(), 'o'),
    ];
    lines
        .into_iter()
        .filter(|l| !l.0.is_empty())
        .map(|(_, name, style, mark)| {
            let text = if theme.color {
                format!("{name} ")
            } else {
                format!("{mark} {name} ")
            };
            Span::styled(text, style)
        })
        .collect()
}

/// The legend names of validation and train: "≈ under …" where the curve's end lies within
/// a row of a curve drawn after it (test is drawn last, then train before it).
fn overlap_names(s: &Series) -> (String, String) {
    let row = (s.y.1 - s.y.0) / if s.rows > 0 { s.rows as f64 } else { 20.0 };
    let under = |a: &[(f64, f64)], later: &[&[(f64, f64)]]| -> Option<usize> {
        let &(x, y) = a.last()?;
        later
            .iter()
            .position(|b| y_at(b, x).is_some_and(|yb| (yb - y).abs() < row))
    };
    let names = ["train", "test"];
    let val_name = match under(&s.val, &[&s.train, &s.test]) {
        Some(i) => format!("validation ≈ under {}", names[i]),
        None => "validation".to_string(),
    };
    let train_name = match under(&s.train, &[&s.test]) {
        Some(_) => "train ≈ under test".to_string(),
        None => "train".to_string(),
    };
    (val_name, train_name)
}

/// One series as the chart draws it: points, legend name, style, mark and kind.
type Layer<'a> = (&'a Vec<(f64, f64)>, String, Style, Marker, GraphType);

/// The series a chart draws, back to front, with their legend names (empty for small
/// multiples, and for the seed band); empty series are left out.
fn layers(s: &Series, theme: Theme, axes: bool) -> Vec<Layer<'_>> {
    // (points, legend name, style, scatter?) of each series drawn, back to front; empty ones
    // are skipped, and small multiples get no legend names. Test, the reported metric, is
    // drawn last; a curve whose end lies under a later one says so ("≈ under test").
    let (val_name, train_name) = overlap_names(s);
    // Without colour each line has its own mark, shown before its legend name.
    let mark = |m: char| {
        if theme.color {
            Marker::Braille
        } else {
            Marker::Custom(m)
        }
    };
    let cursor_name = s
        .cursor
        .first()
        .map_or(String::new(), |c| format!("epoch {}", c.0));
    // The seed band: filled where its fill was made, else its two edges.
    let (band_lo, band_hi) = if s.band_fill.is_empty() {
        (&s.band_lo, &s.band_hi)
    } else {
        (&s.band_fill, &s.band_fill)
    };
    let band_kind = if s.band_fill.is_empty() {
        GraphType::Line
    } else {
        GraphType::Scatter
    };
    let band_mark = if s.band_fill.is_empty() {
        mark(':')
    } else {
        Marker::Braille
    };
    let layers: [Layer; 10] = [
        (band_lo, String::new(), theme.band(), band_mark, band_kind),
        (
            if s.band_fill.is_empty() {
                band_hi
            } else {
                &s.band_hi
            },
            String::new(),
            theme.band(),
            mark(':'),
            GraphType::Line,
        ),
        // Without colour the raw batch losses are dots under the braille EMA.
        (
            &s.batch,
            "batch".into(),
            theme.batch(),
            if theme.color {
                Marker::Braille
            } else {
                Marker::Dot
            },
            GraphType::Line,
        ),
        (
            &s.smooth,
            s.smooth_name.clone(),
            theme.smooth(),
            Marker::Braille,
            GraphType::Line,
        ),
        (&s.val, val_name, theme.val(), mark('o'), GraphType::Line),
        (
            &s.train,
            train_name,
            theme.train(),
            mark('+'),
            GraphType::Line,
        ),
        (
            &s.test,
            "test".into(),
            theme.test(),
            mark('x'),
            GraphType::Line,
        ),
        (
            &s.stop,
            "early stop".into(),
            theme.marker(),
            mark('|'),
            GraphType::Line,
        ),
        (
            &s.best,
            "best".into(),
            theme.good(),
            Marker::Custom('★'),
            GraphType::Scatter,
        ),
        (
            &s.cursor,
            cursor_name,
            theme.title(),
            mark('▏'),
            GraphType::Line,
        ),
    ];
    let swatch = |m: Marker| match m {
        Marker::Custom(c) => c.to_string(),
        Marker::Dot => "•".into(),
        _ => "⣿".into(),
    };
    let shown: Vec<_> = layers
        .into_iter()
        .filter(|(data, ..)| !data.is_empty())
        .map(|(data, name, style, marker, kind)| {
            let name = match (axes, name.is_empty(), theme.color) {
                (false, ..) | (_, true, _) => String::new(),
                (true, false, true) => name,
                (true, false, false) => format!("{} {name}", swatch(marker)),
            };
            (data, name, style, marker, kind)
        })
        .collect();
    shown
}

/// The legend box of `shown`: its widest name and one line per name, inside a border.
fn legend_box(shown: &[Layer]) -> (u16, u16) {
    (
        shown
            .iter()
            .map(|l| super::fit::width(&l.1))
            .max()
            .unwrap_or(0) as u16
            + 2,
        shown.iter().filter(|l| !l.1.is_empty()).count() as u16 + 2,
    )
}

/// Whether ratatui draws a legend of `size` in a plot of `s.rows` × `s.cols` (it hides one
/// wider than half the plot or taller than 9/10 of it: `LEGEND_LIMITS`).
fn legend_fits(s: &Series, size: (u16, u16)) -> bool {
    s.rows == 0
        || (size.0 as u32 * LEGEND_LIMITS.0 .1 <= s.cols as u32 * LEGEND_LIMITS.0 .0
            && size.1 as u32 * LEGEND_LIMITS.1 .1 <= s.rows as u32 * LEGEND_LIMITS.1 .0)
}

/// The largest legend ratatui is told to draw, as fractions of the plot: (width, height).
const LEGEND_LIMITS: ((u32, u32), (u32, u32)) = ((1, 2), (9, 10));

/// A chart with train/test lines (and a faint batch line); `axes` false for small multiples.
pub fn chart<'a>(s: &'a Series, block: Block<'a>, theme: Theme, axes: bool) -> Chart<'a> {
    let shown = layers(s, theme, axes);
    let legend = legend_box(&shown);
    let sets: Vec<Dataset<'a>> = shown
        .into_iter()
        .map(|(data, name, style, marker, kind)| {
            Dataset::default()
                .name(name)
                .marker(marker)
                .graph_type(kind)
                .style(style)
                .data(data)
        })
        .collect();
    let (x_min, x_max) = x_range(s);
    let mut x = Axis::default().bounds([x_min, x_max]).style(theme.dim());
    let mut y = Axis::default().bounds([s.y.0, s.y.1]).style(theme.dim());
    if axes {
        x = x.title("epoch").labels(epoch_labels(x_min, x_max));
        y = y.labels([
            Span::raw(label(s.y.0, s.log)),
            Span::raw(label((s.y.0 + s.y.1) / 2.0, s.log)),
            Span::raw(label(s.y.1, s.log)),
        ]);
    }
    let chart = Chart::new(sets)
        .block(block)
        .x_axis(x)
        .y_axis(y)
        .style(Style::new());
    if axes {
        chart
            // The legend goes where it covers fewest curve cells, so it may be tall.
            .hidden_legend_constraints((
                Constraint::Ratio(LEGEND_LIMITS.0 .0, LEGEND_LIMITS.0 .1),
                Constraint::Ratio(LEGEND_LIMITS.1 .0, LEGEND_LIMITS.1 .1),
            ))
            .legend_position(Some(emptiest_corner(s, legend)))
    } else {
        chart.legend_position(None)
    }
}

impl Series {
    /// Fills the seed band: a point at every braille dot between its edges, for a plot of
    /// `rows` × `cols` cells on the current scale (a band read as a fill, not as two more
    /// lines like the mean's). The upper edge is still drawn as a line over it.
    pub fn fill_band(&mut self, rows: u16, cols: u16) {
        self.band_fill.clear();
        if self.band_lo.is_empty() || rows == 0 || cols == 0 {
            return;
        }
        let (x0, x1) = x_range(self);
        let (y0, y1) = self.y;
        let (dx, dy) = (cols as usize * 2, rows as usize * 4);
        for i in 0..dx {
            let x = x0 + (i as f64 + 0.5) / dx as f64 * (x1 - x0);
            let (Some(lo), Some(hi)) = (y_at(&self.band_lo, x), y_at(&self.band_hi, x)) else {
                continue;
            };
            for j in 0..dy {
                let y = y0 + (j as f64 + 0.5) / dy as f64 * (y1 - y0);
                if y >= lo && y <= hi {
                    self.band_fill.push((x, y));
                }
            }
        }
    }
}

/// Width of a chart's y-axis labels (ratatui puts the plot right of the widest).
pub fn y_label_width(s: &Series) -> u16 {
    [s.y.0, (s.y.0 + s.y.1) / 2.0, s.y.1]
        .iter()
        .map(|v| label(*v, s.log).chars().count())
        .max()
        .unwrap_or(0) as u16
}

/// Clicks under a bordered chart's x-axis (its axis line and labels) put the epoch cursor on
/// the epoch under them: one target per column of the plot, epochs 1..=`last`.
pub fn epoch_hits(
    hits: &mut crate::tui::hits::Hits,
    area: ratatui::layout::Rect,
    (x0, x1): (f64, f64),
    y_label_w: u16,
    last: usize,
) {
    if last == 0 || area.height < 5 {
        return;
    }
    let start = area.x + 1 + y_label_w + 1;
    let width = area.right().saturating_sub(1).saturating_sub(start);
    for c in 0..width {
        let x = x0 + (c as f64 + 0.5) / width as f64 * (x1 - x0);
        let epoch = (x.round() as usize).clamp(1, last);
        hits.add(
            ratatui::layout::Rect::new(start + c, area.bottom() - 3, 1, 2),
            crate::tui::hits::Target::Epoch(epoch),
        );
    }
}

/// A curve's y at `x`: its point there, or the line between the points around it.
pub fn y_at(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let i = points.iter().position(|p| p.0 >= x)?;
    let (x1, y1) = points[i];
    if x1 == x || i == 0 {
        return (x1 == x).then_some(y1);
    }
    let (x0, y0) = points[i - 1];
    Some(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
}

/// The epoch axis: from the first epoch (no empty stretch before it), or from 0 where a
/// batch-loss line draws the first epoch's progress; one epoch is centred.
pub fn x_range(s: &Series) -> (f64, f64) {
    let x_max = s.x_max.max(1.0);
    let from_zero = !s.batch.is_empty() || !s.smooth.is_empty();
    match (from_zero, x_max > 1.0) {
        (true, _) => (0.0, x_max),
        (false, true) => (1.0, x_max),
        (false, false) => (0.5, 1.5),
    }
}

/// Labels of an epoch axis from `x_min` to `x_max`, which ratatui spaces evenly: whole
/// epochs only, a middle label only where it falls on one (for epochs 1–4 it would sit at 2.5).
pub fn epoch_labels(x_min: f64, x_max: f64) -> Vec<Span<'static>> {
    if x_max - x_min == 1.0 && x_min.fract() == 0.5 {
        // One epoch, centred: its number under it.
        return vec![
            Span::raw(""),
            Span::raw(format!("{}", x_min + 0.5)),
            Span::raw(""),
        ];
    }
    let mid = (x_min + x_max) / 2.0;
    if mid.fract() == 0.0 && x_max - x_min >= 2.0 {
        vec![
            Span::raw(format!("{x_min}")),
            Span::raw(format!("{mid}")),
            Span::raw(format!("{x_max}")),
        ]
    } else {
        vec![Span::raw(format!("{x_min}")), Span::raw(format!("{x_max}"))]
    }
}

/// Where the legend hides the least data: of the four corners, the one whose legend box
/// (`legend` cells wide and high) covers the fewest cells the curves pass through, the curves
/// sampled at every column. Without the plot's size (`rows`/`cols` 0), the right corner the
/// curves' ends are far from.
pub fn emptiest_corner(s: &Series, legend: (u16, u16)) -> LegendPosition {
    let curves = [&s.train, &s.test, &s.val, &s.batch, &s.smooth];
    let (x0, x1) = x_range(s);
    if s.rows > 0 && s.cols > 0 {
        let (fw, fh) = (
            legend.0 as f64 / s.cols as f64,
            legend.1 as f64 / s.rows as f64,
        );
        let mut cells: Vec<(f64, f64)> = Vec::new();
        for c in 0..s.cols {
            let x = x0 + (x1 - x0) * (c as f64 + 0.5) / s.cols as f64;
            for pts in curves {
                if let Some(y) = y_at(pts, x).or_else(|| {
                    pts.last()
                        .filter(|p| (p.0 - x).abs() * s.cols as f64 <= (x1 - x0))
                        .map(|p| p.1)
                }) {
                    let fy = (y - s.y.0) / (s.y.1 - s.y.0);
                    cells.push(((x - x0) / (x1 - x0), fy));
                }
            }
        }
        let corners = [
            (LegendPosition::TopRight, 1.0 - fw, 1.0 - fh),
            (LegendPosition::BottomRight, 1.0 - fw, 0.0),
            (LegendPosition::TopLeft, 0.0, 1.0 - fh),
            (LegendPosition::BottomLeft, 0.0, 0.0),
        ];
        let covered = |&(_, cx, cy): &(LegendPosition, f64, f64)| {
            cells
                .iter()
                .filter(|(x, y)| *x >= cx && *x <= cx + fw && *y >= cy && *y <= cy + fh)
                .count()
        };
        if let Some(best) = corners.iter().min_by_key(|c| covered(c)) {
            return best.0;
        }
    }
    let right = 0.6 * s.x_max.max(1.0);
    let ends: Vec<f64> = curves
        .iter()
        .flat_map(|pts| pts.iter().filter(|p| p.0 >= right).map(|p| p.1))
        .filter(|y| y.is_finite())
        .collect();
    if ends.is_empty() {
        return LegendPosition::TopRight;
    }
    let mean = ends.iter().sum::<f64>() / ends.len() as f64;
    if mean > (s.y.0 + s.y.1) / 2.0 {
        LegendPosition::BottomRight
    } else {
        LegendPosition::TopRight
    }
}

/// A repeated variant's test loss: the mean over its units at each epoch, with the band from
/// the lowest to the highest unit (min–max over seeds). Epochs only some units reached yet
/// average those.
pub fn mean_band_series(units: &[&UnitRecord], log: bool) -> Series {
    let epochs = units.iter().map(|u| u.history.len()).max().unwrap_or(0);
    let (mut mean, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
    for e in 0..epochs {
        let ys: Vec<f64> = units
            .iter()
            .filter_map(|u| u.history.get(e).map(|m| m.test_loss as f64))
            .filter(|y| y.is_finite())
            .collect();
        if ys.is_empty() {
            continue;
        }
        let x = (e + 1) as f64;
        let m = ys.iter().sum::<f64>() / ys.len() as f64;
        let (a, b) = ys
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
                (a.min(y), b.max(y))
            });
        mean.push((x, transform(m, log)));
        lo.push((x, transform(a, log)));
        hi.push((x, transform(b, log)));
    }
    let x_max = units.iter().map(|u| u.spec.epochs).max().unwrap_or(1) as f64;
    let y = bounds(lo.iter().chain(&hi).map(|p| p.1), !log);
    Series {
        test: mean,
        band_lo: lo,
        band_hi: hi,
        x_max,
        y,
        log,
        ..Default::default()
    }
}

/// A chart's series as a figure panel (`E`), in the light theme's colours (figures are drawn
/// on white): the same curves, ranges and order the chart draws.
pub fn panel(title: String, y_label: &str, s: &Series) -> crate::export::figure::Panel {
    use crate::export::figure::{Curve, Kind, Panel};
    let light = Theme {
        color: true,
        light: true,
    };
    let rgb = |st: Style| {
        st.fg
            .and_then(crate::tui::theme::rgb_of)
            .unwrap_or((0x60, 0x60, 0x60))
    };
    let mut curves = Vec::new();
    if !s.band_lo.is_empty() {
        curves.push(Curve {
            name: "min–max over seeds".into(),
            points: s.band_lo.clone(),
            rgb: rgb(light.band()),
            kind: Kind::Band(s.band_hi.clone()),
        });
    }
    let lines = [
        (&s.batch, "batch", light.batch(), Kind::Faint),
        (
            &s.smooth,
            s.smooth_name.as_str(),
            light.smooth(),
            Kind::Line,
        ),
        (&s.val, "validation", light.val(), Kind::Line),
        (&s.train, "train", light.train(), Kind::Line),
        (&s.test, "test", light.test(), Kind::Line),
        (&s.stop, "early stop", light.marker(), Kind::Line),
        (&s.best, "best", light.good(), Kind::Points),
    ];
    for (pts, name, style, kind) in lines {
        if !pts.is_empty() {
            curves.push(Curve {
                name: name.to_string(),
                points: pts.clone(),
                rgb: rgb(style),
                kind,
            });
        }
    }
    Panel {
        title,
        y_label: y_label.to_string(),
        log: s.log,
        x: x_range(s),
        y: s.y,
        curves,
    }
}
