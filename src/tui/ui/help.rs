//! The `?` overlay: every key, from the same table that drives key handling. One column of
//! whole lines; when it is taller than the terminal it scrolls (↑/↓) and says so, so no text
//! is ever cut (the 80x24 minimum included).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::{centered, Theme};
use crate::tui::keys::BINDINGS;

/// Width of the keys column.
const KEYS: usize = 10;

pub fn render(frame: &mut Frame, area: Rect, scroll: usize, theme: Theme) {
    let longest = BINDINGS
        .iter()
        .map(|b| b.help.chars().count())
        .max()
        .unwrap_or(0);
    let width = (KEYS + 2 + longest + 2) as u16;
    let total = BINDINGS.len();
    let fits = area.height as usize >= total + 2;
    let visible = if fits {
        total
    } else {
        (area.height as usize).saturating_sub(2).max(1)
    };
    let first = scroll.min(total - visible.min(total));
    let popup = centered(area, width, visible as u16 + 2);
    frame.render_widget(Clear, popup);
    let title = if fits {
        " keys · ? or esc closes ".to_string()
    } else {
        format!(
            " keys {}–{} of {} · ↑↓ scroll · ? closes ",
            first + 1,
            first + visible,
            total
        )
    };
    let lines: Vec<Line> = BINDINGS
        .iter()
        .skip(first)
        .take(visible)
        .map(|b| {
            Line::from(vec![
                Span::styled(format!(" {:<KEYS$} ", b.keys), theme.title()),
                Span::raw(b.help),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        popup,
    );
}
