//! The preset picker: every preset with its description, variants and estimated run time;
//! a preset that fails to load shows its error here.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{fmt_duration, Theme};
use crate::tui::app::App;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    // The lists take half a narrow terminal, so that preset estimates and the runs table's
    // main columns fit whole at 80 columns.
    let share = if area.width < 120 { 50 } else { 40 };
    let [lists_area, detail_area] =
        Layout::horizontal([Constraint::Percentage(share), Constraint::Fill(1)]).areas(area);
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

/// The runs table: every past run with its preset, finished units of all, best final test
/// loss and accuracy, training time and data set; sorted with `o`, filtered with `/`.
fn render_past(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let rows_cells: Vec<(Vec<String>, Style)> = app
        .picker
        .past
        .iter()
        .map(|p| match &p.record {
            Ok(r) => {
                let (done, total, loss, acc, seconds) = crate::tui::app::run_summary(r);
                let num = |v: Option<f32>| v.map(|v| format!("{v:.4}")).unwrap_or("-".into());
                let data = std::path::Path::new(&r.environment.data_dir)
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default();
                let style = if p.resumable() {
                    theme.warn()
                } else {
                    Style::new()
                };
                let cells = vec![
                    p.name().chars().take(15).collect::<String>(),
                    r.preset.clone(),
                    format!("{done}/{total}{}", if p.resumable() { " r" } else { "" }),
                    num(loss),
                    num(acc),
                    fmt_duration(seconds as f64),
                    data,
                ];
                (cells, style)
            }
            Err(_) => (vec![format!("✗ {}", p.name())], theme.bad()),
        })
        .collect();
    let mut state = TableState::default().with_selected(app.selected_past());
    let filter = if app.picker.filtering {
        format!(" · filter: {}█ ", app.picker.filter)
    } else if !app.picker.filter.is_empty() {
        format!(" · filter: {} (/) ", app.picker.filter)
    } else {
        " · / filters ".to_string()
    };
    let title = if app.picker.all_past.is_empty() {
        " past runs (none yet) ".to_string()
    } else {
        format!(
            " past runs {}/{} · by {} (o){filter}",
            app.picker.past.len(),
            app.picker.all_past.len(),
            app.picker.run_sort.label()
        )
    };
    // Columns by priority; those that do not fit the panel are left out whole.
    let all = [
        ("run", Constraint::Length(15)),
        ("done", Constraint::Length(7)),
        ("best loss", Constraint::Length(9)),
        ("best acc", Constraint::Length(8)),
        ("time", Constraint::Length(8)),
        ("data", Constraint::Length(8)),
        ("preset", Constraint::Fill(1)),
    ];
    let needs = [15u16, 7, 9, 8, 8, 8, 12];
    let room = area.width.saturating_sub(2);
    let mut used = 0u16;
    let keep: Vec<bool> = needs
        .iter()
        .map(|w| {
            let fits = used + w <= room;
            if fits {
                used += w + 1;
            }
            fits
        })
        .collect();
    let order = [0usize, 2, 3, 4, 5, 6, 1]; // row cells: run, preset, done, loss, acc, time, data
    let pick = |cells: Vec<String>| -> Vec<String> {
        (0..all.len())
            .filter(|&c| keep[c])
            .map(|c| cells.get(order[c]).cloned().unwrap_or_default())
            .collect()
    };
    let rows: Vec<Row> = rows_cells
        .into_iter()
        .map(|(cells, style)| Row::new(pick(cells)).style(style))
        .collect();
    let header = Row::new(
        all.iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|((name, _), _)| *name),
    )
    .style(theme.title());
    let widths: Vec<Constraint> = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((_, c), _)| *c)
        .collect();
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered().title(title))
            .row_highlight_style(theme.selected())
            .column_spacing(1),
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
