//! The `?` overlay: every key, from the same table that drives key handling.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::{centered, Theme};
use crate::tui::keys::BINDINGS;

pub fn render(frame: &mut Frame, area: Rect, theme: Theme) {
    let line = |b: &crate::tui::keys::Binding| {
        Line::from(vec![
            Span::styled(format!(" {:<10}", b.keys), theme.title()),
            Span::raw(b.help),
        ])
    };
    let rows = BINDINGS.len() as u16 + 1;
    // One column when it fits in height, else two side by side (the 80x24 minimum).
    let columns: u16 = if rows + 2 <= area.height { 1 } else { 2 };
    let per_column = (BINDINGS.len() as u16).div_ceil(columns);
    let popup = centered(area, 64 * columns, per_column + 3);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(" keys · ? or esc closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = inner.width / columns;
    for (c, chunk) in BINDINGS.chunks(per_column as usize).enumerate() {
        let area = Rect {
            x: inner.x + c as u16 * width,
            width,
            ..inner
        };
        let lines: Vec<Line> = chunk.iter().map(line).collect();
        frame.render_widget(Paragraph::new(lines), area);
    }
}
