//! Drawing pieces the views share: charts, fitting text to a width, the help popup.

pub mod chart;
pub mod fit;
pub mod help;

use ratatui::layout::{Constraint, Flex, Layout, Rect};

pub use crate::estimate::fmt_duration;

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}
