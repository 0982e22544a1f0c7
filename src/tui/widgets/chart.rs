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
    pub batch: Vec<(f64, f64)>,
    /// EMA-smoothed batch loss (drawn over the faint raw line).
    pub smooth: Vec<(f64, f64)>,
    /// The smoothed line's legend name, with its weight ("batch EMA 0.90").
    pub smooth_name: String,
    /// The best validation-loss epoch, as one point.
    pub best: Vec<(f64, f64)>,
    /// Where early stopping would have stopped: a vertical line.
    pub stop: Vec<(f64, f64)>,
    pub x_max: f64,
    pub y: (f64, f64),
    pub log: bool,
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

/// A chart with train/test lines (and a faint batch line); `axes` false for small multiples.
pub fn chart<'a>(s: &'a Series, block: Block<'a>, theme: Theme, axes: bool) -> Chart<'a> {
    // (points, legend name, style, scatter?) of each series drawn, back to front; empty ones
    // are skipped, and small multiples get no legend names.
    let layers = [
        (&s.band_lo, "", theme.band(), false),
        (&s.band_hi, "", theme.band(), false),
        (&s.batch, "batch", theme.batch(), false),
        (&s.smooth, s.smooth_name.as_str(), theme.smooth(), false),
        (&s.train, "train", theme.train(), false),
        (&s.test, "test", theme.test(), false),
        (&s.val, "validation", theme.val(), false),
        (&s.stop, "early stop", theme.marker(), false),
        (&s.best, "best", theme.good(), true),
    ];
    let sets: Vec<Dataset<'a>> = layers
        .into_iter()
        .filter(|(data, ..)| !data.is_empty())
        .map(|(data, name, style, scatter)| {
            let raw_batch = std::ptr::eq(data, &s.batch);
            let (marker, kind) = if scatter {
                (Marker::Block, GraphType::Scatter)
            } else if raw_batch && !theme.color {
                // Without colour the raw batch losses are dots under the braille EMA.
                (Marker::Dot, GraphType::Line)
            } else {
                (Marker::Braille, GraphType::Line)
            };
            Dataset::default()
                .name(if axes { name } else { "" })
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
            .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)))
            .legend_position(Some(emptiest_corner(s)))
    } else {
        chart.legend_position(None)
    }
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

/// Where the legend hides no data: the curves' right ends are where a run is watched, so the
/// legend goes to the right corner they are far from (bottom when they end high, as an
/// accuracy does; top when they end low, as a loss does).
pub fn emptiest_corner(s: &Series) -> LegendPosition {
    let right = 0.6 * s.x_max.max(1.0);
    let ends: Vec<f64> = [&s.train, &s.test, &s.val, &s.batch, &s.smooth]
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
