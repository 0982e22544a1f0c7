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
            // `←`/`→`: the epoch cursor is the app's (the live chart shares it): answered
            // there, with the overlay's last epoch.
            Action::Left | Action::Right => return None,
            Action::Up | Action::Down => {
                let all = curves(self, ctx);
                if all.is_empty() {
                    return done();
                }
                let at = focused(self, ctx, &all);
                let n = all.len();
                let next = if action == Action::Down {
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

/// Marks that tell curves apart without colour, and the legend's swatch of each: ten, none
/// a solid block (a block mark buries every curve under it).
pub const MARKS: [(Marker, &str); 10] = [
    (Marker::Braille, "⣿"),
    (Marker::Dot, "•"),
    (Marker::Custom('x'), "x"),
    (Marker::Custom('+'), "+"),
    (Marker::Custom('o'), "o"),
    (Marker::Custom('*'), "*"),
    (Marker::Custom('#'), "#"),
    (Marker::Custom('~'), "~"),
    (Marker::Custom('^'), "^"),
    (Marker::Custom('%'), "%"),
];

/// Curve `k`'s mark: in colour, braille lines until the palette repeats, then the next mark;
/// without colour, a different mark for each curve in turn.
pub fn mark_of(k: usize, color: bool) -> (Marker, &'static str) {
    let i = if color { k / PALETTE.len() } else { k };
    MARKS[i % MARKS.len()]
}

/// Whether curves need a letter at their ends: more of them than colours (or, without
/// colour, than marks) tell apart.
pub fn labelled(curves: usize, color: bool) -> bool {
    curves > if color { PALETTE.len() } else { MARKS.len() }
}

/// Curve `k`'s letter (at its end and in the legend when `labelled`): A–Z, then a–z.
pub fn letter(k: usize) -> char {
    let k = (k % 52) as u8;
    if k < 26 {
        (b'A' + k) as char
    } else {
        (b'a' + k - 26) as char
    }
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

/// One curve as the overlay draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// Its index in `curves`.
    pub k: usize,
    /// Points in drawn units (log10 on a log scale).
    pub points: Vec<(f64, f64)>,
    /// A raw shadow under its smoothed curve.
    pub raw: bool,
    /// In focus or pinned: drawn last, thick.
    pub bold: bool,
}

/// What the overlay draws, computed once for the screen and for `E`: the curves in the order
/// drawn, the ranges, and the curves whose end lies under one drawn later.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub drawn: Vec<Drawn>,
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub log: bool,
    /// Curves (by index) whose last point shares a row with a curve drawn over it there.
    pub under: std::collections::BTreeSet<usize>,
}

/// The overlay's plan for a plot `rows` terminal rows high (0: unknown).
pub fn plan(state: &OverlayView, ctx: &Ctx, all: &[Curve], rows: u16) -> Plan {
    let log = ctx.charts.log_scale && state.metric.is_loss();
    let y_of = |v: f64| if log { v.max(1e-6).log10() } else { v };
    let at = focused(state, ctx, all);
    let visible = || {
        all.iter()
            .enumerate()
            .filter(|(_, c)| !state.hidden.contains(&c.label))
    };
    let bold = |k: usize| k == at || state.pinned.contains(&all[k].label);
    // Smoothed curves lie over their raw ones, drawn faint first. Raw shadows need a fainter
    // colour to be told from the curves; without colour every mark already names a curve, so
    // they are left out (the title says so).
    let mut drawn: Vec<Drawn> = Vec::new();
    if state.smooth && ctx.theme.color {
        drawn.extend(visible().map(|(k, c)| Drawn {
            k,
            points: c.points.iter().map(|&(x, y)| (x, y_of(y))).collect(),
            raw: true,
            bold: false,
        }));
    }
    let mut lines: Vec<Drawn> = visible()
        .map(|(k, c)| {
            let pts = if state.smooth {
                smoothed(&c.points, state.strength)
            } else {
                c.points.clone()
            };
            Drawn {
                k,
                points: pts.into_iter().map(|(x, y)| (x, y_of(y))).collect(),
                raw: false,
                bold: bold(k),
            }
        })
        .collect();
    // Pinned ones over the rest, the one in focus over everything.
    lines.sort_by_key(|d| (d.bold, d.k == at));
    drawn.extend(lines);
    let (mut lo, mut hi) = drawn
        .iter()
        .flat_map(|d| d.points.iter().map(|q| q.1))
        .filter(|y| y.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1e-3;
    }
    let pad = (hi - lo) * 0.05;
    let y = (lo - pad, hi + pad);
    let x_max = drawn
        .iter()
        .flat_map(|d| d.points.iter().map(|q| q.0))
        .fold(1.0f64, f64::max);
    let x = crate::tui::widgets::chart::x_range(&crate::tui::widgets::chart::Series {
        x_max,
        ..Default::default()
    });
    let row = (y.1 - y.0) / if rows > 0 { rows as f64 } else { 20.0 };
    let lines: Vec<&Drawn> = drawn.iter().filter(|d| !d.raw).collect();
    let under = lines
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            let Some(&(xe, ye)) = d.points.last() else {
                return false;
            };
            lines[i + 1..].iter().any(|later| {
                crate::tui::widgets::chart::y_at(&later.points, xe)
                    .is_some_and(|yl| (yl - ye).abs() < row)
            })
        })
        .map(|(_, d)| d.k)
        .collect();
    Plan {
        drawn,
        x,
        y,
        log,
        under,
    }
}

/// Where each curve's letter goes: at its last point, moved up or down to the nearest row no
/// other letter holds (ends often crowd one spot); with more curves than rows, the ones left
/// without a row go unlabelled (the legend still names them).
fn end_labels(p: &Plan, rows: u16) -> Vec<(usize, [(f64, f64); 1])> {
    let rows = rows.max(1) as i64;
    let (lo, hi) = p.y;
    let row_of = |y: f64| (((y - lo) / (hi - lo)) * rows as f64).floor() as i64;
    let mut ends: Vec<(usize, (f64, f64))> = p
        .drawn
        .iter()
        .filter(|d| !d.raw)
        .filter_map(|d| d.points.last().map(|&e| (d.k, e)))
        .collect();
    ends.sort_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
    let mut taken = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (k, (x, y)) in ends {
        let want = row_of(y).clamp(0, rows - 1);
        let free = (0..rows)
            .flat_map(|d| [want - d, want + d])
            .find(|r| (0..rows).contains(r) && !taken.contains(r));
        if let Some(r) = free {
            taken.insert(r);
            let y = lo + (r as f64 + 0.5) / rows as f64 * (hi - lo);
            out.push((k, [(x, y)]));
        }
    }
    out
}

/// The overlay as a figure (`E`): the curves as drawn, in their palette colours.
pub fn figure(state: &OverlayView, ctx: &Ctx) -> crate::export::figure::Figure {
    use crate::export::figure::{Curve as FigCurve, Figure, Kind, Panel};
    let all = curves(state, ctx);
    let p = plan(state, ctx, &all, 0);
    let rgb = |k: usize| {
        crate::tui::theme::rgb_of(PALETTE[k % PALETTE.len()]).unwrap_or((0x80, 0x80, 0x80))
    };
    let curves = p
        .drawn
        .iter()
        .map(|d| FigCurve {
            name: if d.raw {
                format!("{} (raw)", all[d.k].label)
            } else {
                all[d.k].label.clone()
            },
            points: d.points.clone(),
            rgb: rgb(d.k),
            kind: match (d.raw, d.bold) {
                (true, _) => Kind::Faint,
                (false, true) => Kind::Bold,
                (false, false) => Kind::Line,
            },
        })
        .collect();
    let hidden: Vec<&str> = all
        .iter()
        .filter(|c| state.hidden.contains(&c.label))
        .map(|c| c.label.as_str())
        .collect();
    let mut notes: Vec<String> = all
        .iter()
        .filter(|c| !state.hidden.contains(&c.label))
        .map(|c| {
            let last = c.last.map_or("-".to_string(), |v| format!("{v:.4}"));
            let n = if c.n > 1 {
                format!(" (n{})", c.n)
            } else {
                String::new()
            };
            format!("final {} {last}{n}  {}", state.metric.short(), c.label)
        })
        .collect();
    if !hidden.is_empty() {
        notes.push(format!("hidden: {}", hidden.join(", ")));
    }
    Figure {
        title: title_parts(state, ctx.theme.color, p.log).join(" · "),
        panels: vec![Panel {
            title: String::new(),
            y_label: state.metric.name().to_string(),
            log: p.log,
            x: p.x,
            y: p.y,
            curves,
        }],
        notes,
    }
}

/// The title's parts, most important first.
fn title_parts(state: &OverlayView, color: bool, log: bool) -> Vec<String> {
    let what = format!(
        "{} of every variant{}",
        state.metric.name(),
        if log { " (log)" } else { "" }
    );
    let smoothing = if color {
        format!("smoothed {:.2} over raw", state.strength)
    } else {
        format!("smoothed {:.2}", state.strength)
    };
    match (state.smooth, color) {
        (false, _) => vec![what],
        (true, true) => vec![what, smoothing],
        (true, false) => vec![what, smoothing, "raw not drawn without colour".into()],
    }
}

pub fn render(state: &OverlayView, ctx: &Ctx, frame: &mut Frame, area: Rect, hits: &mut Hits) {
    let theme = ctx.theme;
    let all = curves(state, ctx);
    let metric = state.metric;
    let any_pinned = all.iter().any(|c| state.pinned.contains(&c.label));
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

    let letters = labelled(all.len(), theme.color);
    let legend_w = (all
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(8) as u16
        + 16
        + if letters { 2 } else { 0 })
    .clamp(24, area.width / 2);
    let [chart_area, legend_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(legend_w)]).areas(area);
    // Plot rows: the chart less its borders and the x-axis' line and labels.
    let rows = chart_area.height.saturating_sub(4);
    let p = plan(state, ctx, &all, rows);
    let (log, (lo, hi)) = (p.log, p.y);
    // A thick curve is drawn twice, one braille dot apart.
    let dot = (hi - lo) / (rows.max(1) as f64 * 4.0);
    let thick: Vec<(usize, Vec<(f64, f64)>)> = p
        .drawn
        .iter()
        .filter(|d| d.bold)
        .map(|d| (d.k, d.points.iter().map(|&(x, y)| (x, y + dot)).collect()))
        .collect();
    let ends: Vec<(usize, [(f64, f64); 1])> = if letters {
        end_labels(&p, rows)
    } else {
        Vec::new()
    };
    let mut datasets: Vec<Dataset> = Vec::new();
    for d in &p.drawn {
        let mut style = style_of(d.k, &all[d.k]);
        if d.raw {
            // A visibly fainter colour of the curve's own (terminals drop DIM here).
            if let Some(c) = style.fg {
                style = style.fg(theme.faint(c));
            }
        }
        datasets.push(
            Dataset::default()
                .marker(mark_of(d.k, theme.color).0)
                .graph_type(GraphType::Line)
                .style(style)
                .data(&d.points),
        );
        if let Some((_, pts)) = thick.iter().find(|(k, _)| *k == d.k).filter(|_| d.bold) {
            datasets.push(
                Dataset::default()
                    .marker(mark_of(d.k, theme.color).0)
                    .graph_type(GraphType::Line)
                    .style(style)
                    .data(pts),
            );
        }
    }
    let cursor_line: Vec<(f64, f64)> = ctx
        .charts
        .cursor
        .map_or(Vec::new(), |e| vec![(e as f64, lo), (e as f64, hi)]);
    if !cursor_line.is_empty() {
        datasets.push(
            Dataset::default()
                .marker(if theme.color {
                    Marker::Braille
                } else {
                    Marker::Custom('▏')
                })
                .graph_type(GraphType::Line)
                .style(theme.title())
                .data(&cursor_line),
        );
    }
    for (k, end) in &ends {
        datasets.push(
            Dataset::default()
                .marker(Marker::Custom(letter(*k)))
                .graph_type(GraphType::Scatter)
                .style(style_of(*k, &all[*k]).add_modifier(Modifier::BOLD))
                .data(end),
        );
    }
    let (x0, x1) = p.x;
    let label = |v: f64| {
        let v = if log { 10f64.powf(v) } else { v };
        Span::raw(format!("{v:.3}"))
    };
    // The title's parts, most important first: on a narrow screen the last ones are left out
    // whole, never cut mid-word.
    let parts = title_parts(state, theme.color, log);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let mut title = crate::tui::widgets::fit::title(&parts, chart_area.width.saturating_sub(2));
    // The keys when there is room (they are in `?` too).
    let keys = "· m metric  p pin  x hide  L log  t smooth  [ ] strength ";
    if title.chars().count() + keys.chars().count() + 2 <= chart_area.width as usize {
        title.push_str(keys);
    }
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(title))
        .x_axis(
            Axis::default()
                .title("epoch")
                .bounds([x0, x1])
                .labels(crate::tui::widgets::chart::epoch_labels(x0, x1)),
        )
        .y_axis(Axis::default().bounds([lo, hi]).labels([
            label(lo),
            label((lo + hi) / 2.0),
            label(hi),
        ]));
    frame.render_widget(chart, chart_area);
    // A click under the x-axis puts the epoch cursor there.
    let label_w = [lo, (lo + hi) / 2.0, hi]
        .iter()
        .map(|v| label(*v).content.chars().count())
        .max()
        .unwrap_or(0) as u16;
    let last = all.iter().map(|c| c.points.len()).max().unwrap_or(0);
    crate::tui::widgets::chart::epoch_hits(hits, chart_area, p.x, label_w, last);

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
            // The swatch: the colour's where it tells the curve, else the curve's mark; its end
            // letter first where curves carry one; ◆ when pinned.
            let swatch = if theme.color && k < PALETTE.len() {
                "■"
            } else {
                mark_of(k, theme.color).1
            };
            let pin = if state.pinned.contains(&c.label) {
                "◆"
            } else {
                ""
            };
            let marker = if letters {
                format!("{}{swatch}{pin}", letter(k))
            } else {
                format!("{swatch}{pin}")
            };
            let at_cursor = ctx
                .charts
                .cursor
                .map(|e| c.points.iter().find(|p| p.0 == e as f64).map(|p| p.1));
            let shown_value = match at_cursor {
                Some(v) => v,
                None => c.last,
            };
            let value = match (hidden, shown_value) {
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
            let under = if p.under.contains(&k) { " ≈" } else { "" };
            let tail = format!("  {value}{seeds}{under}");
            let room = (legend_area.width as usize).saturating_sub(
                2 + 1
                    + crate::tui::widgets::fit::width(&marker)
                    + crate::tui::widgets::fit::width(&tail),
            );
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
    // "≈": the curve's end lies under another curve drawn over it there.
    let which = match ctx.charts.cursor {
        Some(e) => format!("{} at epoch {e}", metric.short()),
        None => format!("final {}", metric.short()),
    };
    let legend_title = if p.under.is_empty() {
        format!(" {which} ")
    } else {
        crate::tui::widgets::fit::title(
            &[&which, "≈ ends under another"],
            legend_area.width.saturating_sub(2),
        )
    };
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
