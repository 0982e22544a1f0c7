//! The preset picker: every preset with its description, variants and estimated run time;
//! a preset that fails to load shows its error here.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{done, Reply, Shared};
use crate::runs::RunRecord;
use crate::tui::hits::{Hits, Target};
use crate::tui::keys::Action;
use crate::tui::state::{DataSizes, Effect, PastEntry, PickerEntry, Rate};
use crate::tui::theme::{status_symbol, Theme};
use crate::tui::widgets::{fit, fmt_duration};

/// The picker: presets, past runs, and one selection over both (presets first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Picker {
    pub entries: Vec<PickerEntry>,
    /// The past runs shown: `all_past` filtered and sorted.
    pub past: Vec<PastEntry>,
    pub selected: usize,
    /// Every run in the store.
    pub all_past: Vec<PastEntry>,
    /// Runs whose name, preset or data set contain this (case-insensitive) are shown.
    pub filter: String,
    /// Typing goes into the filter (after `/`, until enter or esc).
    pub filtering: bool,
    pub run_sort: RunSort,
    /// This machine's CPU: estimates use the speed its past runs measured.
    pub cpu: Option<String>,
    /// The speed estimates use (from `all_past` on `cpu`, else assumed).
    pub rate: Rate,
    /// The engine chosen with `d` (or `--engine`) for the presets started here; None: each
    /// preset's own.
    pub engine: Option<crate::spec::Engine>,
}

/// How the picker orders past runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, strum::EnumIter, strum::IntoStaticStr)]
pub enum RunSort {
    #[default]
    #[strum(serialize = "newest")]
    Newest,
    #[strum(serialize = "best test loss")]
    BestLoss,
    #[strum(serialize = "best test accuracy")]
    BestAcc,
    #[strum(serialize = "preset")]
    Preset,
}

impl RunSort {
    pub fn next(self) -> Self {
        crate::spec::cycle(self)
    }

    pub fn label(self) -> &'static str {
        self.into()
    }
}

/// A past run's summary for the runs table: finished units, total, best final test loss and
/// accuracy over its finished units, and the seconds they trained.
pub fn run_summary(r: &RunRecord) -> (usize, usize, Option<f32>, Option<f32>, f32) {
    let finished: Vec<&crate::runs::UnitRecord> = r
        .units
        .iter()
        .filter(|v| v.status == crate::runs::UnitStatus::Finished)
        .collect();
    let last = |f: fn(&crate::spec::EpochMetrics) -> f32| {
        finished
            .iter()
            .filter_map(move |v| v.final_metrics().map(f))
    };
    let best_loss = last(|m| m.test_loss)
        .filter(|v| v.is_finite())
        .reduce(f32::min);
    let best_acc = last(|m| m.test_acc)
        .filter(|v| v.is_finite())
        .reduce(f32::max);
    // A unit's own seconds once it ended; an interrupted one's epochs (it has no total).
    let seconds = r
        .units
        .iter()
        .map(|v| {
            v.seconds
                .unwrap_or_else(|| v.history.iter().map(|m| m.seconds.max(0.0)).sum())
        })
        .sum();
    (finished.len(), r.units.len(), best_loss, best_acc, seconds)
}

/// What a run trained with, in a few words: its engine, epochs, seeds per variant and the
/// overrides it was started with ("fast 20ep ×3 --arch 1000-300").
pub fn key_settings(r: &RunRecord) -> String {
    let epochs = r.units.iter().map(|u| u.spec.epochs).max().unwrap_or(0);
    let seeds = crate::insight::stats::variant_groups(r)
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    let mut out = format!("{} {epochs}ep ×{seeds}", r.engine.label());
    for o in &r.overrides {
        out.push(' ');
        out.push_str(o);
    }
    out
}

impl Picker {
    /// The past run under the cursor, if the cursor is in that section.
    /// The engine a preset would train on if started now: the one chosen, else its own.
    pub fn engine_for(&self, p: &crate::preset::Preset) -> crate::spec::Engine {
        self.engine.unwrap_or(p.engine)
    }

    /// `d`: the selected preset trains on the other engine (a past run keeps its own).
    pub fn switch_engine(&mut self) {
        if let Some(Ok(p)) = self.entries.get(self.selected).map(|e| &e.preset) {
            self.engine = Some(self.engine_for(p).other());
        }
    }

    pub fn selected_past(&self) -> Option<usize> {
        self.selected
            .checked_sub(self.entries.len())
            .filter(|i| *i < self.past.len())
    }

    /// A key typed while filtering (after `/`): into the filter, enter keeps it, esc clears it.
    pub fn on_filter_key(&mut self, code: crossterm::event::KeyCode) {
        use crossterm::event::KeyCode;
        match code {
            KeyCode::Char(c) => self.filter.push(c),
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Enter => self.filtering = false,
            KeyCode::Esc => {
                self.filtering = false;
                self.filter.clear();
            }
            _ => {}
        }
        self.refresh_past();
    }

    /// The picker's keys: move, open or start, resume, compare, filter, sort.
    pub fn on_action(&mut self, action: Action, shared: &mut Shared) -> Reply {
        let n = self.entries.len() + self.past.len();
        if let Some(i) = self.selected_past() {
            match action {
                Action::Enter => return Some(self.open_past(i, shared)),
                Action::Resume => {
                    if shared.training {
                        shared.error("a preset is training: cancel it (c) first");
                    } else if self.past[i].resumable() {
                        return Some(vec![Effect::Resume(i)]);
                    } else {
                        shared.error(format!("{} has nothing left to train", self.past[i].name()));
                    }
                    return done();
                }
                Action::Compare => {
                    self.toggle_compare(i, shared);
                    return done();
                }
                _ => {}
            }
        }
        match action {
            Action::Filter => {
                self.filtering = true;
                shared.info("type to filter past runs · enter keeps it · esc clears it");
            }
            Action::Sort => {
                self.run_sort = self.run_sort.next();
                self.refresh_past();
            }
            Action::Up if n > 0 => self.selected = (self.selected + n - 1) % n,
            Action::Down if n > 0 => self.selected = (self.selected + 1) % n,
            Action::First | Action::Last | Action::PageUp | Action::PageDown if n > 0 => {
                self.selected = jump(action, self.selected, n)
            }
            Action::Compare => shared.compare.clear(),
            Action::Enter => match self.entries.get(self.selected) {
                Some(PickerEntry { preset: Ok(_), .. }) => {
                    return Some(vec![Effect::Start(self.selected)])
                }
                Some(PickerEntry {
                    preset: Err(e),
                    label,
                }) => shared.error(format!("cannot start {label}: {e}")),
                None => {}
            },
            _ => return None,
        }
        done()
    }

    /// A click on line `i`: selects it; a click on the selected line opens it.
    pub fn on_click(&mut self, i: usize, shared: &mut Shared) -> Vec<Effect> {
        if i == self.selected {
            return self.on_action(Action::Enter, shared).unwrap_or_default();
        }
        self.selected = i;
        Vec::new()
    }

    /// `b` adds the past run to the comparison, or takes it out again.
    fn toggle_compare(&mut self, i: usize, shared: &mut Shared) {
        let name = self.past[i].name();
        match &self.past[i].record {
            Ok(_) if shared.compare.iter().any(|(n, _)| *n == name) => {
                shared.compare.retain(|(n, _)| *n != name);
                shared.info(format!("{name} taken out of the comparison"));
            }
            Ok(r) => {
                shared.compare.push((name.clone(), r.clone()));
                shared.info(format!(
                    "{name} added: {} run(s) show beside the grid (2) and in the overlay (7)",
                    shared.compare.len()
                ));
            }
            Err(e) => shared.error(e.clone()),
        }
    }

    /// Opens past run `i` (the app shows it), unless a preset trains here.
    fn open_past(&mut self, i: usize, shared: &mut Shared) -> Vec<Effect> {
        if shared.training {
            shared.error("a preset is training: press b to compare this run beside it instead");
            return Vec::new();
        }
        match &self.past[i].record {
            Ok(_) => vec![Effect::OpenPast(i)],
            Err(e) => {
                shared.error(e.clone());
                Vec::new()
            }
        }
    }

    /// Takes the run store's contents: the speed estimates use is measured on them once here
    /// (not on every filter keystroke), then the list is filtered and sorted.
    pub fn set_past(&mut self, past: Vec<PastEntry>) {
        self.all_past = past;
        self.rate = Rate::measured(
            self.all_past.iter().filter_map(|p| p.record.as_ref().ok()),
            self.cpu.as_deref(),
        );
        self.refresh_past();
    }

    /// The runs shown: the store's, filtered and sorted; keeps the cursor in range.
    pub fn refresh_past(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut past: Vec<PastEntry> = self
            .all_past
            .iter()
            .filter(|p| {
                let mut text = p.name();
                if let Ok(r) = &p.record {
                    text.push(' ');
                    text.push_str(&r.preset);
                    text.push(' ');
                    text.push_str(&r.environment.data_dir);
                }
                text.to_lowercase().contains(&needle)
            })
            .cloned()
            .collect();
        let key = |p: &PastEntry| p.record.as_ref().ok().map(run_summary);
        match self.run_sort {
            // The store lists newest first.
            RunSort::Newest => {}
            RunSort::BestLoss => past.sort_by(|a, b| {
                let l = |p| key(p).and_then(|k| k.2).unwrap_or(f32::INFINITY);
                l(a).total_cmp(&l(b))
            }),
            RunSort::BestAcc => past.sort_by(|a, b| {
                let l = |p| key(p).and_then(|k| k.3).unwrap_or(f32::NEG_INFINITY);
                l(b).total_cmp(&l(a))
            }),
            RunSort::Preset => past.sort_by_key(|p| {
                p.record
                    .as_ref()
                    .map(|r| r.preset.clone())
                    .unwrap_or_default()
            }),
        }
        self.past = past;
        let n = self.entries.len() + self.past.len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }
}

/// Where Home, End, PgUp and PgDn take a selection at `at` of `n` (no wrapping: ten a page).
pub fn jump(action: Action, at: usize, n: usize) -> usize {
    const PAGE: usize = 10;
    match action {
        Action::First => 0,
        Action::Last => n.saturating_sub(1),
        Action::PageUp => at.saturating_sub(PAGE),
        Action::PageDown => (at + PAGE).min(n.saturating_sub(1)),
        _ => at,
    }
}

pub fn render(
    picker: &Picker,
    sizes: DataSizes,
    theme: Theme,
    frame: &mut Frame,
    area: Rect,
    compared: &[&str],
    hits: &mut Hits,
) {
    // The lists take half a narrow terminal, so that preset estimates and the runs table's
    // main columns fit whole at 80 columns.
    let share = if area.width < 120 { 50 } else { 40 };
    let [lists_area, detail_area] =
        Layout::horizontal([Constraint::Percentage(share), Constraint::Fill(1)]).areas(area);
    let [list_area, past_area] = Layout::vertical([
        Constraint::Length(picker.entries.len() as u16 + 2),
        Constraint::Fill(1),
    ])
    .areas(lists_area);
    render_past(picker, compared, frame, past_area, theme, hits);
    if let Some(i) = picker.selected_past() {
        render_past_detail(picker, frame, detail_area, i, theme);
    }
    let items: Vec<ListItem> = picker
        .entries
        .iter()
        .map(|e| match &e.preset {
            Ok(p) => ListItem::new(Line::from(vec![
                Span::raw(format!("{:<16}", p.name)),
                Span::styled(
                    format!(
                        " {:>4} units ≈{}",
                        p.units.len(),
                        fmt_duration(e.estimate_seconds_for(sizes, &picker.rate).unwrap_or(0.0))
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
    let selected = Some(picker.selected).filter(|i| *i < picker.entries.len());
    let mut state = ListState::default().with_selected(selected);
    frame.render_stateful_widget(
        List::new(items)
            .block(Block::bordered().title(" presets (enter starts) "))
            .highlight_style(theme.selected()),
        list_area,
        &mut state,
    );
    let (first, presets) = (state.offset(), picker.entries.len());
    hits.add_lines(Block::bordered().inner(list_area), |k| {
        Some(first + k).filter(|i| *i < presets).map(Target::Entry)
    });

    if picker.selected_past().is_some() {
        return;
    }
    let Some(entry) = picker.entries.get(picker.selected) else {
        frame.render_widget(
            Paragraph::new("No presets found.").block(Block::bordered()),
            detail_area,
        );
        return;
    };
    let block = Block::bordered().title(" preset ");
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    let mut lines = vec![Line::styled(entry.label.clone(), theme.dim())];
    let p = match &entry.preset {
        Ok(p) => p,
        Err(e) => {
            lines.push(Line::styled("This preset cannot be loaded:", theme.bad()));
            lines.push(Line::raw(e.clone()));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            return;
        }
    };
    let text_w = inner.width.max(1) as usize;
    lines.push(Line::styled(p.description.clone(), theme.title()));
    let estimate = format!(
        "{} · estimated {} {}",
        p.size_label(),
        crate::estimate::range_text(picker.rate.preset_range(p, sizes)),
        picker.rate.source()
    );
    lines.push(Line::raw(estimate));
    lines.push(Line::raw(match picker.engine_for(p) {
        crate::spec::Engine::Fast => "engine: fast (d: dfdx's compile-time networks)".to_string(),
        crate::spec::Engine::Dfdx => {
            "engine: dfdx, slower than this estimate, which is the fast path's (d: fast)"
                .to_string()
        }
    }));
    // Wrapped text above, the units as a table with headers below it.
    let text_rows: u16 = lines
        .iter()
        .map(|l| (l.width().max(1)).div_ceil(text_w) as u16)
        .sum::<u16>()
        + 1;
    let [text_area, table_area] =
        Layout::vertical([Constraint::Length(text_rows), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
    units_table(p, frame, table_area, theme);
}

/// A preset's units as a table with headers, cut to the rows that fit with "… N more".
fn units_table(p: &crate::preset::Preset, frame: &mut Frame, area: Rect, theme: Theme) {
    let rows_fit = area.height.saturating_sub(1) as usize;
    let n = p.units.len();
    let shown = if n > rows_fit {
        rows_fit.saturating_sub(1)
    } else {
        n
    };
    let units = &p.units[..shown];
    let col = |h: &str, rank: u8, f: &dyn Fn(&crate::spec::UnitSpec) -> String| {
        fit::Column::new(h, rank, units.iter().map(f).collect())
    };
    let cols = [
        col("unit", 0, &|v| v.name.clone()),
        col("arch", 1, &|v| v.arch.to_string()),
        col("optimizer", 2, &|v| v.optimizer.label()),
        col("BN+Dropout", 3, &|v| v.placement.to_string()),
        col("dropout", 5, &|v| format!("{:.2}", v.dropout)),
        col("epochs", 4, &|v| v.epochs.to_string()),
        col("seed", 6, &|v| v.seed.to_string()),
    ];
    let (kept, widths) = fit::columns(&cols, area.width);
    let header = Row::new(kept.iter().map(|&c| cols[c].header_cell())).style(theme.title());
    let rows: Vec<Row> = (0..shown)
        .map(|r| Row::new(kept.iter().map(|&c| cols[c].cell(r))))
        .collect();
    let [table_area, more_area] =
        Layout::vertical([Constraint::Length(shown as u16 + 1), Constraint::Length(1)]).areas(area);
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    if shown < n {
        // On a line of its own, so no column width cuts it.
        frame.render_widget(
            Paragraph::new(Line::styled(format!("… {} more", n - shown), theme.dim())),
            more_area,
        );
    }
}

/// The runs table: every past run with its preset, finished units of all, best final test
/// loss and accuracy, training time and data set; sorted with `o`, filtered with `/`.
fn render_past(
    picker: &Picker,
    compared: &[&str],
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    hits: &mut Hits,
) {
    // Cells in display order: started, done, best loss, best acc, time, data, preset, and the
    // key settings it trained with.
    let rows_cells: Vec<([String; 8], Style)> = picker
        .past
        .iter()
        .map(|p| match &p.record {
            Ok(r) => {
                let (done, total, loss, acc, seconds) = run_summary(r);
                let num = |v: Option<f32>| v.map(|v| format!("{v:.4}")).unwrap_or("-".into());
                // The data set's folder name, short: a long one would push the column out.
                let data = fit::ellipsis(
                    &std::path::Path::new(&r.environment.data_dir)
                        .file_name()
                        .map(|f| f.to_string_lossy().to_string())
                        .unwrap_or_default(),
                    12,
                );
                let style = if p.resumable() {
                    theme.warn()
                } else {
                    Style::new()
                };
                // ◆ marks a run in the comparison (b adds and removes it).
                let mark = if compared.contains(&p.name().as_str()) {
                    "◆ "
                } else {
                    ""
                };
                let cells = [
                    format!("{mark}{}", label_of(p)),
                    format!("{done}/{total}{}", if p.resumable() { " r" } else { "" }),
                    num(loss),
                    num(acc),
                    fmt_duration(seconds as f64),
                    data,
                    r.preset.clone(),
                    key_settings(r),
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
                    String::new(),
                ],
                theme.bad(),
            ),
        })
        .collect();
    let mut state = TableState::default().with_selected(picker.selected_past());
    let filter = if picker.filtering {
        format!("filter: {}█", picker.filter)
    } else if !picker.filter.is_empty() {
        format!("filter: {} (/)", picker.filter)
    } else {
        "/ filters".to_string()
    };
    let room = area.width.saturating_sub(2);
    let title = if picker.all_past.is_empty() {
        fit::title(&["past runs (none yet)"], room)
    } else {
        let count = format!("past runs {}/{}", picker.past.len(), picker.all_past.len());
        let sort = format!("by {} (o)", picker.run_sort.label());
        // While typing, the filter matters more than the sort.
        if picker.filtering {
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
        ("settings", 7),
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
        .map(|(r, (_, style))| Row::new(kept.iter().map(|&c| cols[c].cell(r))).style(*style))
        .collect();
    let header = Row::new(kept.iter().map(|&c| cols[c].header_cell())).style(theme.title());
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered().title(title))
            .row_highlight_style(theme.selected())
            .column_spacing(1),
        area,
        &mut state,
    );
    let (first, presets, shown) = (state.offset(), picker.entries.len(), picker.past.len());
    let inner = Block::bordered().inner(area);
    let rows = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    hits.add_lines(rows, |k| {
        Some(first + k)
            .filter(|i| *i < shown)
            .map(|i| Target::Entry(presets + i))
    });
}

/// What a run trained with, where overrides show: epochs, seeds per variant, and the images
/// (a subset, or all of them).
pub fn trained_with(r: &RunRecord) -> String {
    let span = |mut v: Vec<usize>| {
        v.sort_unstable();
        v.dedup();
        match (v.first(), v.last()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => "-".into(),
        }
    };
    let groups = crate::insight::stats::variant_groups(r);
    let epochs = span(r.units.iter().map(|u| u.spec.epochs).collect());
    let seeds = span(groups.iter().map(|g| g.len()).collect());
    let images = |f: fn(&crate::spec::UnitSpec) -> Option<usize>, what: &str| match span(
        r.units.iter().filter_map(|u| f(&u.spec)).collect(),
    )
    .as_str()
    {
        "-" => format!("all {what} images"),
        n => format!("{n} {what} images"),
    };
    let overrides = if r.overrides.is_empty() {
        String::new()
    } else {
        format!(" · started with {}", r.overrides.join(" "))
    };
    format!(
        "{} engine · epochs {epochs} · seeds {seeds} · {} · {}{overrides}",
        r.engine,
        images(|s| s.train_subset, "training"),
        images(|s| s.test_subset, "test")
    )
}

/// How a past run is called in the runs table: its name (`n` sets one), else when it started.
fn label_of(p: &PastEntry) -> String {
    match &p.title {
        Some(title) => title.clone(),
        None => started(&p.name()),
    }
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

fn render_past_detail(picker: &Picker, frame: &mut Frame, area: Rect, i: usize, theme: Theme) {
    let p = &picker.past[i];
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
            lines.push(Line::raw(trained_with(r)));
            if p.resumable() {
                lines.push(Line::styled("interrupted: r resumes it", theme.warn()));
            }
            lines.push(Line::raw(""));
            for v in &r.units {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{} ", status_symbol(v.status)),
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
