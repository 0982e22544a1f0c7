//! The study's table: one row per variant, ours beside the study's numbers, best loss marked.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use super::{done, Ctx, Reply};
use crate::report;
use crate::runs::RunRecord;
use crate::tui::hits::{Hits, Target};
use crate::tui::keys::Action;
use crate::tui::widgets::fit;

/// The table view: its sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableView {
    pub sort: SortKey,
}

impl Default for TableView {
    fn default() -> Self {
        TableView {
            sort: SortKey::Order,
        }
    }
}

impl TableView {
    /// `o` cycles the sort; the rest is the app's.
    pub fn on_action(&mut self, action: Action) -> Reply {
        if action != Action::Sort {
            return None;
        }
        self.sort = self.sort.next();
        done()
    }

    /// Unit indices in the current sort order.
    pub fn sorted_indices(&self, record: &RunRecord) -> Vec<usize> {
        let vs = &record.units;
        let mut idx: Vec<usize> = (0..vs.len()).collect();
        match self.sort {
            SortKey::Order => {}
            SortKey::By(metric) => {
                // Better first; units without the value (not finished, not recorded) last.
                let sign = if metric.lower_is_better() { 1.0 } else { -1.0 };
                let key = |i: &usize| {
                    vs[*i]
                        .final_metrics()
                        .and_then(|m| metric.of(m))
                        .filter(|x| x.is_finite())
                        .map_or(f64::INFINITY, |x| sign * x)
                };
                idx.sort_by(|a, b| key(a).total_cmp(&key(b)));
            }
            SortKey::Name => idx.sort_by(|a, b| vs[*a].spec.name.cmp(&vs[*b].spec.name)),
        }
        idx
    }
}

/// The table's order: as trained, by a metric of each unit's kept epoch (better first), or
/// by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Order,
    By(crate::spec::Metric),
    Name,
}

impl SortKey {
    /// Order, then every result metric (the learning rate is a setting), then name.
    fn next(self) -> Self {
        use crate::spec::Metric;
        let results = || Metric::all().filter(|m| m.is_result());
        match self {
            SortKey::Order => results().next().map_or(SortKey::Name, SortKey::By),
            SortKey::By(m) => results()
                .skip_while(|x| *x != m)
                .nth(1)
                .map_or(SortKey::Name, SortKey::By),
            SortKey::Name => SortKey::Order,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Order => "preset order",
            SortKey::By(m) => m.name(),
            SortKey::Name => "name",
        }
    }
}

pub fn render(view: &TableView, ctx: &Ctx, frame: &mut Frame, area: Rect, hits: &mut Hits) {
    render_table(view, ctx, frame, area, hits);
}

/// Draws the table in `area` (used by the table view and beside the grid).
pub fn render_table(view: &TableView, ctx: &Ctx, frame: &mut Frame, area: Rect, hits: &mut Hits) {
    let (run, theme) = (ctx.run, ctx.theme);
    if report::has_repeats(&run.record) {
        render_variant_table(ctx, frame, area, hits);
        return;
    }
    let all_rows = report::rows(&run.record);
    let best = ctx.best_unit();
    let order = view.sorted_indices(&run.record);
    // Columns in the study's order, ranked by what a narrow terminal keeps first.
    let ranks = [0u8, 8, 1, 2, 5, 9, 7, 10, 6, 3, 4];
    let cols: Vec<fit::Column> = ranks
        .iter()
        .enumerate()
        .map(|(c, &rank)| {
            let cells = order.iter().map(|&i| all_rows[i][c].clone()).collect();
            fit::Column::new(report::HEADERS[c], rank, cells)
        })
        .collect();
    let (kept, widths) = fit::columns(&cols, area.width.saturating_sub(2));
    let header = Row::new(kept.iter().map(|&c| cols[c].header_cell())).style(theme.title());
    let rows = order.iter().enumerate().map(|(r, &i)| {
        let mut row = Row::new(kept.iter().map(|&c| cols[c].cell(r)));
        if Some(i) == best {
            row = row.style(theme.good());
        }
        row
    });
    let selected_row = order.iter().position(|&i| i == ctx.selected);
    let sorted = format!("sorted by {} (o)", view.sort.label());
    let hidden = if kept.len() < cols.len() {
        "widen for more columns"
    } else {
        ""
    };
    let parts: Vec<&str> = [
        "the study's table",
        &sorted,
        hidden,
        "best test loss in bold",
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect();
    let title = Line::from(fit::title(&parts, area.width.saturating_sub(2)));
    let table = Table::new(rows, widths).header(header);
    let unit_of = |r: usize| order.get(r).copied();
    draw_selectable(
        frame,
        area,
        table,
        title,
        theme,
        selected_row,
        hits,
        unit_of,
    );
}

/// Draws a bordered table with `selected` highlighted; each visible row selects
/// `unit_of(row)` (a table scrolls as ratatui's does, just far enough to show the selection).
#[allow(clippy::too_many_arguments)]
fn draw_selectable(
    frame: &mut Frame,
    area: Rect,
    table: Table,
    title: Line,
    theme: crate::tui::theme::Theme,
    selected: Option<usize>,
    hits: &mut Hits,
    unit_of: impl Fn(usize) -> Option<usize>,
) {
    let table = table
        .block(Block::bordered().title(title))
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut state);
    row_hits(hits, area, state.offset(), unit_of);
}

/// Each visible row of a bordered table with a header line selects `unit_of(row)`.
fn row_hits(hits: &mut Hits, area: Rect, first: usize, unit_of: impl Fn(usize) -> Option<usize>) {
    let inner = Block::bordered().inner(area);
    let rows = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    hits.add_lines(rows, |k| unit_of(first + k).map(Target::Unit));
}

/// With seeds: one row per variant, n and mean ± sd with the 95% CI of the final test loss
/// and accuracy; ★ marks the variants that cannot be told apart from the best.
fn render_variant_table(ctx: &Ctx, frame: &mut Frame, area: Rect, hits: &mut Hits) {
    use crate::insight::stats;
    let (record, theme) = (&ctx.run.record, ctx.theme);
    let Some(stats) = ctx.run.fresh_stats() else {
        return super::computing(frame, area, " the study's table ");
    };
    let (vs, best) = (&stats.per_variant, &stats.best);
    let in_best = |name: &str| best.as_ref().is_some_and(|b| b.contains(name));
    let selected_name = record
        .units
        .get(ctx.selected)
        .map(|v| v.spec.variant_name());
    let ci = |e: &stats::Estimate| {
        if e.n >= 2 {
            format!("[{:.4}, {:.4}]", e.ci_low, e.ci_high)
        } else {
            "-".into()
        }
    };
    let pm = |e: &stats::Estimate| match e.n {
        0 => "-".to_string(),
        1 => format!("{:.4}", e.mean),
        _ if e.sd == 0.0 => format!("{:.4} (no spread)", e.mean),
        _ => format!("{:.4} ± {:.4}", e.mean, e.sd),
    };
    // The best epoch is chosen on the validation images, or on the test set itself when no
    // images were held out: the header says which.
    let on_test = record
        .units
        .iter()
        .all(|v| v.spec.validation == crate::spec::Validation::Test);
    let names = [
        ("variant", 0u8),
        ("n", 2),
        ("test loss", 1),
        ("95% CI", 3),
        ("test acc", 4),
        ("95% CI", 8),
        (
            if on_test {
                "best-test-epoch loss"
            } else {
                "best-epoch loss"
            },
            7,
        ),
        ("study loss", 5),
        ("study acc", 6),
    ];
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for v in vs {
        let [study_loss, study_acc] = report::reference_cells(v.reference);
        let mark = if in_best(&v.name) { "★ " } else { "" };
        let row = [
            match &v.alias_of {
                Some(a) => format!("{mark}{} (= {a})", v.name),
                None => format!("{mark}{}", v.name),
            },
            if v.failed.is_empty() {
                format!("{}/{}", v.loss.n, v.units)
            } else {
                format!("{}/{} ({} failed)", v.loss.n, v.units, v.failed.len())
            },
            pm(&v.loss),
            ci(&v.loss),
            pm(&v.acc),
            ci(&v.acc),
            pm(&v.best_epoch_loss),
            study_loss,
            study_acc,
        ];
        for (c, cell) in row.into_iter().enumerate() {
            cells[c].push(cell);
        }
    }
    let cols: Vec<fit::Column> = names
        .iter()
        .zip(cells)
        .map(|(&(h, rank), cells)| fit::Column::new(h, rank, cells))
        .collect();
    let (kept, widths) = fit::columns(&cols, area.width.saturating_sub(2));
    let header = Row::new(kept.iter().map(|&c| cols[c].header_cell())).style(theme.title());
    let rows = vs.iter().enumerate().map(|(r, v)| {
        let row = Row::new(kept.iter().map(|&c| cols[c].cell(r)));
        if in_best(&v.name) {
            row.style(theme.good())
        } else {
            row
        }
    });
    let verdict = best
        .as_ref()
        .map(|b| b.sentence())
        .unwrap_or_else(|| "no finished units yet".into());
    // The verdict is a sentence with numbers a reader needs whole (the adjusted p at its
    // end): it is wrapped above the table, never cut in a border's title.
    let verdict_lines = fit::wrap(&verdict, area.width.saturating_sub(2) as usize);
    let verdict_h = (verdict_lines.len() as u16).min(area.height.saturating_sub(4) / 2);
    let [verdict_area, area] =
        Layout::vertical([Constraint::Length(verdict_h), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(
            verdict_lines
                .into_iter()
                .map(|l| Line::styled(format!(" {l}"), theme.good()))
                .collect::<Vec<_>>(),
        ),
        verdict_area,
    );
    let title = Line::from(fit::title(
        &["the study's table", "over seeds: mean ± sd, 95% CI"],
        area.width.saturating_sub(2),
    ));
    let selected_row = vs
        .iter()
        .position(|v| Some(v.name.as_str()) == selected_name);
    // A variant's row selects its first unit.
    let first_unit = |r: usize| {
        let name = &vs.get(r)?.name;
        record
            .units
            .iter()
            .position(|u| u.spec.variant_name() == name)
    };
    let table = Table::new(rows, widths).header(header);
    draw_selectable(
        frame,
        area,
        table,
        title,
        theme,
        selected_row,
        hits,
        first_unit,
    );
}
