//! Colours and symbols: one place decides how a status, a split or a warning looks, in colour
//! and without.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use crate::runs::UnitStatus;

/// Epochs of a widening train/test gap before the overfitting badge shows.
pub const OVERFIT_EPOCHS: usize = 3;

/// Colours that read on dark and light backgrounds; all plain when NO_COLOR is set.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    pub fn train(&self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn test(&self) -> Style {
        self.fg(Color::Magenta)
    }
    pub fn val(&self) -> Style {
        self.fg(Color::Yellow)
    }
    /// The seed-to-seed band around a mean curve.
    pub fn band(&self) -> Style {
        self.fg(Color::DarkGray)
    }
    pub fn batch(&self) -> Style {
        self.fg(Color::DarkGray)
    }
    pub fn smooth(&self) -> Style {
        self.fg(Color::Blue)
    }
    pub fn good(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn status(&self, s: UnitStatus) -> Style {
        match s {
            UnitStatus::Finished => self.good(),
            UnitStatus::Failed | UnitStatus::Interrupted => self.bad(),
            UnitStatus::Skipped => self.warn(),
            UnitStatus::Running => self.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            UnitStatus::Queued => self.dim(),
        }
    }
}

pub fn status_symbol(s: UnitStatus) -> &'static str {
    match s {
        UnitStatus::Queued => "·",
        UnitStatus::Running => "▶",
        UnitStatus::Finished => "✓",
        UnitStatus::Failed => "✗",
        UnitStatus::Skipped => "↷",
        UnitStatus::Interrupted => "!",
    }
}

/// Warning badges of a variant's curve: NaN loss, and a train/test gap widening for
/// `OVERFIT_EPOCHS` epochs in a row.
pub fn badges(v: &crate::runs::UnitRecord, theme: Theme) -> Vec<Span<'static>> {
    use crate::insight::curves;
    let mut out = Vec::new();
    let diverged = v
        .failure
        .as_ref()
        .is_some_and(|f| f.kind == crate::spec::FailKind::Diverged);
    if diverged || curves::has_non_finite(&v.history) {
        out.push(Span::styled(" ✗ NaN ", theme.bad()));
    }
    if let Some(e) = curves::gap_widening_since(&v.history, OVERFIT_EPOCHS) {
        out.push(Span::styled(
            format!(" ⚠ overfitting (gap up since {}) ", e - OVERFIT_EPOCHS),
            theme.warn(),
        ));
    }
    out
}
