//! Factor view: variants laid out by two chosen factors (rows × columns), each cell a
//! sparkline of test loss coloured by the final metric, and the main effects of every factor.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Sparkline, Table};
use ratatui::Frame;

use super::{done, Ctx, Reply};
use crate::insight::factors::{self, Factor};
use crate::insight::linear_model::{Anova, AnovaError, LevelMean};
use crate::insight::stats::Design;
use crate::runs::RunRecord;
use crate::spec::Metric;
use crate::tui::hits::Hits;
use crate::tui::keys::Action;
use crate::tui::state::RunView;
use crate::tui::theme::Theme;
use crate::tui::widgets::fit;

/// The factor view: which of the run's varying factors are the rows and columns (indices
/// kept within the varying factors by `on_action`), the colouring metric, and the analysis
/// of the run as it was when it last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorsView {
    pub row: usize,
    pub col: usize,
    pub metric: Metric,
    /// Rows of the effects and ANOVA panel scrolled past (PgUp/PgDn).
    pub scroll: usize,
    analysis: Option<Analysis>,
}

impl Default for FactorsView {
    fn default() -> Self {
        FactorsView {
            row: 0,
            col: 1,
            metric: Metric::TestLoss,
            scroll: 0,
            analysis: None,
        }
    }
}

/// The design, the effects and the ANOVA of one state of the run for one metric: computed
/// when the run or the metric changes, never per frame.
#[derive(Debug, Clone)]
pub struct Analysis {
    key: (u64, Metric),
    design: Design,
    ranking: Vec<(Factor, f64)>,
    effects: Vec<(Factor, Vec<LevelMean>)>,
    anova: Result<Anova, AnovaError>,
}

/// The same key (the record's fingerprint and the metric), the same analysis: comparing its
/// numbers would make equal states unequal wherever one is NaN.
impl PartialEq for Analysis {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl FactorsView {
    /// `[`/`]` the row and column factor, `m` the colouring metric.
    pub fn on_action(&mut self, action: Action, run: Option<&RunView>) -> Reply {
        let n = run.map_or(0, |r| factors::varying(&r.record).len());
        let next = |i: usize| if n == 0 { 0 } else { (i + 1) % n };
        match action {
            // The effects and ANOVA panel scrolls where it has more rows than room.
            // Never past the panel's last line: PgUp then moves back at once.
            Action::PageDown => {
                let lines = self
                    .analysis
                    .as_ref()
                    .map_or(0, |a| effect_lines(a, self.metric).len());
                self.scroll = (self.scroll + 5).min(lines.saturating_sub(1));
            }
            Action::PageUp => self.scroll = self.scroll.saturating_sub(5),
            Action::Less => self.row = next(self.row),
            Action::More => self.col = next(self.col),
            Action::Metric => {
                let mut m = self.metric.next();
                while !m.is_result() {
                    m = m.next();
                }
                self.metric = m;
            }
            _ => return None,
        }
        done()
    }

    /// A new run shows its first two factors.
    pub fn reset(&mut self) {
        self.row = 0;
        self.col = 1;
    }

    /// Brings the analysis up to date with `run` (cheap when nothing changed).
    pub fn refresh(&mut self, run: &RunView) {
        let key = (run.record.fingerprint(), self.metric);
        if self.analysis.as_ref().is_some_and(|a| a.key == key) {
            return;
        }
        let record = &run.record;
        // One fit gives both (the mixed model is fitted once per refresh, not twice).
        let (effects, anova) = crate::insight::linear_model::effects_and_anova(record, self.metric);
        self.analysis = Some(Analysis {
            key,
            design: crate::insight::stats::design(record),
            ranking: factors::ranking(record, self.metric),
            effects,
            anova,
        });
    }

    /// The analysis, if it is of this run as it is now.
    pub fn analysis(&self, run: &RunView) -> Option<&Analysis> {
        let key = (run.record.fingerprint(), self.metric);
        self.analysis.as_ref().filter(|a| a.key == key)
    }
}

/// The two factors shown, from the view's cycling indices over the run's varying factors.
pub fn chosen(view: &FactorsView, record: &RunRecord) -> Option<(Factor, Factor)> {
    let varying = factors::varying(record);
    match varying.len() {
        0 => None,
        1 => Some((varying[0], varying[0])),
        n => {
            // `update` keeps the indices below n; a run opened since is guarded by `get`.
            let r = *varying.get(view.row).unwrap_or(&varying[0]);
            let col = view.col.min(n - 1);
            let mut c = varying[col];
            if c == r {
                c = varying[(col + 1) % n];
            }
            Some((r, c))
        }
    }
}

/// Green (best) to red (worst) by `v`'s rank among the finished units' values (`sorted`),
/// not its distance between the extremes: one outlier cannot make every other cell the same.
fn heat(theme: Theme, v: f64, sorted: &[f64], lower_is_better: bool) -> Style {
    if !theme.color {
        return Style::new();
    }
    let t = if sorted.len() > 1 {
        sorted.partition_point(|x| *x < v) as f64 / (sorted.len() - 1) as f64
    } else {
        0.0
    };
    let t = t.clamp(0.0, 1.0);
    let t = if lower_is_better { t } else { 1.0 - t };
    let (r, g) = ((60.0 + 195.0 * t) as u8, (200.0 - 140.0 * t) as u8);
    Style::new().fg(theme.readable(Color::Rgb(r, g, 60)))
}

/// A test loss in the sparkline's integer units (hundred-thousandths; NaN and ∞ as 0).
pub fn spark_units(loss: f32) -> u64 {
    if loss.is_finite() && loss > 0.0 {
        (loss as f64 * 1e5).round() as u64
    } else {
        0
    }
}

pub fn render(view: &FactorsView, ctx: &Ctx, frame: &mut Frame, area: Rect, _hits: &mut Hits) {
    let (run, theme) = (ctx.run, ctx.theme);
    let record = &run.record;
    let Some(analysis) = view.analysis(run) else {
        // `update` refreshes the analysis before a frame is drawn; say so if it did not.
        frame.render_widget(
            Paragraph::new("computing…").block(Block::bordered().title(" factors ")),
            area,
        );
        return;
    };
    let Some((row_f, col_f)) = chosen(view, record) else {
        frame.render_widget(
            Paragraph::new("All variants share every factor: nothing to compare.")
                .block(Block::bordered().title(" factors ")),
            area,
        );
        return;
    };
    let metric_of = |i: usize| {
        record.units[i]
            .final_metrics()
            .and_then(|m| view.metric.of(m))
    };
    let mut finished: Vec<f64> = (0..record.units.len())
        .filter(|&i| record.units[i].status == crate::runs::UnitStatus::Finished)
        .filter_map(metric_of)
        .filter(|v| v.is_finite())
        .collect();
    finished.sort_by(f64::total_cmp);
    let top_loss = record
        .units
        .iter()
        .flat_map(|v| v.history.iter().map(|m| m.test_loss))
        .filter(|l| l.is_finite())
        .fold(0.0f32, f32::max);
    let spark_max = spark_units(top_loss).max(1);

    // Main effects of every varying factor with 95% CIs, ranked; then the ANOVA table of a
    // balanced grid, or the confounded factors of a design that is not one. Built first, so
    // the panel is as tall as them.
    let metric = view.metric;
    let (design, ranking) = (&analysis.design, &analysis.ranking);
    // Level means from the model: least-squares means with CIs from its pooled error.
    let effects = &analysis.effects;
    let mut rows = Vec::new();
    // The label column fits the longest term ("widths × BN+Dropout") or level, up to half
    // the panel; the sentence column takes the rest less the borders and a space.
    let term_w = analysis
        .anova
        .as_ref()
        .map(|a| {
            a.rows
                .iter()
                .map(|r| fit::width(&r.term) + 2)
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
        .max(
            effects
                .iter()
                .flat_map(|(_, m)| m.iter().map(|e| fit::width(&e.level) + 2))
                .max()
                .unwrap_or(0),
        )
        .max(20)
        .min(area.width as usize / 2) as u16;
    let note_w = area.width.saturating_sub(2 + term_w + 1) as usize;
    let mut lines = 0u16;
    for (f, size) in ranking {
        let sentence = design
            .confounding_sentence(*f)
            .map(|s| format!("no main effect: {s}"));
        let sentence = sentence.or_else(|| {
            design
                .crossing_sentence(*f)
                .map(|s| format!("range of means {size:.4}; {s}"))
        });
        let (note, height) = match sentence {
            Some(s) => {
                let wrapped = fit::wrap(&s, note_w);
                let n = wrapped.len() as u16;
                let text: Vec<Line> = wrapped
                    .into_iter()
                    .map(|l| Line::styled(l, theme.warn()))
                    .collect();
                (ratatui::text::Text::from(text), n)
            }
            None => (
                ratatui::text::Text::raw(format!("range of means {size:.4}")),
                1,
            ),
        };
        lines += height;
        rows.push(
            Row::new(vec![
                ratatui::text::Text::styled(f.name().to_string(), theme.title()),
                note,
            ])
            .height(height),
        );
        if design.is_confounded(*f) {
            continue;
        }
        let Some((_, means)) = effects.iter().find(|(g, _)| g == f) else {
            continue;
        };
        for e in means {
            rows.push(Row::new(vec![
                Span::raw(format!("  {}", e.level)),
                Span::raw(format!(
                    "n {}  {}",
                    e.n,
                    crate::report::level_mean_text(e, 4)
                )),
            ]));
        }
    }
    match &analysis.anova {
        Ok(a) => {
            rows.push(Row::new(vec![
                Span::styled(format!("ANOVA ({})", metric.name()), theme.title()),
                Span::styled(
                    if a.strata {
                        // Each term against its own seed × term error: df / error df.
                        "own seed error (G-G) · df/err   F       p   partial η²".to_string()
                    } else if a.mixed {
                        "REML mixed, Satterthwaite · df/err   F       p".to_string()
                    } else {
                        format!(
                            "type II{} · df      F       p   partial η²",
                            if a.blocked { ", seed blocks" } else { "" }
                        )
                    },
                    theme.dim(),
                ),
            ]));
            if let Some(note) = incomplete_note(a) {
                rows.push(Row::new(vec![
                    Span::raw(""),
                    Span::styled(note, theme.warn()),
                ]));
            }
            for r in &a.rows {
                let style = if r.p < crate::insight::stats::ALPHA {
                    theme.good()
                } else {
                    Style::new()
                };
                rows.push(Row::new(vec![
                    Span::raw(format!("  {}", r.term)),
                    Span::styled(
                        format!(
                            "{:>21}  {:>6}  {:<9} {}",
                            df_text(a, r),
                            r.f_text(),
                            r.p_text().trim_start_matches("p "),
                            eta_text(r)
                        ),
                        style,
                    ),
                ]));
            }
            if !a.strata && !a.mixed {
                rows.push(Row::new(vec![
                    Span::raw("  residual"),
                    Span::raw(format!("{:>21}", a.residual_df)),
                ]));
            }
            // The mixed model's variance components: which kinds of seed-to-seed spread it
            // found (a 0 pools that kind into the residual).
            for (name, v) in &a.components {
                rows.push(Row::new(vec![
                    Span::styled(format!("  σ² {name}"), theme.dim()),
                    Span::styled(format!("{:>21}", component_text(*v)), theme.dim()),
                ]));
            }
        }
        Err(e) => {
            // Wrapped, as the notes above are: the reason is a sentence.
            let wrapped = fit::wrap(&format!("none: {e}"), note_w);
            let height = wrapped.len() as u16;
            lines += height.saturating_sub(1);
            let text: Vec<Line> = wrapped
                .into_iter()
                .map(|l| Line::styled(l, theme.dim()))
                .collect();
            rows.push(
                Row::new(vec![
                    ratatui::text::Text::styled("ANOVA", theme.title()),
                    ratatui::text::Text::from(text),
                ])
                .height(height),
            );
        }
    }
    let wanted = rows.len() as u16 + lines - ranking.len() as u16 + 2;
    let effects_h = wanted.min(area.height / 2);
    // Rows the panel has no room for: the title says how many and where they are.
    let below = wanted.saturating_sub(effects_h);
    let [grid_area, effects_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(effects_h)]).areas(area);

    let g = factors::grid(record, row_f, col_f);
    // The varying factors the grid's axes do not show.
    let others: Vec<Factor> = ranking
        .iter()
        .map(|(f, _)| *f)
        .filter(|f| *f != row_f && *f != col_f)
        .collect();
    // The title's border line does not change the inside, so the rows' height is known here.
    let inner = Block::bordered().inner(grid_area);
    let row_h = ((inner.height.saturating_sub(1)) / g.rows.len().max(1) as u16).max(2);
    // A unit gets a bar only with two lines or more: the title names the bars' scale only
    // where some cell draws them.
    let drawn_rows = (inner.height.saturating_sub(1) / row_h) as usize;
    let bars = g
        .cells
        .iter()
        .take(drawn_rows)
        .flatten()
        .any(|cell| row_h / cell.len().max(1) as u16 >= 2);
    let encoding = if theme.color { "colour" } else { "#rank" };
    let (long_bars, short_bars) = if bars {
        (
            format!("  bars: test loss per epoch, 0–{top_loss:.2}"),
            format!(" · bars: test loss 0–{top_loss:.2}"),
        )
    } else {
        (String::new(), String::new())
    };
    let long = format!(
        " rows: {} ([)  columns: {} (])  {encoding}: final {} (m){long_bars} ",
        row_f.name(),
        col_f.name(),
        view.metric.name()
    );
    let short = format!(" {} × {}{short_bars} ", row_f.name(), col_f.name());
    let title = if long.chars().count() + 2 <= grid_area.width as usize {
        long
    } else {
        short
    };
    frame.render_widget(Block::bordered().title(title), grid_area);
    let label_w = 12u16;
    let cols = g.cols.len().max(1) as u16;
    let col_w = (inner.width.saturating_sub(label_w) / cols).max(8);
    // Column headers.
    for (c, name) in g.cols.iter().enumerate() {
        let r = Rect {
            x: inner.x + label_w + c as u16 * col_w,
            y: inner.y,
            width: col_w,
            height: 1,
        };
        if r.right() <= inner.right() {
            frame.render_widget(Paragraph::new(Line::styled(name.clone(), theme.title())), r);
        }
    }
    for (ri, row_name) in g.rows.iter().enumerate() {
        let y = inner.y + 1 + ri as u16 * row_h;
        if y + row_h > inner.bottom() {
            break;
        }
        frame.render_widget(
            Paragraph::new(Line::styled(row_name.clone(), theme.title())),
            Rect {
                x: inner.x,
                y,
                width: label_w,
                height: 1,
            },
        );
        for (ci, cell) in g.cells[ri].iter().enumerate() {
            let x = inner.x + label_w + ci as u16 * col_w;
            if x + col_w > inner.right() + 1 {
                break;
            }
            let per = (row_h / cell.len().max(1) as u16).max(1);
            // More units than lines: the last line says how many are not drawn, and the
            // average of the whole cell, instead of leaving them out without a word.
            let lines = (row_h / per) as usize;
            let shown = if cell.len() > lines {
                lines.saturating_sub(1)
            } else {
                cell.len()
            };
            if shown < cell.len() {
                let values: Vec<f64> = cell.iter().filter_map(|&i| metric_of(i)).collect();
                let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
                let text = format!("+{} more · avg {mean:.4}", cell.len() - shown);
                let text = if fit::width(&text) <= col_w.saturating_sub(1) as usize {
                    text
                } else {
                    format!("+{} more", cell.len() - shown)
                };
                frame.render_widget(
                    Paragraph::new(Line::styled(text, theme.dim())),
                    Rect {
                        x,
                        y: y + shown as u16 * per,
                        width: col_w.saturating_sub(1),
                        height: 1,
                    },
                );
            }
            for (k, &i) in cell.iter().take(shown).enumerate() {
                let v = &record.units[i];
                let r = Rect {
                    x,
                    y: y + k as u16 * per,
                    width: col_w.saturating_sub(1),
                    height: per,
                };
                if r.bottom() > y + row_h {
                    break;
                }
                let style = metric_of(i)
                    .filter(|_| v.status == crate::runs::UnitStatus::Finished)
                    .map(|m| heat(theme, m, &finished, view.metric.lower_is_better()))
                    .unwrap_or(theme.dim());
                let label = match metric_of(i) {
                    Some(m) if v.status == crate::runs::UnitStatus::Finished => {
                        // Without colour the rank carries what the colour would: #1 best.
                        let rank = if theme.color {
                            String::new()
                        } else {
                            let better = if view.metric.lower_is_better() {
                                finished.partition_point(|x| *x < m)
                            } else {
                                finished.len() - finished.partition_point(|x| *x <= m)
                            };
                            format!("#{} ", better + 1)
                        };
                        // What tells the cell's units apart: their levels of the factors
                        // not on the axes, and the seed; only where it fits whole.
                        let mut tell: Vec<String> = others.iter().map(|f| f.tag(&v.spec)).collect();
                        if !v.spec.variant.is_empty() {
                            tell.push(format!("s{}", v.spec.seed));
                        }
                        let long = format!("{rank}{m:.4} {}", tell.join(" "));
                        if fit::width(&long) <= r.width as usize {
                            long
                        } else {
                            format!("{rank}{m:.4}")
                        }
                    }
                    _ => format!("{:?}", v.status).to_lowercase(),
                };
                let [spark, text] =
                    Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(r);
                // The loss as loss: a lower bar is a lower loss. Sparkline wants integers
                // (hundred-thousandths); every cell shares one top, the highest loss of the run
                // (`spark_max`, named in the title), so bars compare across cells.
                // Each epoch's bar as wide as the column allows, so the bars fill the cell.
                let per_epoch = (spark.width as usize / v.history.len().max(1)).max(1);
                let data: Vec<u64> = v
                    .history
                    .iter()
                    .flat_map(|m| std::iter::repeat_n(spark_units(m.test_loss), per_epoch))
                    .collect();
                if per >= 2 && !data.is_empty() {
                    frame.render_widget(
                        Sparkline::default().data(&data).max(spark_max).style(style),
                        spark,
                    );
                }
                frame.render_widget(
                    Paragraph::new(Line::styled(label, style)),
                    if per >= 2 { text } else { r },
                );
            }
        }
    }

    let room = effects_area.width.saturating_sub(2);
    let title = match ranking.first() {
        Some((f, size)) if *size > 0.0 => fit::title(
            &[
                &format!(
                    "main effects (95% CI) and ANOVA on final {}",
                    view.metric.name()
                ),
                &format!("{} varies most", f.name()),
            ],
            room,
        ),
        _ => fit::title(&["main effects (need finished variants)"], room),
    };
    // Scrolled: the first rows left out, at most as many as leave the panel full; the title
    // says where.
    let total = rows.len();
    let visible = (effects_area.height.saturating_sub(2) as usize).max(1);
    let first = view.scroll.min(total.saturating_sub(visible));
    let title = if below > 0 || first > 0 {
        let hint = format!("from row {} of {total} · PgUp/PgDn scroll", first + 1);
        fit::title(&[&hint, title.trim()], room)
    } else {
        title
    };
    let rows: Vec<Row> = rows.into_iter().skip(first).collect();
    frame.render_widget(
        Table::new(rows, [Constraint::Length(term_w), Constraint::Fill(1)])
            .block(Block::bordered().title(title)),
        effects_area,
    );
}

/// The main effects and ANOVA as lines of text: what the view's lower panel says, whole
/// (no column cuts a term's name).
pub fn effect_lines(analysis: &Analysis, metric: Metric) -> Vec<String> {
    let mut out = Vec::new();
    for (f, size) in &analysis.ranking {
        match (
            analysis.design.confounding_sentence(*f),
            analysis.design.crossing_sentence(*f),
        ) {
            (Some(s), _) => out.push(format!("{}: no main effect: {s}", f.name())),
            (None, Some(s)) => out.push(format!("{}: range of means {size:.4}; {s}", f.name())),
            (None, None) => out.push(format!("{}: range of means {size:.4}", f.name())),
        }
        if let Some((_, means)) = analysis.effects.iter().find(|(g, _)| g == f) {
            for e in means.iter().filter(|_| !analysis.design.is_confounded(*f)) {
                out.push(format!(
                    "  {}: n {}  {}",
                    e.level,
                    e.n,
                    crate::report::level_mean_text(e, 4)
                ));
            }
        }
    }
    match &analysis.anova {
        Ok(a) => {
            out.push(if a.strata {
                format!(
                    "ANOVA ({}), each term against its own seed × term error \
                     (Greenhouse–Geisser): term · df/error df · F · p · partial η²",
                    metric.name()
                )
            } else if a.mixed {
                format!(
                    "ANOVA ({}), REML mixed model (seed, seed × factor random), Wald F with \
                     Satterthwaite's df: term · df/error df · F · p",
                    metric.name()
                )
            } else {
                format!(
                    "ANOVA ({}), type II{}: term · df · F · p · partial η²",
                    metric.name(),
                    if a.blocked { ", seed blocks" } else { "" }
                )
            });
            out.extend(incomplete_note(a));
            for r in &a.rows {
                // The mixed model has no partial η²: no empty field at the line's end.
                let eta = eta_text(r);
                out.push(format!(
                    "  {} · {} · {} · {}{}",
                    r.term,
                    df_text(a, r),
                    r.f_text(),
                    r.p_text().trim_start_matches("p "),
                    if eta.is_empty() {
                        String::new()
                    } else {
                        format!(" · {eta}")
                    }
                ));
            }
            if !a.strata && !a.mixed {
                out.push(format!("  residual · {}", a.residual_df));
            }
            if !a.components.is_empty() {
                let comps: Vec<String> = a
                    .components
                    .iter()
                    .map(|(n, v)| format!("{n} {}", component_text(*v)))
                    .collect();
                out.push(format!(
                    "  variance components (REML): {}",
                    comps.join(", ")
                ));
            }
        }
        Err(e) => out.push(format!("ANOVA: none: {e}")),
    }
    out
}

/// The factor view as a figure (`E`): a panel per cell of the grid (each unit's test loss per
/// epoch, one scale for all) and the effects and ANOVA under them.
pub fn figure(view: &FactorsView, ctx: &Ctx) -> Option<crate::export::figure::Figure> {
    use crate::export::figure::{Curve, Figure, Kind, Panel};
    let record = &ctx.run.record;
    let analysis = view.analysis(ctx.run)?;
    let (row_f, col_f) = chosen(view, record)?;
    let g = factors::grid(record, row_f, col_f);
    let top = record
        .units
        .iter()
        .flat_map(|v| v.history.iter().map(|m| m.test_loss as f64))
        .filter(|l| l.is_finite())
        .fold(1e-3f64, f64::max);
    let epochs = record
        .units
        .iter()
        .map(|u| u.spec.epochs)
        .max()
        .unwrap_or(1) as f64;
    let mut panels = Vec::new();
    for (ri, row) in g.rows.iter().enumerate() {
        for (ci, col) in g.cols.iter().enumerate() {
            let curves = g.cells[ri][ci]
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let v = &record.units[i];
                    Curve {
                        name: v.spec.name.clone(),
                        points: v
                            .history
                            .iter()
                            .map(|m| (m.epoch as f64, m.test_loss as f64))
                            .collect(),
                        rgb: crate::tui::theme::rgb_of(
                            super::overlay::PALETTE[k % super::overlay::PALETTE.len()],
                        )
                        .unwrap_or((0x60, 0x60, 0x60)),
                        kind: Kind::Line,
                    }
                })
                .collect();
            panels.push(Panel {
                title: format!("{}: {row} · {}: {col}", row_f.name(), col_f.name()),
                y_label: "test loss".into(),
                log: false,
                x: (1.0, epochs.max(2.0)),
                y: (0.0, top * 1.05),
                curves,
            });
        }
    }
    Some(Figure {
        title: format!(
            "{} · test loss per epoch by {} × {} (one scale) · effects on final {}",
            record.preset,
            row_f.name(),
            col_f.name(),
            view.metric.name()
        ),
        panels,
        notes: effect_lines(analysis, view.metric),
    })
}

/// A term's df, with its own error's df where each term has one ("1/7").
fn df_text(
    a: &crate::insight::linear_model::Anova,
    r: &crate::insight::linear_model::AnovaRow,
) -> String {
    if a.strata {
        format!("{}/{}", r.df, r.error_df)
    } else if a.mixed {
        format!("{}/{:.1}", r.df, r.den_df)
    } else {
        r.df.to_string()
    }
}

/// A variance component as the table shows it: "2.74e-6", or "0" at the bound.
fn component_text(v: f64) -> String {
    if v > 0.0 {
        format!("{v:.2e}")
    } else {
        "0".into()
    }
}

/// Partial η² to three decimals; empty under the mixed model, which has no sums of squares.
fn eta_text(r: &crate::insight::linear_model::AnovaRow) -> String {
    if r.partial_eta2.is_finite() {
        format!("{:.3}", r.partial_eta2)
    } else {
        String::new()
    }
}

/// "seed 4 left out: a unit failed": the seeds the strata could not use.
fn incomplete_note(a: &crate::insight::linear_model::Anova) -> Option<String> {
    (!a.incomplete_seeds.is_empty()).then(|| {
        let seeds: Vec<String> = a.incomplete_seeds.iter().map(u64::to_string).collect();
        format!(
            "seed{} {} left out: a unit failed",
            if seeds.len() == 1 { "" } else { "s" },
            seeds.join(", ")
        )
    })
}
