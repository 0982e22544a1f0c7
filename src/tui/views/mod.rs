//! The views. Each module owns one view's state, its keys (`on_action`, answering `None` for
//! keys it leaves to the app), and its drawing, which records where its selectable things are
//! drawn (`Hits`), so a click is resolved against exactly what is on screen.

pub mod digits;
pub mod factors;
pub mod grid;
pub mod live;
pub mod overlay;
pub mod pairs;
pub mod picker;
pub mod table;

use super::state::{ChartOptions, Effect, Level, RunView};
use super::theme::Theme;
use crate::runs::RunRecord;

/// What a view draws from besides its own state.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub run: &'a RunView,
    /// The selected unit (a valid index of `run`'s units).
    pub selected: usize,
    /// Past runs shown beside this one: (name, record) each.
    pub compare: &'a [(String, RunRecord)],
    pub charts: ChartOptions,
    pub theme: Theme,
}

impl Ctx<'_> {
    /// The finished unit with the lowest final test loss.
    pub fn best_unit(&self) -> Option<usize> {
        self.run.best_unit()
    }

    /// The variant (group) name of the selected unit.
    pub fn selected_variant(&self) -> Option<&str> {
        self.run
            .record
            .units
            .get(self.selected)
            .map(|v| v.spec.variant_name())
    }
}

/// What the picker's keys may change besides its own state: the message line and the
/// comparison; and whether a run trains here now (opening or resuming waits for it).
pub struct Shared<'a> {
    pub message: &'a mut Option<(Level, String)>,
    pub compare: &'a mut Vec<(String, RunRecord)>,
    pub training: bool,
}

impl Shared<'_> {
    pub fn info(&mut self, text: impl Into<String>) {
        *self.message = Some((Level::Info, text.into()));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        *self.message = Some((Level::Error, text.into()));
    }
}

/// What a view draws when the numbers it shows were not made for the run as it is now
/// (`update` makes them when the record changes; drawing never computes them).
pub fn computing(frame: &mut ratatui::Frame, area: ratatui::layout::Rect, title: &str) {
    frame.render_widget(
        ratatui::widgets::Paragraph::new("computing…")
            .block(ratatui::widgets::Block::bordered().title(title.to_string())),
        area,
    );
}

/// A view's answer to a key: handled (with the effects it asks for), or left to the app.
pub type Reply = Option<Vec<Effect>>;

/// Handled, nothing for the runtime to do.
pub fn done() -> Reply {
    Some(Vec::new())
}
