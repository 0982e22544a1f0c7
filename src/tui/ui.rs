//! The frame: header with the view tabs, the body (drawn by the view on screen), the
//! message and footer lines, and the popups. A pure function of `App`, returning where it
//! drew what a click can select.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Confirm, Level, Screen, View};
use super::hits::{Hits, Target};
use super::keys::footer;
use super::theme::Theme;
use super::views::{self, Ctx};
use super::widgets::{centered, fmt_duration, help};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole screen; returns where each selectable thing was drawn.
pub fn render(app: &App, frame: &mut Frame) -> Hits {
    let mut hits = Hits::default();
    let area = frame.area();
    let theme = app.theme();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return hits;
    }
    let [header, body, message, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(message_rows(app, area.width)),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, frame, header, theme, &mut hits);
    render_body(app, frame, body, &mut hits);
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
        help::render(
            frame,
            area,
            app.help_scroll,
            app.scope(),
            app.shown_view(),
            theme,
        );
    }
    if let Some(confirm) = &app.confirm {
        render_confirm(frame, area, confirm, theme);
    }
    if let Some(prompt) = &app.prompt {
        render_prompt(frame, area, &prompt.text, theme);
    }
    hits
}

/// The body: the picker, or the view on screen.
fn render_body(app: &App, frame: &mut Frame, body: Rect, hits: &mut Hits) {
    let theme = app.theme();
    let run = match (&app.run, app.screen) {
        (Some(run), Screen::Run) => run,
        _ => {
            let compared: Vec<&str> = app.compare.iter().map(|(n, _)| n.as_str()).collect();
            views::picker::render(&app.picker, app.sizes, theme, frame, body, &compared, hits);
            return;
        }
    };
    let ctx = Ctx {
        run,
        selected: app.selected.min(run.record.units.len().saturating_sub(1)),
        compare: &app.compare,
        charts: app.charts,
        theme,
    };
    match app.view {
        View::Live => views::live::render(&ctx, frame, body, hits),
        View::Grid => views::grid::render(&app.table, &ctx, frame, body, hits),
        View::Table => views::table::render(&app.table, &ctx, frame, body, hits),
        View::Factors => views::factors::render(&app.factors, &ctx, frame, body, hits),
        View::Digits => views::digits::render(app.digits.as_ref(), theme, frame, body, hits),
        View::Pairs => views::pairs::render(&app.pairs, &ctx, frame, body, hits),
        View::Overlay => views::overlay::render(&app.overlay, &ctx, frame, body, hits),
    }
}

/// The figure of `view` as it is drawn now (`E`), where the view draws charts.
pub fn figure(app: &App, view: View) -> Option<crate::export::figure::Figure> {
    let run = app.run.as_ref()?;
    let ctx = Ctx {
        run,
        selected: app.selected.min(run.record.units.len().saturating_sub(1)),
        compare: &app.compare,
        charts: app.charts,
        theme: app.theme(),
    };
    match view {
        View::Live => views::live::figure(&ctx),
        View::Grid => Some(views::grid::figure(&ctx)),
        View::Factors => views::factors::figure(&app.factors, &ctx),
        View::Overlay => Some(views::overlay::figure(&app.overlay, &ctx)),
        View::Table | View::Digits | View::Pairs => None,
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small: need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}. Enlarge it, or q to quit.",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

/// The header up to the view tabs: the name, the run, its state and ETA.
fn header_prefix(app: &App, theme: Theme, width: u16) -> Vec<Span<'static>> {
    let mut spans = vec![Span::styled(
        " mnist-lab ",
        theme.title().add_modifier(Modifier::REVERSED),
    )];
    match (&app.run, app.screen) {
        (Some(run), Screen::Run) => {
            let others = match run.ended_without_result() {
                0 => String::new(),
                n => format!("({n} skipped or failed) "),
            };
            // The engine where the view tabs, the state and an ETA leave room for it.
            let with_engine = format!(
                " {} · {} · {}/{} done {others}",
                run.record.preset,
                run.record.engine,
                run.done_count(),
                run.record.units.len()
            );
            let used = 11 + with_engine.chars().count() + 45 + 22;
            spans.push(Span::raw(if used <= width as usize {
                with_engine
            } else {
                format!(
                    " {} · {}/{} done {others}",
                    run.record.preset,
                    run.done_count(),
                    run.record.units.len()
                )
            }));
            // Another data set than the study's MNIST: its name, where the tabs leave room.
            if let Some(d) = run.record.data.as_ref().filter(|d| !d.is_mnist()) {
                let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + 45;
                let name = if d.name.is_empty() {
                    "other data"
                } else {
                    &d.name
                };
                let long = format!("· {name} ({}×{}, {} classes) ", d.rows, d.cols, d.classes);
                let short = format!("· {name} ");
                let room = (width as usize).saturating_sub(used);
                if long.chars().count() <= room {
                    spans.push(Span::styled(long, theme.warn()));
                } else if short.chars().count() <= room {
                    spans.push(Span::styled(short, theme.warn()));
                }
            }
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

fn render_header(app: &App, frame: &mut Frame, area: Rect, theme: Theme, hits: &mut Hits) {
    let mut spans = header_prefix(app, theme, area.width);
    let prefix: usize = spans.iter().map(|s| s.width()).sum();
    for (v, text, at) in header_tabs(app, area.width, prefix) {
        let w = text.chars().count() as u16;
        hits.add(
            Rect::new(area.x + at, area.y, w, 1).intersection(area),
            Target::Tab(v),
        );
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
    let view = app.shown_view();
    // Whole bindings only: those that do not fit are left out (all are in `?`), and the last
    // two (help, quit) are always kept.
    let items: Vec<(String, String)> = footer(scope, view)
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

fn render_confirm(frame: &mut Frame, area: Rect, confirm: &Confirm, theme: Theme) {
    let text = match confirm {
        Confirm::Quit => {
            "Quit while training? Finished variants are saved; the running one is lost.".into()
        }
        Confirm::Cancel => "Cancel the rest of this preset? Finished variants are kept.".into(),
        Confirm::Delete(dir, name) => format!(
            "Delete the run {name} ({})? Its folder and everything in it go.",
            dir.display()
        ),
    };
    let wrapped = crate::tui::widgets::fit::wrap(&text, 56);
    let popup = centered(area, 60, wrapped.len() as u16 + 4);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" confirm ")
        .border_style(theme.warn());
    let mut body: Vec<Line> = wrapped.into_iter().map(Line::raw).collect();
    body.push(Line::raw(""));
    body.push(Line::styled("y yes   n no", theme.title()));
    frame.render_widget(Paragraph::new(body).block(block), popup);
}

/// The line a past run's name is typed into.
fn render_prompt(frame: &mut Frame, area: Rect, text: &str, theme: Theme) {
    let popup = centered(area, 70, 3);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" name this run · enter keeps · esc drops · empty removes ")
        .border_style(theme.warn());
    frame.render_widget(Paragraph::new(format!("{text}█")).block(block), popup);
}
