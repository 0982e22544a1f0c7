//! The `?` overlay: every key, from the same table that drives key handling.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::{centered, Theme};
use crate::tui::keys::BINDINGS;

pub fn render(frame: &mut Frame, area: Rect, theme: Theme) {
    let popup = centered(area, 64, BINDINGS.len() as u16 + 4);
    frame.render_widget(Clear, popup);
    let mut lines: Vec<Line> = BINDINGS
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!(" {:<12}", b.keys), theme.title()),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::styled(" ? or esc closes this help", theme.dim()));
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys ")),
        popup,
    );
}
