//! The `?` overlay: every key, from the same table that drives key handling. One column of
//! whole lines; when it is taller than the terminal it scrolls (↑/↓) and says so, so no text
//! is ever cut (the 80x24 minimum included).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::centered;
use crate::tui::keys::{bindings_in, Scope};
use crate::tui::state::View;
use crate::tui::theme::Theme;

/// Width of the keys column.
const KEYS: usize = 10;

/// Key lines shown at once in a terminal `height` rows tall (all of them when they fit).
fn visible_lines(height: u16, total: usize) -> usize {
    if height as usize >= total + 2 {
        total
    } else {
        (height as usize).saturating_sub(2).max(1)
    }
}

/// The furthest the help scrolls in a terminal `height` rows tall.
pub fn max_scroll(height: u16, now: Scope, view: Option<View>) -> usize {
    let total = bindings_in(now, view).len();
    total - visible_lines(height, total).min(total)
}

/// The keys that work where the user is (`now`), and what each does.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    scroll: usize,
    now: Scope,
    view: Option<View>,
    theme: Theme,
) {
    let bindings = bindings_in(now, view);
    let longest = bindings
        .iter()
        .map(|b| b.help.chars().count())
        .max()
        .unwrap_or(0);
    let width = (KEYS + 2 + longest + 2) as u16;
    let total = bindings.len();
    let visible = visible_lines(area.height, total);
    let fits = visible == total;
    let first = scroll.min(max_scroll(area.height, now, view));
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
    let lines: Vec<Line> = bindings
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
