//! The preset picker: every preset with its description, variants and estimated run time;
//! a preset that fails to load shows its error here.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use super::{fmt_duration, Theme};
use crate::tui::app::App;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let [lists_area, detail_area] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Fill(1)]).areas(area);
    let [list_area, past_area] = Layout::vertical([
        Constraint::Length(app.picker.entries.len() as u16 + 2),
        Constraint::Fill(1),
    ])
    .areas(lists_area);
    render_past(app, frame, past_area, theme);
    if let Some(i) = app.selected_past() {
        render_past_detail(app, frame, detail_area, i, theme);
    }
    let items: Vec<ListItem> = app
        .picker
        .entries
        .iter()
        .map(|e| match &e.preset {
            Ok(p) => ListItem::new(Line::from(vec![
                Span::raw(format!("{:<16}", p.name)),
                Span::styled(
                    format!(
                        " {:>4} units ≈{}",
                        p.variants.len(),
                        fmt_duration(e.estimate_seconds_for(app.sizes).unwrap_or(0.0))
                    ),
                    theme.dim(),
                ),
            ])),
            Err(_) => ListItem::new(Line::from(vec![
                Span::styled("✗ ", theme.bad()),
                Span::raw(e.label.rsplit('/').next().unwrap_or(&e.label).to_string()),
            ])),
        })
        .collect();
    let selected = Some(app.picker.selected).filter(|i| *i < app.picker.entries.len());
    let mut state = ListState::default().with_selected(selected);
    frame.render_stateful_widget(
        List::new(items)
            .block(Block::bordered().title(" presets (enter starts) "))
            .highlight_style(theme.selected()),
        list_area,
        &mut state,
    );

    if app.selected_past().is_some() {
        return;
    }
    let Some(entry) = app.picker.entries.get(app.picker.selected) else {
        frame.render_widget(
            Paragraph::new("No presets found.").block(Block::bordered()),
            detail_area,
        );
        return;
    };
    let mut lines = vec![Line::styled(entry.label.clone(), theme.dim())];
    match &entry.preset {
        Ok(p) => {
            lines.push(Line::styled(p.description.clone(), theme.title()));
            lines.push(Line::raw(format!(
                "{} · estimated {} at ~110 GFLOP/s",
                p.size_label(),
                fmt_duration(entry.estimate_seconds_for(app.sizes).unwrap_or(0.0))
            )));
            lines.push(Line::raw(""));
            for v in &p.variants {
                lines.push(Line::raw(format!(
                    "{:<20} {:<18} {:<9} {:<5} {} ep",
                    v.name,
                    v.arch,
                    v.optimizer.label(),
                    format!("{:?}", v.placement),
                    v.epochs
                )));
            }
        }
        Err(e) => {
            lines.push(Line::styled("This preset cannot be loaded:", theme.bad()));
            lines.push(Line::raw(e.clone()));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" preset ")),
        detail_area,
    );
}

fn render_past(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let items: Vec<ListItem> = app
        .picker
        .past
        .iter()
        .map(|p| match &p.record {
            Ok(r) => ListItem::new(Line::from(vec![
                Span::raw(format!("{:<30}", p.name())),
                Span::styled(
                    format!(
                        " {}/{}{}",
                        r.count(crate::spec::VariantStatus::Finished),
                        r.variants.len(),
                        if p.resumable() { " r" } else { "" }
                    ),
                    if p.resumable() {
                        theme.warn()
                    } else {
                        theme.dim()
                    },
                ),
            ])),
            Err(_) => ListItem::new(Line::from(vec![
                Span::styled("✗ ", theme.bad()),
                Span::raw(p.name()),
            ])),
        })
        .collect();
    let mut state = ListState::default().with_selected(app.selected_past());
    let title = if app.picker.past.is_empty() {
        " past runs (none yet) "
    } else {
        " past runs (enter opens, r resumes, b compares) "
    };
    frame.render_stateful_widget(
        List::new(items)
            .block(Block::bordered().title(title))
            .highlight_style(theme.selected()),
        area,
        &mut state,
    );
}

fn render_past_detail(app: &App, frame: &mut Frame, area: Rect, i: usize, theme: Theme) {
    let p = &app.picker.past[i];
    let mut lines = vec![Line::styled(p.dir.display().to_string(), theme.dim())];
    match &p.record {
        Ok(r) => {
            lines.push(Line::styled(
                format!("{} · {}", r.preset, r.description),
                theme.title(),
            ));
            lines.push(Line::raw(format!(
                "{} of {} variants finished · best test accuracy {}",
                r.count(crate::runs::VariantStatus::Finished),
                r.variants.len(),
                r.best_accuracy()
                    .map(|a| format!("{a:.4}"))
                    .unwrap_or_else(|| "-".into())
            )));
            if p.resumable() {
                lines.push(Line::styled("interrupted: r resumes it", theme.warn()));
            }
            lines.push(Line::raw(""));
            for v in &r.variants {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{} ", super::status_symbol(v.status)),
                        theme.status(v.status),
                    ),
                    Span::raw(format!(
                        "{:<22} {}",
                        v.spec.name,
                        v.last()
                            .map(|m| format!("loss {:.4} acc {:.4}", m.test_loss, m.test_acc))
                            .unwrap_or_default()
                    )),
                ]));
            }
        }
        Err(e) => {
            lines.push(Line::styled("This run cannot be read:", theme.bad()));
            lines.push(Line::raw(e.clone()));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" past run ")),
        area,
    );
}
