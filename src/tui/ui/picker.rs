//! The preset picker: every preset with its description, variants and estimated run time;
//! a preset that fails to load shows its error here.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::fit;
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
                        p.units.len(),
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
                "{} · estimated {} at ~{:.0} GFLOP/s",
                p.size_label(),
                fmt_duration(entry.estimate_seconds_for(app.sizes).unwrap_or(0.0)),
                crate::tui::app::ASSUMED_FLOPS / 1e9
            )));
            lines.push(Line::raw(""));
            for v in &p.units {
                lines.push(Line::raw(format!(
                    "{:<20} {:<18} {:<9} {:<5} {} ep",
                    v.name,
                    v.arch,
                    v.optimizer.label(),
                    v.placement.to_string(),
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
    // Cells in display order: started, done, best loss, best acc, time, data, preset.
    let rows_cells: Vec<([String; 7], Style)> = app
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
                let cells = [
                    started(&p.name()),
                    format!("{done}/{total}{}", if p.resumable() { " r" } else { "" }),
                    num(loss),
                    num(acc),
                    fmt_duration(seconds as f64),
                    data,
                    r.preset.clone(),
                ];
                (cells, style)
            }
            Err(_) => (
                [
                    format!("✗ {}", p.name()),
                    "unreadable".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
                theme.bad(),
            ),
        })
        .collect();
    let mut state = TableState::default().with_selected(app.selected_past());
    let filter = if app.picker.filtering {
        format!("filter: {}█", app.picker.filter)
    } else if !app.picker.filter.is_empty() {
        format!("filter: {} (/)", app.picker.filter)
    } else {
        "/ filters".to_string()
    };
    let room = area.width.saturating_sub(2);
    let title = if app.picker.all_past.is_empty() {
        fit::title(&["past runs (none yet)"], room)
    } else {
        let count = format!(
            "past runs {}/{}",
            app.picker.past.len(),
            app.picker.all_past.len()
        );
        let sort = format!("by {} (o)", app.picker.run_sort.label());
        // While typing, the filter matters more than the sort.
        if app.picker.filtering {
            fit::title(&[&count, &filter, &sort], room)
        } else {
            fit::title(&[&count, &sort, &filter], room)
        }
    };
    // Columns by rank; those that do not fit the panel are left out whole.
    let headers = [
        ("started", 0u8),
        ("done", 1),
        ("best loss", 2),
        ("best acc", 3),
        ("time", 4),
        ("data", 6),
        ("preset", 5),
    ];
    let cols: Vec<fit::Column> = headers
        .iter()
        .enumerate()
        .map(|(c, &(h, rank))| {
            fit::Column::new(
                h,
                rank,
                rows_cells.iter().map(|(r, _)| r[c].clone()).collect(),
            )
        })
        .collect();
    let (kept, widths) = fit::columns(&cols, room);
    let rows: Vec<Row> = rows_cells
        .iter()
        .enumerate()
        .map(|(r, (_, style))| {
            Row::new(kept.iter().map(|&c| cols[c].cells[r].clone())).style(*style)
        })
        .collect();
    let header = Row::new(kept.iter().map(|&c| cols[c].header.clone())).style(theme.title());
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

/// A run folder's name (`20261128-074605-paper-2019`) as its start, `2026-11-28 07:46`; other
/// names as they are.
fn started(name: &str) -> String {
    let b = name.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if digits(0..8) && b.get(8) == Some(&b'-') && digits(9..13) {
        format!(
            "{}-{}-{} {}:{}",
            &name[0..4],
            &name[4..6],
            &name[6..8],
            &name[9..11],
            &name[11..13]
        )
    } else {
        name.to_string()
    }
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
                "{} of {} units finished · best test accuracy {}",
                r.count(crate::runs::UnitStatus::Finished),
                r.units.len(),
                r.best_accuracy()
                    .map(|a| format!("{a:.4}"))
                    .unwrap_or_else(|| "-".into())
            )));
            if p.resumable() {
                lines.push(Line::styled("interrupted: r resumes it", theme.warn()));
            }
            lines.push(Line::raw(""));
            for v in &r.units {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{} ", super::status_symbol(v.status)),
                        theme.status(v.status),
                    ),
                    Span::raw(format!(
                        "{:<22} {}",
                        v.spec.name,
                        v.final_metrics()
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
