//! The overlay view: one metric of every variant on one chart (the mean over seeds where a
//! variant is repeated), one colour each, with a legend of final values. Pinned variants stay
//! bright and the rest fade; hidden ones leave the chart and its y-range. A past run opened
//! with `b` joins, labelled by run.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use super::{done, Ctx, Reply};
use crate::runs::{RunRecord, UnitRecord};
use crate::spec::EpochMetrics;
use crate::spec::Metric;
use crate::tui::hits::{Hits, Target};
use crate::tui::keys::Action;
use crate::tui::state::RunView;

/// The overlay view: its metric, and the variants pinned (kept bright while the rest fade)
/// or hidden (off the chart and its y-range), by their legend labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OverlayView {
    pub metric: crate::spec::Metric,
    /// Smoothed curves (over faint raw ones); raw by default, so a curve ends at its value.
    pub smooth: bool,
    pub pinned: std::collections::BTreeSet<String>,
    pub hidden: std::collections::BTreeSet<String>,
}

impl OverlayView {
    /// `m` the metric, `t` smoothing, `p`/`x` pin or hide the selected variant.
    pub fn on_action(&mut self, action: Action, run: Option<&RunView>, selected: usize) -> Reply {
        match action {
            Action::Metric => self.metric = self.metric.next(),
            Action::Smooth => self.smooth = !self.smooth,
            Action::Pin | Action::Hide => {
                let name = run
                    .and_then(|r| r.record.units.get(selected))
                    .map(|u| u.spec.variant_name().to_string())?;
                let set = if action == Action::Pin {
                    &mut self.pinned
                } else {
                    &mut self.hidden
                };
                if !set.remove(&name) {
                    set.insert(name);
                }
            }
            _ => return None,
        }
        done()
    }
}

/// Colours of the curves, in variant order: 16 that stay apart on dark and light
/// backgrounds (Kelly's colours of maximum contrast, without black and white).
pub const PALETTE: [Color; 16] = [
    Color::Rgb(0xF3, 0xC3, 0x00), // vivid yellow
    Color::Rgb(0x87, 0x56, 0x92), // strong purple
    Color::Rgb(0xF3, 0x84, 0x00), // vivid orange
    Color::Rgb(0xA1, 0xCA, 0xF1), // very light blue
    Color::Rgb(0xBE, 0x00, 0x32), // vivid red
    Color::Rgb(0xC2, 0xB2, 0x80), // greyish yellow
    Color::Rgb(0x84, 0x84, 0x82), // medium grey
    Color::Rgb(0x00, 0x88, 0x56), // vivid green
    Color::Rgb(0xE6, 0x8F, 0xAC), // strong purplish pink
    Color::Rgb(0x00, 0x67, 0xA5), // strong blue
    Color::Rgb(0xF9, 0x93, 0x79), // strong yellowish pink
    Color::Rgb(0x60, 0x4E, 0x97), // strong violet
    Color::Rgb(0xF6, 0xA6, 0x00), // vivid orange yellow
    Color::Rgb(0xB3, 0x44, 0x6C), // strong purplish red
    Color::Rgb(0xDC, 0xD3, 0x00), // vivid greenish yellow
    Color::Rgb(0x88, 0x2D, 0x17), // strong reddish brown
];

/// Marks that tell curves apart without colour, and the legend's swatch of each.
const MARKS: [(Marker, &str); 5] = [
    (Marker::Braille, "⣿"),
    (Marker::Dot, "•"),
    (Marker::Block, "█"),
    (Marker::Bar, "▄"),
    (Marker::HalfBlock, "▀"),
];

/// Curve `k`'s mark: in colour, braille lines until the palette repeats, then the next mark;
/// without colour, a different mark for each curve in turn.
pub fn mark_of(k: usize, color: bool) -> (Marker, &'static str) {
    let i = if color { k / PALETTE.len() } else { k };
    MARKS[i % MARKS.len()]
}

/// One curve of the overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The variant's name, with "[run]" for a past run's.
    pub label: String,
    /// The variant's name in its own run (what pin and hide remember).
    pub key: String,
    pub points: Vec<(f64, f64)>,
    /// The last epoch's value (unsmoothed), if any.
    pub last: Option<f64>,
    /// Seeds averaged.
    pub n: usize,
    pub past: bool,
}

/// The metric's value of one epoch, if recorded.
pub fn value(m: &EpochMetrics, metric: Metric) -> Option<f64> {
    metric.of(m).filter(|v| v.is_finite())
}

/// Mean over the units of each epoch's value (epochs no unit has are left out).
fn mean_curve(units: &[&UnitRecord], metric: Metric) -> Vec<(f64, f64)> {
    let epochs = units.iter().map(|u| u.history.len()).max().unwrap_or(0);
    (0..epochs)
        .filter_map(|e| {
            let ys: Vec<f64> = units
                .iter()
                .filter_map(|u| u.history.get(e).and_then(|m| value(m, metric)))
                .collect();
            (!ys.is_empty()).then(|| ((e + 1) as f64, ys.iter().sum::<f64>() / ys.len() as f64))
        })
        .collect()
}

/// Exponential moving average along the curve (weight 0.6 on the past), for noisy metrics.
fn smoothed(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut acc = None;
    points
        .iter()
        .map(|&(x, y)| {
            let s = match acc {
                None => y,
                Some(a) => 0.6 * a + 0.4 * y,
            };
            acc = Some(s);
            (x, s)
        })
        .collect()
}

fn curves_of(record: &RunRecord, metric: Metric, run: Option<&str>) -> Vec<Curve> {
    crate::insight::stats::variant_groups(record)
        .into_iter()
        .map(|g| {
            let units: Vec<&UnitRecord> = g.iter().map(|&i| &record.units[i]).collect();
            let key = units[0].spec.variant_name().to_string();
            let points = mean_curve(&units, metric);
            Curve {
                label: match run {
                    Some(r) => format!("{key} [{r}]"),
                    None => key.clone(),
                },
                key,
                last: points.last().map(|p| p.1),
                points,
                n: units.len(),
                past: run.is_some(),
            }
        })
        .collect()
}

/// Every curve the overlay shows: the run's variants, then the compared past run's.
pub fn curves(view: &OverlayView, ctx: &Ctx) -> Vec<Curve> {
    let metric = view.metric;
    let mut out = curves_of(&ctx.run.record, metric, None);
    for (name, record) in ctx.compare {
        out.extend(curves_of(record, metric, Some(name)));
    }
    out
}

/// The first legend line shown (the legend scrolls to keep the selection in view).
fn legend_first(all: &[Curve], at: usize, lines: usize) -> usize {
    at.min(all.len().saturating_sub(1))
        .saturating_sub(lines.saturating_sub(1))
}

/// The selected variant's position among the curves.
fn selected_curve(ctx: &Ctx, all: &[Curve]) -> usize {
    ctx.selected_variant()
        .and_then(|s| all.iter().position(|c| !c.past && c.key == s))
        .unwrap_or(0)
}

pub fn render(state: &OverlayView, ctx: &Ctx, frame: &mut Frame, area: Rect, hits: &mut Hits) {
    let theme = ctx.theme;
    let all = curves(state, ctx);
    let metric = state.metric;
    let any_pinned = all.iter().any(|c| state.pinned.contains(&c.label));
    let log = ctx.charts.log_scale && metric.is_loss();
    let y_of = |v: f64| if log { v.max(1e-6).log10() } else { v };
    let style_of = |k: usize, c: &Curve| -> Style {
        let base = if theme.color {
            Style::new().fg(theme.readable(PALETTE[k % PALETTE.len()]))
        } else {
            Style::new()
        };
        if state.pinned.contains(&c.label) {
            base.add_modifier(Modifier::BOLD)
        } else if any_pinned {
            theme.dim()
        } else {
            base
        }
    };

    let legend_w = (all
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(8) as u16
        + 16)
        .clamp(24, area.width / 2);
    let [chart_area, legend_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(legend_w)]).areas(area);

    // Visible curves, transformed; pinned ones drawn last so they lie on top.
    let visible = || {
        all.iter()
            .enumerate()
            .filter(|(_, c)| !state.hidden.contains(&c.label))
    };
    let mut shown: Vec<(usize, Vec<(f64, f64)>)> = visible()
        .map(|(k, c)| {
            let pts = if state.smooth {
                smoothed(&c.points)
            } else {
                c.points.clone()
            };
            (k, pts.into_iter().map(|(x, y)| (x, y_of(y))).collect())
        })
        .collect();
    // Smoothed curves lie over their raw ones, drawn faint first.
    let raw: Vec<(usize, Vec<(f64, f64)>)> = if state.smooth {
        visible()
            .map(|(k, c)| (k, c.points.iter().map(|&(x, y)| (x, y_of(y))).collect()))
            .collect()
    } else {
        Vec::new()
    };
    shown.sort_by_key(|(k, _)| state.pinned.contains(&all[*k].label));
    let ys = shown
        .iter()
        .chain(&raw)
        .flat_map(|(_, p)| p.iter().map(|q| q.1));
    let (mut lo, mut hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1e-3;
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let x_max = shown
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .fold(1.0f64, f64::max);
    let datasets: Vec<Dataset> = raw
        .iter()
        .map(|(k, pts)| {
            Dataset::default()
                .marker(mark_of(*k, theme.color).0)
                .graph_type(GraphType::Line)
                .style(style_of(*k, &all[*k]).add_modifier(ratatui::style::Modifier::DIM))
                .data(pts)
        })
        .chain(shown.iter().map(|(k, pts)| {
            Dataset::default()
                .marker(mark_of(*k, theme.color).0)
                .graph_type(GraphType::Line)
                .style(style_of(*k, &all[*k]))
                .data(pts)
        }))
        .collect();
    let label = |v: f64| {
        let v = if log { 10f64.powf(v) } else { v };
        Span::raw(format!("{v:.3}"))
    };
    let mut title = format!(
        " {} of every variant{}{} ",
        metric.name(),
        if log { " (log)" } else { "" },
        if state.smooth {
            ", smoothed (EMA 0.6) over raw"
        } else {
            ""
        },
    );
    // The keys when there is room (they are in `?` too).
    let keys = "· m metric  p pin  x hide  g log  t smooth ";
    if title.chars().count() + keys.chars().count() + 2 <= chart_area.width as usize {
        title.push_str(keys);
    }
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(title))
        .x_axis(
            Axis::default()
                .title("epoch")
                .bounds([1.0, x_max.max(2.0)])
                .labels([Span::raw("1"), Span::raw(format!("{x_max:.0}"))]),
        )
        .y_axis(Axis::default().bounds([lo, hi]).labels([
            label(lo),
            label((lo + hi) / 2.0),
            label(hi),
        ]));
    frame.render_widget(chart, chart_area);

    let inner_h = legend_area.height.saturating_sub(2) as usize;
    let at = selected_curve(ctx, &all);
    // Scroll the legend so the selected variant stays in view.
    let first = legend_first(&all, at, inner_h);
    let lines: Vec<Line> = all
        .iter()
        .enumerate()
        .skip(first)
        .take(inner_h)
        .map(|(k, c)| {
            let hidden = state.hidden.contains(&c.label);
            let marker = if state.pinned.contains(&c.label) {
                "◆"
            } else if theme.color && k < PALETTE.len() {
                // The colour tells it: a plain swatch.
                "■"
            } else {
                mark_of(k, theme.color).1
            };
            let value = match (hidden, c.last) {
                (true, _) => "hidden".to_string(),
                (false, Some(v)) => format!("{v:.4}"),
                (false, None) => "-".to_string(),
            };
            let mut style = if hidden { theme.dim() } else { style_of(k, c) };
            if k == at && !c.past {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let seeds = if c.n > 1 {
                format!(" n{}", c.n)
            } else {
                String::new()
            };
            Line::from(vec![
                Span::styled(format!("{marker} {}", c.label), style),
                Span::styled(format!("  {value}{seeds}"), style),
            ])
        })
        .collect();
    let legend_title = format!(" final {} ", metric.short());
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(legend_title)),
        legend_area,
    );
    // A legend line of this run selects its variant's first unit (a past run's, nothing).
    let record = &ctx.run.record;
    hits.add_lines(Block::bordered().inner(legend_area), |k| {
        let curve = all.get(first + k).filter(|c| !c.past)?;
        let unit = record
            .units
            .iter()
            .position(|v| v.spec.variant_name() == curve.key)?;
        Some(Target::Unit(unit))
    });
}
