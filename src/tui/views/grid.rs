//! Grid view: small multiples, one cell per variant (mini loss chart + final numbers),
//! filling in as variants complete, with the study's table beside or under it.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use ratatui::Frame;

use super::table::TableView;
use super::{Ctx, Reply};
use crate::runs::RunRecord;
use crate::runs::UnitStatus;
use crate::tui::hits::{Hits, Target};
use crate::tui::keys::Action;
use crate::tui::state::{unit_fraction, ChartOptions, Progress};
use crate::tui::theme::{badges, status_symbol, Theme};
use crate::tui::widgets::chart::chart;
use crate::tui::widgets::fit;

/// The grid's own keys: `v` one y-scale or one per cell, `+`/`-` the early-stop marker's
/// patience; `o` sorts the table beside it.
pub fn on_action(action: Action, charts: &mut ChartOptions, table: &mut TableView) -> Reply {
    match action {
        Action::SharedScale => charts.shared_y = !charts.shared_y,
        Action::PatienceUp | Action::PatienceDown => super::live::patience(action, charts),
        _ => return table.on_action(action),
    }
    super::done()
}

pub const CELL_WIDTH: u16 = 26;
pub const CELL_HEIGHT: u16 = 7;

/// Where the cells go: `cols` × `rows` cells of `cell_w` × `cell_h`, from row `first_row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLayout {
    pub cols: usize,
    pub first_row: usize,
    pub rows: usize,
    pub cell_w: u16,
    pub cell_h: u16,
}

/// Cells that fill `width` × `height`: of the column counts that show every cell at least
/// `CELL_WIDTH` × `CELL_HEIGHT`, the one with the largest cells; when not all fit even at the
/// minimum, pages of as many minimum cells as fit, scrolled so `selected` is visible.
pub fn layout(width: u16, height: u16, count: usize, selected: usize) -> GridLayout {
    let max_cols = (width / CELL_WIDTH).max(1) as usize;
    let max_rows = (height / CELL_HEIGHT).max(1) as usize;
    let count = count.max(1);
    let best = (1..=max_cols.min(count))
        .filter(|&c| count.div_ceil(c) <= max_rows)
        .max_by_key(|&c| {
            let rows = count.div_ceil(c);
            // Area of a cell, in terminal cells (two columns ≈ one row tall, so weigh height).
            let (w, h) = (width as usize / c, height as usize / rows);
            (w.min(2 * h), w * h)
        });
    let (cols, rows) = match best {
        Some(c) => (c, count.div_ceil(c)),
        None => (max_cols, max_rows),
    };
    let sel_row = selected / cols;
    let first_row = sel_row.saturating_sub(rows - 1);
    GridLayout {
        cols,
        first_row,
        rows: rows.min(count.div_ceil(cols)),
        cell_w: width / cols as u16,
        cell_h: (height / rows as u16).max(CELL_HEIGHT.min(height)),
    }
}

/// `area` split into `n` equal columns.
fn columns(area: Rect, n: usize) -> Vec<Rect> {
    Layout::horizontal(vec![Constraint::Fill(1); n.max(1)])
        .split(area)
        .to_vec()
}

/// The cells' area and the table's: side by side when wide, else the table below.
fn areas(units: usize, area: Rect) -> (Rect, Rect) {
    if area.width >= 170 {
        let [g, t] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(112)]).areas(area);
        (g, t)
    } else {
        let table_h = (units as u16 + 3).min(area.height / 2).max(5);
        let [g, t] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(table_h)]).areas(area);
        (g, t)
    }
}

pub fn render(table: &TableView, ctx: &Ctx, frame: &mut Frame, area: Rect, hits: &mut Hits) {
    let (run, theme) = (ctx.run, ctx.theme);
    let (grid_area, table_area) = areas(run.record.units.len(), area);
    // One scale for every run shown, computed once a frame.
    let shared = grid_range(ctx);
    if ctx.compare.is_empty() {
        draw_cells(
            ctx,
            frame,
            grid_area,
            (&run.record, shared),
            Some(&run.progress),
            Some(hits),
        );
    } else {
        // This run, then each compared past run, side by side.
        let parts = columns(grid_area, 1 + ctx.compare.len());
        let titled = |frame: &mut Frame, r: Rect, title: String| {
            let block = Block::bordered().title(title).border_style(theme.dim());
            let inner = block.inner(r);
            frame.render_widget(block, r);
            inner
        };
        let l = titled(
            frame,
            parts[0],
            fit::title(
                &["this run", &run.record.preset],
                parts[0].width.saturating_sub(2),
            ),
        );
        draw_cells(
            ctx,
            frame,
            l,
            (&run.record, shared),
            Some(&run.progress),
            Some(hits),
        );
        for ((name, other), part) in ctx.compare.iter().zip(&parts[1..]) {
            let title = fit::title(
                &[&format!("compare · {name}"), "b clears"],
                part.width.saturating_sub(2),
            );
            let r = titled(frame, *part, title);
            // What this run differs in: the comparison is read with it.
            let diff = crate::report::settings_diff(&run.record, other);
            let parts: Vec<String> = if diff.is_empty() {
                vec!["same settings as this run".into()]
            } else {
                diff.iter()
                    .map(|(f, here, there)| format!("{f} {there} (here {here})"))
                    .collect()
            };
            // Wrapped over up to three lines; a fourth would take a row of cells.
            let w = r.width as usize;
            let mut lines: Vec<String> = Vec::new();
            for part in &parts {
                match lines.last_mut() {
                    // A field stays whole on one line: "arch 256 (here 128-64)".
                    Some(l) if fit::width(l) + 3 + fit::width(part) <= w => {
                        l.push_str(" · ");
                        l.push_str(part);
                    }
                    _ => lines.push(fit::ellipsis(part, w)),
                }
            }
            if lines.len() > 3 {
                lines.truncate(3);
                lines[2] = fit::ellipsis(&format!("{}…", lines[2]), r.width as usize);
            }
            let [diff_area, cells_area] =
                Layout::vertical([Constraint::Length(lines.len() as u16), Constraint::Fill(1)])
                    .areas(r);
            frame.render_widget(
                Paragraph::new(
                    lines
                        .into_iter()
                        .map(|l| Line::styled(l, theme.warn()))
                        .collect::<Vec<_>>(),
                ),
                diff_area,
            );
            draw_cells(ctx, frame, cells_area, (other, shared), None, None);
        }
    }
    super::table::render_table(table, ctx, frame, table_area, hits);
}

/// The cell at row `r`, column `c` of the visible grid, if it fits in `area`.
fn cell_rect(area: Rect, r: usize, c: usize, g: &GridLayout) -> Option<Rect> {
    let cell = Rect {
        x: area.x + c as u16 * g.cell_w,
        y: area.y + r as u16 * g.cell_h,
        width: g.cell_w,
        height: g.cell_h,
    };
    (cell.bottom() <= area.bottom()).then_some(cell)
}

/// The y-range every cell shares: from 0 (or, on a log scale, the lowest value) to just
/// above the highest test or validation loss, or seed band, of any cell. The held-out losses
/// are what the cells compare; a first epoch's high training loss would squash every curve to
/// the floor, so training curves above the range are clipped.
fn shared_range<'a>(
    series: impl Iterator<Item = &'a crate::tui::widgets::chart::Series>,
    log: bool,
) -> Option<(f64, f64)> {
    let ys: Vec<f64> = series
        .flat_map(|s| {
            s.test
                .iter()
                .chain(&s.val)
                .chain(&s.band_lo)
                .chain(&s.band_hi)
                .map(|p| p.1)
        })
        .filter(|y| y.is_finite())
        .collect();
    let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    if !hi.is_finite() {
        return None;
    }
    let pad = ((hi - lo).abs() * 0.05).max(1e-3);
    Some(if log {
        (lo - pad, hi + pad)
    } else {
        (0.0, hi + pad)
    })
}

/// Draws the y-range's ends in the chart's corners: the cell's minimal axis.
fn axis_labels(frame: &mut Frame, area: Rect, y: (f64, f64), log: bool, last: usize, theme: Theme) {
    if area.height < 2 || area.width < 6 {
        return;
    }
    let fmt = |v: f64| {
        let v = if log { 10f64.powf(v) } else { v };
        format!("{v:.2}")
    };
    let at = |row: u16, text: String| {
        let w = (text.chars().count() as u16).min(area.width);
        (
            Rect {
                x: area.x,
                y: row,
                width: w,
                height: 1,
            },
            text,
        )
    };
    for (r, t) in [at(area.y, fmt(y.1)), at(area.bottom() - 1, fmt(y.0))] {
        frame.render_widget(Paragraph::new(Line::styled(t, theme.dim())), r);
    }
    // The cell's own last epoch at the bottom right (the axis may run further, shared with
    // longer runs beside it).
    let last = format!("ep {last}");
    let w = last.chars().count() as u16;
    if area.width >= w + 8 {
        frame.render_widget(
            Paragraph::new(Line::styled(last, theme.dim())),
            Rect {
                x: area.right() - w,
                y: area.bottom() - 1,
                width: w,
                height: 1,
            },
        );
    }
}

/// The y-range of one run's cells (`shared_range` of what its cells draw: a curve per unit,
/// or a mean and band per variant repeated over seeds).
fn record_range(ctx: &Ctx, record: &RunRecord) -> Option<(f64, f64)> {
    let log = ctx.charts.log_scale;
    if crate::report::has_repeats(record) {
        let series: Vec<crate::tui::widgets::chart::Series> =
            crate::insight::stats::variant_groups(record)
                .iter()
                .map(|g| {
                    let units: Vec<&crate::runs::UnitRecord> =
                        g.iter().map(|&i| &record.units[i]).collect();
                    crate::tui::widgets::chart::mean_band_series(&units, log)
                })
                .collect();
        shared_range(series.iter(), log)
    } else {
        let series: Vec<crate::tui::widgets::chart::Series> = record
            .units
            .iter()
            .filter(|v| !v.history.is_empty())
            .map(|v| crate::tui::widgets::chart::loss_series_with(v, &[], log, None))
            .collect();
        shared_range(series.iter(), log)
    }
}

/// The one y-scale of every cell on screen, this run's and the compared runs' alike (so the
/// caption's "one y-scale" holds across them); None with a scale per cell (`v`).
fn grid_range(ctx: &Ctx) -> Option<(f64, f64)> {
    if !ctx.charts.shared_y {
        return None;
    }
    std::iter::once(&ctx.run.record)
        .chain(ctx.compare.iter().map(|(_, r)| r))
        .filter_map(|r| record_range(ctx, r))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// The epoch axis every cell shares: the longest unit of this run and of the runs compared
/// beside it, so a 3-epoch run is not drawn as wide as a 100-epoch one.
fn shared_epochs(ctx: &Ctx) -> f64 {
    std::iter::once(&ctx.run.record)
        .chain(ctx.compare.iter().map(|(_, r)| r))
        .flat_map(|r| r.units.iter().map(|u| u.spec.epochs))
        .max()
        .unwrap_or(1) as f64
}

/// Small multiples of `record` in `area`, scrolled so the selection is visible: one cell per
/// unit, or per variant (mean and seed band) when variants are repeated over seeds.
/// `shared` is the one y-scale of every run shown (`grid_range`), None for one per cell;
/// `hits` takes the cells when they select (this run's, not a compared one's).
fn draw_cells(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    (record, shared): (&RunRecord, Option<(f64, f64)>),
    progress: Option<&[Option<Progress>]>,
    mut hits: Option<&mut Hits>,
) {
    let theme = ctx.theme;
    if crate::report::has_repeats(record) {
        draw_variant_cells(ctx, frame, area, (record, shared), hits);
        return;
    }
    let epochs = shared_epochs(ctx);
    let n = record.units.len();
    let selected = ctx.selected.min(n.saturating_sub(1));
    let cells = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let g = layout(cells.width, cells.height, n, selected);
    let (cols, first_row, rows_visible) = (g.cols, g.first_row, g.rows);
    let mut series: Vec<Option<crate::tui::widgets::chart::Series>> = record
        .units
        .iter()
        .map(|v| {
            (!v.history.is_empty()).then(|| {
                crate::tui::widgets::chart::loss_series_with(
                    v,
                    &[],
                    ctx.charts.log_scale,
                    Some(crate::tui::widgets::chart::Extras {
                        smooth: false,
                        patience: ctx.charts.patience,
                        weight: ctx.charts.batch_weight,
                        weight_per_point: ctx.charts.batch_weight,
                    }),
                )
            })
        })
        .collect();
    let best = best_index(record.units.iter().map(|v| {
        v.final_metrics()
            .filter(|_| v.status == UnitStatus::Finished)
            .map(|m| m.test_loss as f64)
    }));
    for r in 0..rows_visible {
        for c in 0..cols {
            let i = (first_row + r) * cols + c;
            if i >= n {
                break;
            }
            let Some(cell) = cell_rect(cells, r, c, &g) else {
                continue;
            };
            let p = progress.and_then(|p| p.get(i).copied().flatten());
            let mut s = series[i].take();
            if let Some(s) = s.as_mut() {
                s.x_max = epochs;
                if let Some(y) = shared {
                    s.y = y;
                }
            }
            if let Some(h) = hits.as_deref_mut() {
                h.add(cell, Target::Unit(i));
            }
            render_cell(ctx, frame, cell, record, i, p, s, best == Some(i), theme);
        }
    }
    legend(
        ctx,
        frame,
        area,
        &g,
        n,
        ("test/train loss", "★ lowest final test loss"),
        theme,
    );
}

/// The line under the cells: what they show, the scale, the star, and the page when paging.
fn legend(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    g: &GridLayout,
    n: usize,
    (what, star): (&str, &str),
    theme: Theme,
) {
    let scale = if ctx.charts.shared_y {
        "one y-scale (v: per cell)"
    } else {
        "y-scale per cell (v: shared)"
    };
    let paging = if n > g.cols * g.rows {
        format!(
            "rows {}-{} of {} (↑↓ scroll)",
            g.first_row + 1,
            g.first_row + g.rows,
            n.div_ceil(g.cols)
        )
    } else {
        String::new()
    };
    // Narrow: the page first, then what the cells show; the rest as room allows.
    let parts: Vec<&str> = [paging.as_str(), what, scale, star]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    let text = fit::title(&parts, area.width);
    let line = Rect {
        y: area.bottom().saturating_sub(1),
        height: 1,
        ..area
    };
    frame.render_widget(Paragraph::new(Line::styled(text, theme.dim())), line);
}

/// The index of the lowest value, if any.
fn best_index(values: impl Iterator<Item = Option<f64>>) -> Option<usize> {
    values
        .enumerate()
        .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

#[allow(clippy::too_many_arguments)]
fn render_cell(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    record: &RunRecord,
    i: usize,
    progress: Option<Progress>,
    series: Option<crate::tui::widgets::chart::Series>,
    best: bool,
    theme: Theme,
) {
    let v = &record.units[i];
    // Cells are narrow: badges keep their symbol only, and a name too long for the cell is
    // shortened with an ellipsis.
    let badges: Vec<Span> = badges(v, theme)
        .into_iter()
        .map(|b| Span::styled(b.content.chars().take(3).collect::<String>(), b.style))
        .collect();
    let extra =
        badges.iter().map(|b| fit::width(&b.content)).sum::<usize>() + if best { 2 } else { 0 };
    let room = (area.width as usize).saturating_sub(2 + 3 + extra);
    let mut title = vec![
        Span::styled(status_symbol(v.status), theme.status(v.status)),
        Span::raw(format!(" {} ", fit::middle_ellipsis(&v.spec.name, room))),
    ];
    if best {
        title.push(Span::styled("★ ", theme.good()));
    }
    title.extend(badges);
    let mut block = Block::bordered()
        .title(Line::from(title))
        .border_style(theme.status(v.status));
    if i == ctx.selected {
        // A thick border and a reversed title: inside the cell, unlike a reversed border,
        // which reads as a solid bar running into the neighbours and the screen edge.
        block = block
            .border_type(BorderType::Thick)
            .title_style(theme.selected());
    }
    let inner = block.inner(area);
    let [chart_area, line_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(block, area);
    // Words that do not fit the cell end in "…", never cut to another word.
    let room = line_area.width as usize;
    let said = |text: String| fit::ellipsis(&text, room);
    let summary = match v.status {
        UnitStatus::Queued => Line::styled(said(v.status.label().to_string()), theme.dim()),
        UnitStatus::Running => {
            let pct = unit_fraction(v, progress);
            Line::styled(
                said(format!("running {:.0}%", (pct * 100.0).min(100.0))),
                theme.status(v.status),
            )
        }
        UnitStatus::Failed => Line::styled(
            said(
                v.failure
                    .as_ref()
                    .map(|f| format!("failed: {:?}", f.kind).to_lowercase())
                    .unwrap_or_else(|| "failed".into()),
            ),
            theme.bad(),
        ),
        _ => match v.final_metrics() {
            Some(m) => Line::from(vec![
                Span::styled(format!("L {:.4} ", m.test_loss), theme.test()),
                Span::raw(format!("A {:.4}", m.test_acc)),
            ]),
            None => Line::styled(said(format!("{:?}", v.status).to_lowercase()), theme.dim()),
        },
    };
    frame.render_widget(Paragraph::new(summary), line_area);
    if let Some(s) = series {
        frame.render_widget(chart(&s, Block::new(), theme, false), chart_area);
        let last = v.history.last().map_or(0, |m| m.epoch);
        axis_labels(frame, chart_area, s.y, s.log, last, theme);
    }
}

/// One cell per variant: the mean test loss over its seeds with the min–max band, and the
/// mean ± sd of the final test loss.
fn draw_variant_cells(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    (record, shared): (&RunRecord, Option<(f64, f64)>),
    mut hits: Option<&mut Hits>,
) {
    let theme = ctx.theme;
    let epochs = shared_epochs(ctx);
    let groups = crate::insight::stats::variant_groups(record);
    let n = groups.len();
    let selected = groups
        .iter()
        .position(|g| g.contains(&ctx.selected))
        .unwrap_or(0);
    let cells = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let g = layout(cells.width, cells.height, n, selected);
    let (cols, first_row, rows_visible) = (g.cols, g.first_row, g.rows);
    // This run's statistics were made when it changed; a compared run's (fixed) here.
    let owned;
    let stats: &[crate::insight::stats::VariantStats] = match ctx
        .run
        .fresh_stats()
        .filter(|_| std::ptr::eq(record, &ctx.run.record))
    {
        Some(s) => &s.per_variant,
        None => {
            owned = crate::insight::stats::per_variant(record);
            &owned
        }
    };
    let mut series: Vec<crate::tui::widgets::chart::Series> = groups
        .iter()
        .map(|g| {
            let units: Vec<&crate::runs::UnitRecord> =
                g.iter().map(|&i| &record.units[i]).collect();
            crate::tui::widgets::chart::mean_band_series(&units, ctx.charts.log_scale)
        })
        .collect();
    let best = best_index(stats.iter().map(|s| (s.loss.n > 0).then_some(s.loss.mean)));
    for r in 0..rows_visible {
        for c in 0..cols {
            let k = (first_row + r) * cols + c;
            if k >= n {
                break;
            }
            let Some(cell) = cell_rect(cells, r, c, &g) else {
                continue;
            };
            if let Some(h) = hits.as_deref_mut() {
                h.add(cell, Target::Unit(groups[k][0]));
            }
            let units: Vec<&crate::runs::UnitRecord> =
                groups[k].iter().map(|&i| &record.units[i]).collect();
            let done = units.iter().filter(|u| u.status.is_done()).count();
            let running = units.iter().any(|u| u.status == UnitStatus::Running);
            let style = if running {
                theme.status(UnitStatus::Running)
            } else if done == units.len() {
                theme.status(UnitStatus::Finished)
            } else {
                theme.dim()
            };
            let name = units[0].spec.variant_name();
            let star = if best == Some(k) { "★ " } else { "" };
            let mut block = Block::bordered()
                .title(format!(
                    " {} {star}",
                    fit::ellipsis(
                        name,
                        (cell.width as usize).saturating_sub(4 + fit::width(star))
                    )
                ))
                .border_style(style);
            if k == selected {
                block = block
                    .border_type(BorderType::Thick)
                    .title_style(theme.selected());
            }
            let inner = block.inner(cell);
            let [chart_area, line_area] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
            frame.render_widget(block, cell);
            let summary = match stats.get(k) {
                Some(s) if s.loss.n >= 2 => format!(
                    "L {:.4}±{:.4} n{}/{}",
                    s.loss.mean,
                    s.loss.sd,
                    s.loss.n,
                    units.len()
                ),
                Some(s) if s.loss.n == 1 => format!("L {:.4} n1/{}", s.loss.mean, units.len()),
                _ => format!("{done}/{} seeds done", units.len()),
            };
            frame.render_widget(
                Paragraph::new(Line::styled(summary, theme.test())),
                line_area,
            );
            let mut s = std::mem::take(&mut series[k]);
            s.x_max = epochs;
            if let Some(y) = shared {
                s.y = y;
            }
            if !s.test.is_empty() {
                s.fill_band(chart_area.height, chart_area.width);
                frame.render_widget(chart(&s, Block::new(), theme, false), chart_area);
                let last = units
                    .iter()
                    .filter_map(|u| u.history.last().map(|m| m.epoch))
                    .max()
                    .unwrap_or(0);
                axis_labels(frame, chart_area, s.y, s.log, last, theme);
            }
        }
    }
    let what = format!("mean test loss over seeds, band min–max · {n} variants");
    legend(ctx, frame, area, &g, n, (&what, "★ lowest mean"), theme);
}

/// The grid as a figure (`E`): a panel for every cell of this run and of each compared run
/// (not only those scrolled into view), on the one y-scale the grid draws.
pub fn figure(ctx: &Ctx) -> crate::export::figure::Figure {
    use crate::tui::widgets::chart::{loss_series_with, mean_band_series, panel};
    let shared = grid_range(ctx);
    let epochs = shared_epochs(ctx);
    let log = ctx.charts.log_scale;
    let runs = std::iter::once((None, &ctx.run.record))
        .chain(ctx.compare.iter().map(|(n, r)| (Some(n.as_str()), r)));
    let mut panels = Vec::new();
    let mut repeats = false;
    for (name, record) in runs {
        let tag = name.map_or(String::new(), |n| format!(" [{n}]"));
        let mut cells: Vec<(String, crate::tui::widgets::chart::Series)> = Vec::new();
        if crate::report::has_repeats(record) {
            repeats = true;
            for g in crate::insight::stats::variant_groups(record) {
                let units: Vec<&crate::runs::UnitRecord> =
                    g.iter().map(|&i| &record.units[i]).collect();
                let last = units
                    .iter()
                    .filter_map(|u| u.history.last().map(|m| m.epoch))
                    .max()
                    .unwrap_or(0);
                cells.push((
                    format!("{}{tag} · ep {last}", units[0].spec.variant_name()),
                    mean_band_series(&units, log),
                ));
            }
        } else {
            for v in record.units.iter().filter(|v| !v.history.is_empty()) {
                let last = v.history.last().map_or(0, |m| m.epoch);
                cells.push((
                    format!("{}{tag} · ep {last}", v.spec.name),
                    loss_series_with(v, &[], log, None),
                ));
            }
        }
        for (title, mut s) in cells {
            s.x_max = epochs;
            if let Some(y) = shared {
                s.y = y;
            }
            panels.push(panel(title, "loss", &s));
        }
    }
    let what = if repeats {
        "mean test loss over seeds, band min–max"
    } else {
        "train and test loss"
    };
    let scale = match shared {
        Some((lo, hi)) => format!("one y-scale {lo:.3}–{hi:.3}"),
        None => "y-scale per cell".into(),
    };
    crate::export::figure::Figure {
        title: format!("{} · {what} · {scale}", ctx.run.record.preset),
        panels,
        notes: Vec::new(),
    }
}
