//! Colours and symbols: one place decides how a status, a split or a warning looks, in colour
//! and without.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use crate::runs::UnitStatus;

/// Epochs of a widening train/test gap before the overfitting badge shows.
pub const OVERFIT_EPOCHS: usize = 3;

/// Colours chosen for the terminal's background (dark by default, light with `--theme
/// light`), each role its own colour; all plain when NO_COLOR is set (marks and words then
/// tell things apart).
#[derive(Debug, Clone, Copy, Default)]
pub struct Theme {
    pub color: bool,
    pub light: bool,
}

/// The colour of each role: (on dark, on light). Light backgrounds get darker shades: the
/// dark theme's yellows and cyans vanish on white.
const TRAIN: (Color, Color) = (Color::Cyan, Color::Rgb(0x00, 0x5F, 0x9E));
const TEST: (Color, Color) = (Color::Magenta, Color::Rgb(0xAD, 0x14, 0x57));
const VAL: (Color, Color) = (Color::Yellow, Color::Rgb(0x8A, 0x6D, 0x00));
const QUIET: (Color, Color) = (Color::DarkGray, Color::Rgb(0x80, 0x80, 0x80));
/// The smoothed batch loss: bright over the faint raw line (once dark blue, unreadable on
/// black).
const SMOOTH: (Color, Color) = (Color::White, Color::Rgb(0x21, 0x21, 0x21));
const GOOD: (Color, Color) = (Color::Green, Color::Rgb(0x2E, 0x7D, 0x32));
const BAD: (Color, Color) = (Color::Red, Color::Rgb(0xC6, 0x28, 0x28));
/// Warnings: orange, not validation's yellow.
const WARN: (Color, Color) = (Color::Indexed(208), Color::Rgb(0xD8, 0x43, 0x15));
/// Markers drawn on a chart (where early stopping would stop): the text colour's opposite.
const MARK: (Color, Color) = (Color::Gray, Color::Rgb(0x42, 0x42, 0x42));
const RUNNING: (Color, Color) = (Color::LightBlue, Color::Rgb(0x15, 0x65, 0xC0));

impl Theme {
    fn fg(&self, (dark, light): (Color, Color)) -> Style {
        match (self.color, self.light) {
            (false, _) => Style::new(),
            (true, false) => Style::new().fg(dark),
            (true, true) => Style::new().fg(light),
        }
    }
    pub fn train(&self) -> Style {
        self.fg(TRAIN)
    }
    pub fn test(&self) -> Style {
        self.fg(TEST)
    }
    pub fn val(&self) -> Style {
        self.fg(VAL)
    }
    /// The seed-to-seed band around a mean curve.
    pub fn band(&self) -> Style {
        self.fg(QUIET)
    }
    pub fn batch(&self) -> Style {
        self.fg(QUIET)
    }
    pub fn smooth(&self) -> Style {
        self.fg(SMOOTH)
    }
    /// A marker line on a chart (early stopping).
    pub fn marker(&self) -> Style {
        self.fg(MARK)
    }
    pub fn good(&self) -> Style {
        self.fg(GOOD).add_modifier(Modifier::BOLD)
    }
    pub fn bad(&self) -> Style {
        self.fg(BAD).add_modifier(Modifier::BOLD)
    }
    pub fn warn(&self) -> Style {
        self.fg(WARN).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            self.fg(QUIET)
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
            UnitStatus::Running => self.fg(RUNNING).add_modifier(Modifier::BOLD),
            UnitStatus::Queued => self.dim(),
        }
    }

    /// A colour chosen for dark backgrounds (a curve's, a heat cell's), made readable here:
    /// on a light background it is darkened until it stands out from white (contrast 3.2:1,
    /// above WCAG's 3:1 for graphics).
    pub fn readable(&self, c: Color) -> Color {
        match c {
            Color::Rgb(r, g, b) if self.light => {
                let mut k = 1.0f32;
                let shade = |k: f32| {
                    let d = |v: u8| (v as f32 * k) as u8;
                    (d(r), d(g), d(b))
                };
                while k > 0.05 && contrast_with_white(shade(k)) < 3.2 {
                    k -= 0.05;
                }
                let (r, g, b) = shade(k);
                Color::Rgb(r, g, b)
            }
            c => c,
        }
    }
}

/// The sRGB of a colour a terminal draws (xterm's defaults for the named and indexed ones).
pub fn rgb_of(c: Color) -> Option<(u8, u8, u8)> {
    const BASE: [(u8, u8, u8); 16] = [
        (0, 0, 0),
        (205, 0, 0),
        (0, 205, 0),
        (205, 205, 0),
        (0, 0, 238),
        (205, 0, 205),
        (0, 205, 205),
        (229, 229, 229),
        (127, 127, 127),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (92, 92, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    ];
    let indexed = |i: u8| -> (u8, u8, u8) {
        match i {
            0..=15 => BASE[i as usize],
            16..=231 => {
                let k = i - 16;
                let v = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
                (v(k / 36), v((k / 6) % 6), v(k % 6))
            }
            _ => {
                let g = 8 + 10 * (i - 232);
                (g, g, g)
            }
        }
    };
    Some(match c {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) => indexed(i),
        Color::Black => BASE[0],
        Color::Red => BASE[1],
        Color::Green => BASE[2],
        Color::Yellow => BASE[3],
        Color::Blue => BASE[4],
        Color::Magenta => BASE[5],
        Color::Cyan => BASE[6],
        Color::Gray => BASE[7],
        Color::DarkGray => BASE[8],
        Color::LightRed => BASE[9],
        Color::LightGreen => BASE[10],
        Color::LightYellow => BASE[11],
        Color::LightBlue => BASE[12],
        Color::LightMagenta => BASE[13],
        Color::LightCyan => BASE[14],
        Color::White => BASE[15],
        Color::Reset => return None,
    })
}

impl Theme {
    /// `c` made faint for a raw line under its smoothed one: blended 60% toward the
    /// background (black, or white with `--theme light`). A computed colour, because a
    /// chart passes only the colour of a style to the terminal (never DIM).
    pub fn faint(&self, c: Color) -> Color {
        let Some((r, g, b)) = rgb_of(c) else {
            return c;
        };
        let bg = if self.light { 255.0 } else { 0.0 };
        let mix = |v: u8| (v as f32 * 0.4 + bg * 0.6).round() as u8;
        Color::Rgb(mix(r), mix(g), mix(b))
    }
}

/// WCAG contrast ratio of an sRGB colour against white.
fn contrast_with_white((r, g, b): (u8, u8, u8)) -> f32 {
    let ch = |v: u8| {
        let c = v as f32 / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let lum = 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
    1.05 / (lum + 0.05)
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
