//! The study's table: one row per variant, ours beside the study's numbers, best loss marked.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use ratatui::Frame;

use super::Theme;
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
    // variant, layers, loss, acc, epochs, drop, optimizer, activation, BN+Dropout, study loss, study acc
    let columns = [0usize, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let header = Row::new(columns.map(|c| Cell::from(report::HEADERS[c]))).style(theme.title());
    let rows = order.iter().map(|&i| {
        let cells = columns.map(|c| Cell::from(all_rows[i][c].clone()));
        let mut row = Row::new(cells);
        if Some(i) == best {
            row = row.style(theme.good());
        }
        row
    });
    let widths = [
        Constraint::Min(14),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(9),
    ];
    let selected_row = order.iter().position(|&i| i == app.selected);
    let title = Line::from(format!(
        " the study's table · sorted by {} (o) · best test loss in bold ",
        app.table.sort.label()
    ));
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(title))
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut state = TableState::default().with_selected(selected_row);
    frame.render_stateful_widget(table, area, &mut state);
}

/// With seeds: one row per variant, n and mean ± sd with the 95% CI of the final test loss
/// and accuracy; the best is marked only when significantly better than the runner-up.
fn render_variant_table(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    use crate::insight::factors::Metric;
    use crate::insight::stats;
    let Some(run) = &app.run else {
        return;
    };
    let record = &run.record;
    let vs = stats::per_variant(record);
    let leader = stats::leader(&vs, Metric::TestLoss);
    let best = match &leader {
        Some(stats::Leader::Best { name, .. }) => Some(name.as_str()),
        _ => None,
    };
    let selected_name = record
        .variants
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
        _ => format!("{:.4} ± {:.4}", e.mean, e.sd),
    };
    let header = Row::new([
        "variant",
        "n",
        "test loss",
        "95% CI",
        "test acc",
        "95% CI",
        "best-epoch loss",
        "study loss",
        "study acc",
    ])
    .style(theme.title());
    let rows = vs.iter().map(|v| {
        let [study_loss, study_acc] = report::reference_cells(v.reference);
        let row = Row::new([
            Cell::from(v.name.clone()),
            Cell::from(format!("{}/{}", v.loss.n, v.units)),
            Cell::from(pm(&v.loss)),
            Cell::from(ci(&v.loss)),
            Cell::from(pm(&v.acc)),
            Cell::from(ci(&v.acc)),
            Cell::from(pm(&v.best_epoch_loss)),
            Cell::from(study_loss),
            Cell::from(study_acc),
        ]);
        if Some(v.name.as_str()) == best {
            row.style(theme.good())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Min(14),
        Constraint::Length(5),
        Constraint::Length(15),
        Constraint::Length(16),
        Constraint::Length(15),
        Constraint::Length(16),
        Constraint::Length(15),
        Constraint::Length(10),
        Constraint::Length(9),
    ];
    let verdict = leader
        .as_ref()
        .map(|l| l.sentence(Metric::TestLoss))
        .unwrap_or_else(|| "no finished units yet".into());
    let title = Line::from(format!(" over seeds: mean ± sd, 95% CI · {verdict} "));
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
