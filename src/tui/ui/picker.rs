//! The preset picker: every preset with its description, variants and estimated run time;
//! a preset that fails to load shows its error here.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use super::{fmt_duration, Theme};
use crate::tui::app::App;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let [list_area, detail_area] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Fill(1)]).areas(area);
    let items: Vec<ListItem> = app
        .picker
        .iter()
        .map(|e| match &e.preset {
            Ok(p) => ListItem::new(Line::from(vec![
                Span::raw(format!("{:<16}", p.name)),
                Span::styled(
                    format!(
                        " {:>3} var ≈{}",
                        p.variants.len(),
                        fmt_duration(e.estimate_seconds().unwrap_or(0.0))
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
    let mut state = ListState::default().with_selected(Some(app.picker_selected));
    frame.render_stateful_widget(
        List::new(items)
            .block(Block::bordered().title(" presets (enter starts) "))
            .highlight_style(theme.selected()),
        list_area,
        &mut state,
    );

    let Some(entry) = app.picker.get(app.picker_selected) else {
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
                "{} variants · estimated {} at ~45 GFLOP/s",
                p.variants.len(),
                fmt_duration(entry.estimate_seconds().unwrap_or(0.0))
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
