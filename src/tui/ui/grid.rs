//! Grid view: small multiples, one cell per variant (mini loss chart + final numbers),
//! filling in as variants complete, with the study's table beside or under it.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::chart::chart;
use super::{status_symbol, Theme};
use crate::runs::RunRecord;
use crate::runs::VariantStatus;
use crate::tui::app::{App, Progress};

pub const CELL_WIDTH: u16 = 26;
pub const CELL_HEIGHT: u16 = 7;

/// Columns that fit, and the first row to show so that `selected` is visible.
pub fn layout(width: u16, height: u16, count: usize, selected: usize) -> (usize, usize, usize) {
    let cols = (width / CELL_WIDTH).max(1) as usize;
    let rows_visible = (height / CELL_HEIGHT).max(1) as usize;
    let sel_row = selected / cols;
    let first_row = sel_row.saturating_sub(rows_visible - 1);
    let total_rows = count.div_ceil(cols);
    (cols, first_row, rows_visible.min(total_rows.max(1)))
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let Some(run) = &app.run else {
        return;
    };
    let wide = area.width >= 170;
    let (grid_area, table_area) = if wide {
        let [g, t] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(112)]).areas(area);
        (g, t)
    } else {
        let table_h = (run.record.variants.len() as u16 + 3)
            .min(area.height / 2)
            .max(5);
        let [g, t] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(table_h)]).areas(area);
        (g, t)
    };
    match &app.compare {
        None => draw_cells(
            app,
            frame,
            grid_area,
            &run.record,
            Some(&run.progress),
            theme,
        ),
        Some((name, other)) => {
            let [left, right] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(grid_area);
            let titled = |frame: &mut Frame, r: Rect, title: String| {
                let block = Block::bordered().title(title).border_style(theme.dim());
                let inner = block.inner(r);
                frame.render_widget(block, r);
                inner
            };
            let l = titled(frame, left, format!(" this run · {} ", run.record.preset));
            draw_cells(app, frame, l, &run.record, Some(&run.progress), theme);
            let r = titled(frame, right, format!(" compare · {name} (b clears) "));
            draw_cells(app, frame, r, other, None, theme);
        }
    }
    super::table::render_table(app, frame, table_area, theme);
}

/// The cell at row `r`, column `c` of the visible grid, if it fits in `area`.
fn cell_rect(area: Rect, r: usize, c: usize, cell_w: u16) -> Option<Rect> {
    let cell = Rect {
        x: area.x + c as u16 * cell_w,
        y: area.y + r as u16 * CELL_HEIGHT,
        width: cell_w,
        height: CELL_HEIGHT,
    };
    (cell.bottom() <= area.bottom()).then_some(cell)
}

/// Small multiples of `record` in `area`, scrolled so the selection is visible: one cell per
/// unit, or per variant (mean and seed band) when variants are repeated over seeds.
fn draw_cells(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    record: &RunRecord,
    progress: Option<&[Option<Progress>]>,
    theme: Theme,
) {
    if crate::report::has_repeats(record) {
        draw_variant_cells(app, frame, area, record, theme);
        return;
    }
    let n = record.variants.len();
    let selected = app.selected.min(n.saturating_sub(1));
    let (cols, first_row, rows_visible) = layout(area.width, area.height, n, selected);
    let cell_w = area.width / cols as u16;
    for r in 0..rows_visible {
        for c in 0..cols {
            let i = (first_row + r) * cols + c;
            if i >= n {
                break;
            }
            let Some(cell) = cell_rect(area, r, c, cell_w) else {
                continue;
            };
            let p = progress.and_then(|p| p.get(i).copied().flatten());
            render_cell(app, frame, cell, record, i, p, theme);
        }
    }
    if n > cols * rows_visible {
        let shown = format!(
            " rows {}-{} of {} (↑↓ scroll) ",
            first_row + 1,
            first_row + rows_visible,
            n.div_ceil(cols)
        );
        let y = area.bottom().saturating_sub(1);
        let line = Rect {
            y,
            height: 1,
            ..area
        };
        frame.render_widget(Paragraph::new(Line::styled(shown, theme.dim())), line);
    }
}

fn render_cell(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    record: &RunRecord,
    i: usize,
    progress: Option<Progress>,
    theme: Theme,
) {
    let v = &record.variants[i];
    let mut title = vec![
        Span::styled(status_symbol(v.status), theme.status(v.status)),
        Span::raw(format!(" {} ", v.spec.name)),
    ];
    title.extend(super::badges(v, theme).into_iter().map(|b| {
        // Cells are narrow: keep the badge's symbol only.
        Span::styled(b.content.chars().take(3).collect::<String>(), b.style)
    }));
    let mut block = Block::bordered()
        .title(Line::from(title))
        .border_style(theme.status(v.status));
    if i == app.selected {
        block = block.border_style(theme.selected().patch(theme.status(v.status)));
        block = block.title_style(theme.selected());
    }
    let inner = block.inner(area);
    let [chart_area, line_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(block, area);
    let summary = match v.status {
        VariantStatus::Queued => Line::styled(v.status.label(), theme.dim()),
        VariantStatus::Running => {
            let pct = crate::tui::app::unit_fraction(v, progress);
            Line::styled(
                format!("running {:.0}%", (pct * 100.0).min(100.0)),
                theme.status(v.status),
            )
        }
        VariantStatus::Failed => Line::styled(
            v.failure
                .as_ref()
                .map(|f| format!("failed: {:?}", f.kind).to_lowercase())
                .unwrap_or_else(|| "failed".into()),
            theme.bad(),
        ),
        _ => match v.last() {
            Some(m) => Line::from(vec![
                Span::styled(format!("L {:.4} ", m.test_loss), theme.test()),
                Span::raw(format!("A {:.4}", m.test_acc)),
            ]),
            None => Line::styled(format!("{:?}", v.status).to_lowercase(), theme.dim()),
        },
    };
    frame.render_widget(Paragraph::new(summary), line_area);
    if !v.history.is_empty() {
        let s = super::chart::loss_series_with(
            v,
            &[],
            app.charts.log_scale,
            Some(super::chart::Extras {
                smooth: false,
                patience: app.charts.patience,
            }),
        );
        frame.render_widget(chart(&s, Block::new(), theme, false), chart_area);
    }
}

/// One cell per variant: the mean test loss over its seeds with the min–max band, and the
/// mean ± sd of the final test loss.
fn draw_variant_cells(app: &App, frame: &mut Frame, area: Rect, record: &RunRecord, theme: Theme) {
    let groups = crate::insight::stats::variant_groups(record);
    let n = groups.len();
    let selected = groups
        .iter()
        .position(|g| g.contains(&app.selected))
        .unwrap_or(0);
    let (cols, first_row, rows_visible) = layout(area.width, area.height, n, selected);
    let cell_w = area.width / cols as u16;
    let stats = crate::insight::stats::per_variant(record);
    for r in 0..rows_visible {
        for c in 0..cols {
            let k = (first_row + r) * cols + c;
            if k >= n {
                break;
            }
            let Some(cell) = cell_rect(area, r, c, cell_w) else {
                continue;
            };
            let units: Vec<&crate::runs::VariantRecord> =
                groups[k].iter().map(|&i| &record.variants[i]).collect();
            let done = units.iter().filter(|u| u.status.is_done()).count();
            let running = units.iter().any(|u| u.status == VariantStatus::Running);
            let style = if running {
                theme.status(VariantStatus::Running)
            } else if done == units.len() {
                theme.status(VariantStatus::Finished)
            } else {
                theme.dim()
            };
            let name = units[0].spec.variant_name();
            let mut block = Block::bordered()
                .title(format!(" {name} "))
                .border_style(style);
            if k == selected {
                block = block
                    .border_style(theme.selected().patch(style))
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
            let s = super::chart::mean_band_series(&units, app.charts.log_scale);
            if !s.test.is_empty() {
                frame.render_widget(chart(&s, Block::new(), theme, false), chart_area);
            }
        }
    }
    let legend = format!(" mean test loss over seeds, band min–max · {} variants ", n);
    let line = Rect {
        y: area.bottom().saturating_sub(1),
        height: 1,
        ..area
    };
    if area.height > CELL_HEIGHT {
        frame.render_widget(Paragraph::new(Line::styled(legend, theme.dim())), line);
    }
}
