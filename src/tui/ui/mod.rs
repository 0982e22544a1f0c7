//! Drawing: a pure function of `App`. One file per view.

pub mod chart;
pub mod digits;
mod factors;
pub mod fit;
pub mod grid;
pub mod help;
mod live;
pub mod overlay;
mod pairs;
mod picker;
mod table;

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Confirm, Level, Screen, View};
use super::keys::footer;
use crate::runs::UnitStatus;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

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
    if let Some(e) = curves::gap_widening_since(&v.history, super::app::OVERFIT_EPOCHS) {
        out.push(Span::styled(
            format!(
                " ⚠ overfitting (gap up since {}) ",
                e - super::app::OVERFIT_EPOCHS
            ),
            theme.warn(),
        ));
    }
    out
}

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let theme = Theme {
        color: !app.no_color,
    };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let [header, body, message, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(message_rows(app, area.width)),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, frame, header, theme);
    match app.screen {
        Screen::Picker => picker::render(app, frame, body, theme),
        Screen::Run => match app.view {
            View::Live => live::render(app, frame, body, theme),
            View::Grid => grid::render(app, frame, body, theme),
            View::Table => table::render(app, frame, body, theme),
            View::Factors => factors::render(app, frame, body, theme),
            View::Digits => digits::render(app, frame, body, theme),
            View::Pairs => pairs::render(app, frame, body, theme),
            View::Overlay => overlay::render(app, frame, body, theme),
        },
    }
    if let Some((level, text)) = &app.message {
        let style = match level {
            Level::Info => theme.good(),
            Level::Error => theme.bad(),
        };
        // Wrapped onto as many rows as it needs (up to MAX_MESSAGE_ROWS): a message is never
        // cut, however narrow the terminal.
        frame.render_widget(
            Paragraph::new(Line::styled(text.as_str(), style)).wrap(Wrap { trim: true }),
            message,
        );
    }
    render_footer(app, frame, foot, theme);
    if app.help {
        help::render(frame, area, app.help_scroll, app.scope(), theme);
    }
    if let Some(confirm) = app.confirm {
        render_confirm(frame, area, confirm, theme);
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small: need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}. Enlarge it, or q to quit.",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

fn fmt_duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s / 60) % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// The header up to the view tabs: the name, the run, its state and ETA.
fn header_prefix(app: &App, theme: Theme, width: u16) -> Vec<Span<'static>> {
    let mut spans = vec![Span::styled(
        " mnist-lab ",
        theme.title().add_modifier(Modifier::REVERSED),
    )];
    match (&app.run, app.screen) {
        (Some(run), Screen::Run) => {
            spans.push(Span::raw(format!(
                " {} · {}/{} done ",
                run.record.preset,
                run.done_count(),
                run.record.units.len()
            )));
            if let Some(u) = &run.record.until {
                // Seeds until decided: which round, and how far it may go; shorter, or
                // left out, where the view tabs would not fit beside it.
                let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + 45;
                let long = format!("· round {} (≤ {} seeds) ", run.record.round(), u.max);
                let short = format!("· round {} ", run.record.round());
                let room = (width as usize).saturating_sub(used);
                if long.chars().count() <= room {
                    spans.push(Span::raw(long));
                } else if short.chars().count() <= room {
                    spans.push(Span::raw(short));
                }
            }
            let state = if let Some(n) = run.watching.filter(|_| !run.finished) {
                Span::styled(
                    format!(" watching ({n} writer{}) ", if n == 1 { "" } else { "s" }),
                    theme.good(),
                )
            } else if run.paused {
                Span::styled(" PAUSED ", theme.warn().add_modifier(Modifier::REVERSED))
            } else if run.finished && run.cancelled {
                Span::styled(" CANCELLED ", theme.bad())
            } else if run.finished {
                Span::styled(" DONE ", theme.good())
            } else {
                Span::styled(" TRAINING ", theme.good())
            };
            spans.push(state);
            if let Some(eta) = run.eta_total().filter(|_| !run.finished) {
                spans.push(Span::raw(format!(" ETA {} ", fmt_duration(eta))));
            }
            spans.push(Span::raw(" │ "));
        }
        _ => spans.push(Span::raw(" pick a preset ")),
    }
    spans
}

/// The view tabs of the header: each view, its text, and its first column. Every tab named
/// when they fit; otherwise the keys, with the current view named, so no label is cut
/// mid-word on a narrow terminal.
fn header_tabs(app: &App, width: u16, prefix: usize) -> Vec<(View, &'static str, u16)> {
    if app.screen != Screen::Run || app.run.is_none() {
        return Vec::new();
    }
    let full: usize = View::all().map(|v| v.label().len() + 1).sum();
    let fits = prefix + full <= width as usize;
    let mut x = prefix;
    View::all()
        .map(|v| {
            let label = v.label();
            let text = if fits || v == app.view {
                label
            } else {
                &label[..1]
            };
            let at = x as u16;
            x += text.chars().count() + 1;
            (v, text, at)
        })
        .collect()
}

/// The view whose header tab is at `column` of a `width`-wide terminal.
pub fn tab_at(app: &App, width: u16, column: u16) -> Option<View> {
    let theme = Theme { color: false };
    let prefix: usize = header_prefix(app, theme, width)
        .iter()
        .map(|s| s.width())
        .sum();
    header_tabs(app, width, prefix)
        .into_iter()
        .find(|(_, text, at)| column >= *at && column < at + text.chars().count() as u16)
        .map(|(v, ..)| v)
}

/// The body of the screen: between the header and the message and footer lines.
pub fn body_area(app: &App, width: u16, height: u16) -> Rect {
    Rect {
        x: 0,
        y: 1,
        width,
        height: height.saturating_sub(2 + message_rows(app, width)),
    }
}

/// Most rows the message line may take.
const MAX_MESSAGE_ROWS: u16 = 3;

/// Rows the message needs at `width` columns (1 when there is none, so the body keeps still).
fn message_rows(app: &App, width: u16) -> u16 {
    let Some((_, text)) = &app.message else {
        return 1;
    };
    // Word wrapping may need a row more than the characters alone.
    let chars = text.chars().count() as u16;
    let w = width.max(1);
    let rows = chars.div_ceil(w) + u16::from(chars > w);
    rows.clamp(1, MAX_MESSAGE_ROWS)
}

/// The unit a click at (`m.column`, `m.row`) selects in the current view, if any: a grid
/// cell (a variant's first unit when repeated), an overlay legend line, a row of the live
/// view's list or of the table.
pub fn unit_at(app: &App, m: crate::tui::app::MouseInput) -> Option<usize> {
    let body = body_area(app, m.width, m.height);
    if m.width < MIN_WIDTH || m.height < MIN_HEIGHT || !body.contains((m.column, m.row).into()) {
        return None;
    }
    let (x, y) = (m.column, m.row);
    match app.view {
        View::Grid => grid::unit_at(app, body, x, y),
        View::Overlay => overlay::unit_at(app, body, x, y),
        View::Live => live::unit_at(app, body, x, y),
        View::Table => table::unit_at(app, body, x, y),
        _ => None,
    }
}

fn render_header(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let mut spans = header_prefix(app, theme, area.width);
    let prefix: usize = spans.iter().map(|s| s.width()).sum();
    for (v, text, _) in header_tabs(app, area.width, prefix) {
        let style = if v == app.view {
            theme.title().add_modifier(Modifier::UNDERLINED)
        } else {
            theme.dim()
        };
        spans.push(Span::styled(format!("{text} "), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let scope = app.scope();
    // Whole bindings only: those that do not fit are left out (all are in `?`), and the last
    // two (help, quit) are always kept.
    let items: Vec<(String, String)> = footer(scope)
        .into_iter()
        .map(|(k, l)| (format!(" {k}"), format!(" {l} ")))
        .collect();
    let width = |i: &(String, String)| i.0.chars().count() + i.1.chars().count();
    let reserved: usize = items.iter().rev().take(2).map(width).sum();
    let mut room = (area.width as usize).saturating_sub(reserved);
    let split = items.len().saturating_sub(2);
    let mut spans = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i < split {
            if width(item) > room {
                continue;
            }
            room -= width(item);
        }
        spans.push(Span::styled(item.0.clone(), theme.title()));
        spans.push(Span::styled(item.1.clone(), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

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

fn render_confirm(frame: &mut Frame, area: Rect, confirm: Confirm, theme: Theme) {
    let text = match confirm {
        Confirm::Quit => {
            "Quit while training? Finished variants are saved; the running one is lost."
        }
        Confirm::Cancel => "Cancel the rest of this preset? Finished variants are kept.",
    };
    let popup = centered(area, 50, 6);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" confirm ")
        .border_style(theme.warn());
    let body = vec![
        Line::raw(text),
        Line::raw(""),
        Line::styled("y yes   n no", theme.title()),
    ];
    frame.render_widget(
        Paragraph::new(body).wrap(Wrap { trim: true }).block(block),
        popup,
    );
}
