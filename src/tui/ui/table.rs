//! The study's table: one row per variant, ours beside the study's numbers, best loss marked.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use ratatui::Frame;

use super::{fit, Theme};
use crate::report;
use crate::tui::app::App;

/// The unit whose row of the table view is at (`x`, `y`) (one row per unit; with seeds the
/// rows are variants and select nothing). Rows scroll as ratatui's `Table` does, just far
/// enough to show the selection.
pub fn unit_at(app: &App, area: Rect, x: u16, y: u16) -> Option<usize> {
    let run = app.run.as_ref()?;
    if report::has_repeats(&run.record) {
        return None;
    }
    let inner = Block::bordered().inner(area);
    // The header takes the first line.
    if !inner.contains((x, y).into()) || y == inner.y {
        return None;
    }
    let order = app.sorted_indices();
    let visible = inner.height.saturating_sub(1) as usize;
    let at = order.iter().position(|&i| i == app.selected).unwrap_or(0);
    let first = at.saturating_sub(visible.saturating_sub(1));
    order.get(first + (y - inner.y - 1) as usize).copied()
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    render_table(app, frame, area, theme);
}

/// Draws the table in `area` (used by the table view and beside the grid).
pub fn render_table(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let Some(run) = &app.run else {
        return;
    };
    if report::has_repeats(&run.record) {
        render_variant_table(app, frame, area, theme);
        return;
    }
    let all_rows = report::rows(&run.record);
    let best = app.best_variant();
    let order = app.sorted_indices();
    // Columns in the study's order, ranked by what a narrow terminal keeps first.
    let ranks = [0u8, 8, 1, 2, 5, 9, 7, 10, 6, 3, 4];
    let cols: Vec<fit::Column> = ranks
        .iter()
        .enumerate()
        .map(|(c, &rank)| {
            let cells = order.iter().map(|&i| all_rows[i][c].clone()).collect();
            fit::Column::new(report::HEADERS[c], rank, cells)
        })
        .collect();
    let (kept, widths) = fit::columns(&cols, area.width.saturating_sub(2));
    let header =
        Row::new(kept.iter().map(|&c| Cell::from(cols[c].header.clone()))).style(theme.title());
    let rows = order.iter().enumerate().map(|(r, &i)| {
        let mut row = Row::new(kept.iter().map(|&c| Cell::from(cols[c].cells[r].clone())));
        if Some(i) == best {
            row = row.style(theme.good());
        }
        row
    });
    let selected_row = order.iter().position(|&i| i == app.selected);
    let sorted = format!("sorted by {} (o)", app.table.sort.label());
    let hidden = if kept.len() < cols.len() {
        "widen for more columns"
    } else {
        ""
    };
    let parts: Vec<&str> = [
        "the study's table",
        &sorted,
        hidden,
        "best test loss in bold",
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect();
    let title = Line::from(fit::title(&parts, area.width.saturating_sub(2)));
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(title))
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut state = TableState::default().with_selected(selected_row);
    frame.render_stateful_widget(table, area, &mut state);
}

/// With seeds: one row per variant, n and mean ± sd with the 95% CI of the final test loss
/// and accuracy; ★ marks the variants that cannot be told apart from the best.
fn render_variant_table(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    use crate::insight::stats;
    use crate::spec::Metric;
    let Some(run) = &app.run else {
        return;
    };
    let record = &run.record;
    let vs = stats::per_variant(record);
    let best = stats::best_set(&vs, Metric::TestLoss);
    let in_best = |name: &str| best.as_ref().is_some_and(|b| b.contains(name));
    let selected_name = record
        .units
        .get(app.selected)
        .map(|v| v.spec.variant_name());
    let ci = |e: &stats::Estimate| {
        if e.n >= 2 {
            format!("[{:.4}, {:.4}]", e.ci_low, e.ci_high)
        } else {
            "-".into()
        }
    };
    let pm = |e: &stats::Estimate| match e.n {
        0 => "-".to_string(),
        1 => format!("{:.4}", e.mean),
        _ if e.sd == 0.0 => format!("{:.4} (no spread)", e.mean),
        _ => format!("{:.4} ± {:.4}", e.mean, e.sd),
    };
    // The best epoch is chosen on the validation images, or on the test set itself when no
    // images were held out: the header says which.
    let on_test = record
        .units
        .iter()
        .all(|v| v.spec.validation == crate::spec::Validation::Test);
    let names = [
        ("variant", 0u8),
        ("n", 2),
        ("test loss", 1),
        ("95% CI", 3),
        ("test acc", 4),
        ("95% CI", 8),
        (
            if on_test {
                "best-test-epoch loss"
            } else {
                "best-epoch loss"
            },
            7,
        ),
        ("study loss", 5),
        ("study acc", 6),
    ];
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for v in &vs {
        let [study_loss, study_acc] = report::reference_cells(v.reference);
        let mark = if in_best(&v.name) { "★ " } else { "" };
        let row = [
            match &v.alias_of {
                Some(a) => format!("{mark}{} (= {a})", v.name),
                None => format!("{mark}{}", v.name),
            },
            if v.failed.is_empty() {
                format!("{}/{}", v.loss.n, v.units)
            } else {
                format!("{}/{} ({} failed)", v.loss.n, v.units, v.failed.len())
            },
            pm(&v.loss),
            ci(&v.loss),
            pm(&v.acc),
            ci(&v.acc),
            pm(&v.best_epoch_loss),
            study_loss,
            study_acc,
        ];
        for (c, cell) in row.into_iter().enumerate() {
            cells[c].push(cell);
        }
    }
    let cols: Vec<fit::Column> = names
        .iter()
        .zip(cells)
        .map(|(&(h, rank), cells)| fit::Column::new(h, rank, cells))
        .collect();
    let (kept, widths) = fit::columns(&cols, area.width.saturating_sub(2));
    let header =
        Row::new(kept.iter().map(|&c| Cell::from(cols[c].header.clone()))).style(theme.title());
    let rows = vs.iter().enumerate().map(|(r, v)| {
        let row = Row::new(kept.iter().map(|&c| Cell::from(cols[c].cells[r].clone())));
        if in_best(&v.name) {
            row.style(theme.good())
        } else {
            row
        }
    });
    let verdict = best
        .as_ref()
        .map(|b| b.sentence())
        .unwrap_or_else(|| "no finished units yet".into());
    let title = Line::from(fit::title(
        &[&verdict, "over seeds: mean ± sd, 95% CI"],
        area.width.saturating_sub(2),
    ));
    let selected_row = vs
        .iter()
        .position(|v| Some(v.name.as_str()) == selected_name);
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(title))
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut state = TableState::default().with_selected(selected_row);
    frame.render_stateful_widget(table, area, &mut state);
}
