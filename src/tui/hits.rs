//! Where the last frame drew its selectable things. Drawing fills it; the runtime turns a
//! click into a message against it, so clicks need no geometry of their own (and cannot
//! disagree with what is on screen).

use ratatui::layout::Rect;

use super::state::View;

/// What a click can land on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A view's tab in the header.
    Tab(View),
    /// A unit of the run shown (a grid cell, a list or table row, a legend line).
    Unit(usize),
    /// Line `k` of the overlay's legend: a curve (a compared run's too).
    Curve(usize),
    /// A line of the picker: preset `i`, then past run `i - presets`.
    Entry(usize),
    /// A cell of the digits view's confusion matrix: (true class, predicted class).
    Pair(u8, u8),
    /// An epoch under a chart's x-axis: the epoch cursor goes there.
    Epoch(usize),
}

/// The selectable areas of one frame, in drawing order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hits {
    areas: Vec<(Rect, Target)>,
}

impl Hits {
    pub fn add(&mut self, area: Rect, target: Target) {
        if area.width > 0 && area.height > 0 {
            self.areas.push((area, target));
        }
    }

    /// Whole lines of `area`, from its top: line `k` is `target(k)` (None: nothing there).
    pub fn add_lines(&mut self, area: Rect, mut target: impl FnMut(usize) -> Option<Target>) {
        for k in 0..area.height {
            if let Some(t) = target(k as usize) {
                self.add(Rect::new(area.x, area.y + k, area.width, 1), t);
            }
        }
    }

    /// What is drawn at (`x`, `y`): the last area drawn there (a popup covers what is below).
    pub fn at(&self, x: u16, y: u16) -> Option<Target> {
        self.areas
            .iter()
            .rev()
            .find(|(r, _)| r.contains((x, y).into()))
            .map(|(_, t)| *t)
    }

    /// Where `target` was first drawn (a unit's grid cell before its table row).
    pub fn find(&self, target: Target) -> Option<Rect> {
        self.areas
            .iter()
            .find(|(_, t)| *t == target)
            .map(|(r, _)| *r)
    }
}
