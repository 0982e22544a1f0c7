//! The study's table: one row per variant, ours beside the study's numbers, best loss marked.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use ratatui::Frame;

use super::Theme;
use crate::report;
use crate::tui::app::App;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    render_table(app, frame, area, theme);
}

/// Draws the table in `area` (used by the table view and beside the grid).
pub fn render_table(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let Some(run) = &app.run else {
        return;
    };
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
