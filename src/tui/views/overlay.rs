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

/// The overlay view: its metric, smoothing, the curve in focus, and the curves pinned (kept
/// bright while the rest fade) or hidden (off the chart and its y-range), by their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayView {
    pub metric: crate::spec::Metric,
    /// Smoothed curves (over faint raw ones); raw by default, so a curve ends at its value.
    pub smooth: bool,
    /// TensorBoard's smoothing weight, 0–0.99: how much of the past each point keeps.
    pub strength: f64,
    /// A compared run's curve in focus (its label); None: the selected unit's variant.
    pub focus: Option<String>,
    pub pinned: std::collections::BTreeSet<String>,
    pub hidden: std::collections::BTreeSet<String>,
}

impl Default for OverlayView {
    fn default() -> Self {
        OverlayView {
            metric: Default::default(),
            smooth: false,
            strength: 0.6,
            focus: None,
            pinned: Default::default(),
            hidden: Default::default(),
        }
    }
}

impl OverlayView {
    /// `m` the metric, `t` smoothing and `[`/`]` its strength, ↑/↓ the curve in focus (a
    /// compared run's too), `p`/`x` pin or hide it.
    pub fn on_action(&mut self, action: Action, ctx: &Ctx, selected: &mut usize) -> Reply {
        match action {
            Action::Metric => self.metric = self.metric.next(),
            Action::Smooth => self.smooth = !self.smooth,
            Action::Less | Action::More => {
                let step = if action == Action::More { 0.1 } else { -0.1 };
                self.strength = ((self.strength + step) * 100.0).round() / 100.0;
                self.strength = self.strength.clamp(0.0, 0.99);
                self.smooth = true;
            }
            Action::Up | Action::Down | Action::Left | Action::Right => {
                let all = curves(self, ctx);
                if all.is_empty() {
                    return done();
                }
                let at = focused(self, ctx, &all);
                let n = all.len();
                let next = if matches!(action, Action::Down | Action::Right) {
                    (at + 1) % n
                } else {
                    (at + n - 1) % n
                };
                self.focus_on(next, &all, ctx, selected);
            }
            Action::Pin | Action::Hide => {
                let all = curves(self, ctx);
                let label = all.get(focused(self, ctx, &all))?.label.clone();
                let set = if action == Action::Pin {
                    &mut self.pinned
                } else {
                    &mut self.hidden
                };
                if !set.remove(&label) {
                    set.insert(label);
                }
            }
            _ => return None,
        }
        done()
    }

    /// Puts curve `k` in focus: a compared run's by its label, this run's by selecting its
    /// variant's first unit.
    pub fn focus_on(&mut self, k: usize, all: &[Curve], ctx: &Ctx, selected: &mut usize) {
        let Some(c) = all.get(k) else { return };
        if c.past {
            self.focus = Some(c.label.clone());
        } else if let Some(i) = ctx
            .run
            .record
            .units
            .iter()
            .position(|u| u.spec.variant_name() == c.key)
        {
            self.focus = None;
            *selected = i;
        }
    }
}

/// The curve in focus: a compared run's the user moved to, else the selected variant's.
fn focused(view: &OverlayView, ctx: &Ctx, all: &[Curve]) -> usize {
    view.focus
        .as_ref()
        .and_then(|l| all.iter().position(|c| c.past && &c.label == l))
        .unwrap_or_else(|| selected_curve(ctx, all))
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
    /// The variant's name, with `[run]` for a past run's.
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

/// TensorBoard's smoothing: an exponential moving average with weight `w` (0–0.99) on the
/// past, debiased so the first points are not pulled toward zero.
pub fn smoothed(points: &[(f64, f64)], w: f64) -> Vec<(f64, f64)> {
    let mut last = 0.0;
    let mut k = 0;
    points
        .iter()
        .map(|&(x, y)| {
            last = last * w + (1.0 - w) * y;
            k += 1;
            let debias = 1.0 - w.powi(k);
            (x, if debias > 0.0 { last / debias } else { y })
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
                smoothed(&c.points, state.strength)
            } else {
                c.points.clone()
            };
            (k, pts.into_iter().map(|(x, y)| (x, y_of(y))).collect())
        })
        .collect();
    // Smoothed curves lie over their raw ones, drawn faint first.
    // Raw shadows need a fainter colour to be told from the curves; without colour every mark
    // already names a curve, so they are left out (the title says so).
    let raw: Vec<(usize, Vec<(f64, f64)>)> = if state.smooth && theme.color {
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
                .style({
                    // A visibly fainter colour of the curve's own (terminals drop DIM here).
                    let s = style_of(*k, &all[*k]);
                    match s.fg {
                        Some(c) => s.fg(theme.faint(c)),
                        None => s,
                    }
                })
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
    // The title's parts, most important first: on a narrow screen the last ones are left out
    // whole, never cut mid-word.
    let what = format!(
        "{} of every variant{}",
        metric.name(),
        if log { " (log)" } else { "" }
    );
    let smoothing = if theme.color {
        format!("smoothed {:.2} over raw", state.strength)
    } else {
        format!("smoothed {:.2}", state.strength)
    };
    let parts: Vec<&str> = match (state.smooth, theme.color) {
        (false, _) => vec![&what],
        (true, true) => vec![&what, &smoothing],
        (true, false) => vec![&what, &smoothing, "raw not drawn without colour"],
    };
    let mut title = crate::tui::widgets::fit::title(&parts, chart_area.width.saturating_sub(2));
    // The keys when there is room (they are in `?` too).
    let keys = "· m metric  p pin  x hide  L log  t smooth  [ ] strength ";
    if title.chars().count() + keys.chars().count() + 2 <= chart_area.width as usize {
        title.push_str(keys);
    }
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(title))
        .x_axis({
            let series = crate::tui::widgets::chart::Series {
                x_max,
                ..Default::default()
            };
            let (x0, x1) = crate::tui::widgets::chart::x_range(&series);
            Axis::default()
                .title("epoch")
                .bounds([x0, x1])
                .labels(crate::tui::widgets::chart::epoch_labels(x0, x1))
        })
        .y_axis(Axis::default().bounds([lo, hi]).labels([
            label(lo),
            label((lo + hi) / 2.0),
            label(hi),
        ]));
    frame.render_widget(chart, chart_area);

    let inner_h = legend_area.height.saturating_sub(2) as usize;
    let at = focused(state, ctx, &all);
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
            if k == at {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let seeds = if c.n > 1 {
                format!(" n{}", c.n)
            } else {
                String::new()
            };
            // The value always shows; a label too long for the legend ends in "…".
            let tail = format!("  {value}{seeds}");
            let room = (legend_area.width as usize)
                .saturating_sub(2 + 2 + crate::tui::widgets::fit::width(&tail));
            Line::from(vec![
                Span::styled(
                    format!(
                        "{marker} {}",
                        crate::tui::widgets::fit::ellipsis(&c.label, room)
                    ),
                    style,
                ),
                Span::styled(tail, style),
            ])
        })
        .collect();
    let legend_title = format!(" final {} ", metric.short());
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(legend_title)),
        legend_area,
    );
    // A legend line puts its curve in focus (this run's selects its variant).
    let n = all.len();
    hits.add_lines(Block::bordered().inner(legend_area), |k| {
        Some(first + k).filter(|i| *i < n).map(Target::Curve)
    });
}
