//! Pairwise view: the selected variant against another (`[`/`]` picks it), as the difference
//! of their means with its 95% CI and p (paired over the seeds they share, Welch's where they
//! share none), and against every other variant below: one family, Holm-adjusted.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::{computing, done, Ctx, Reply};
use crate::insight::stats::{self, VariantStats};
use crate::spec::Metric;
use crate::tui::hits::Hits;
use crate::tui::keys::Action;
use crate::tui::state::RunView;
use crate::tui::widgets::fit;

/// The pairwise view: the variant the selected one is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairsView {
    /// The variant (index among the run's variants, not units) compared with the selected one.
    pub other: usize,
}

impl PairsView {
    /// `[` and `]` pick B among the variants.
    pub fn on_action(&mut self, action: Action, run: Option<&RunView>) -> Reply {
        let step_back = match action {
            Action::Less => true,
            Action::More => false,
            _ => return None,
        };
        let groups = run.map_or(0, |r| stats::variant_groups(&r.record).len());
        if groups > 0 {
            let step = if step_back { groups - 1 } else { 1 };
            self.other = (self.other.min(groups - 1) + step) % groups;
        }
        done()
    }
}

/// The selected variant (A) and the one it is compared with (B), as indices into `vs`.
pub fn chosen(view: &PairsView, ctx: &Ctx, vs: &[VariantStats]) -> Option<(usize, usize)> {
    let name = ctx.selected_variant()?;
    let a = vs.iter().position(|v| v.name == name)?;
    if vs.len() < 2 {
        return None;
    }
    let mut b = view.other.min(vs.len() - 1);
    if b == a {
        b = (a + 1) % vs.len();
    }
    Some((a, b))
}

fn sentence(a: &VariantStats, b: &VariantStats, metric: Metric) -> String {
    if a.group() == b.group() {
        return format!(
            "{}: A and B train the same networks, bit for bit at each seed: nothing to compare",
            metric.name()
        );
    }
    match stats::compare(&a.sample(metric), &b.sample(metric)) {
        Ok(t) => format!(
            "{}: {:+.4} (A − B), 95% CI [{:+.4}, {:+.4}], {} {}, {} → {}",
            metric.name(),
            t.diff,
            t.ci_low,
            t.ci_high,
            t.sample_text(),
            t.basis(stats::ALPHA),
            stats::format_p(t.p),
            if t.significant() {
                // One pair's raw p: not yet a verdict of the family (the list's Holm p is).
                "under 0.05 for this pair alone; the list below corrects for many".to_string()
            } else {
                stats::not_distinguishable(
                    &t,
                    stats::detectable_difference(t.sd_diff, t.pairs, stats::ALPHA),
                )
            }
        ),
        Err(e) => format!("{}: {}", metric.name(), e.sentence()),
    }
}

pub fn render(view: &PairsView, ctx: &Ctx, frame: &mut Frame, area: Rect, _hits: &mut Hits) {
    let theme = ctx.theme;
    let Some(vs) = ctx.run.fresh_stats().map(|s| &s.per_variant) else {
        return computing(frame, area, " pairs ");
    };
    let Some((a, b)) = chosen(view, ctx, vs) else {
        frame.render_widget(
            Paragraph::new("Pairs need at least two variants.")
                .block(Block::bordered().title(" pairs ")),
            area,
        );
        return;
    };
    let (va, vb) = (&vs[a], &vs[b]);
    let mut text = vec![
        Line::styled(format!("A  {} (↑↓)", va.name), theme.title()),
        Line::styled(format!("B  {} ([ ])", vb.name), theme.title()),
    ];
    // The sentences wrapped here, so the box is as tall as they are: a verdict cut at the
    // box's edge read "→ under" with its end hidden.
    let room = area.width.saturating_sub(2) as usize;
    for m in [Metric::TestLoss, Metric::TestAcc] {
        text.extend(
            fit::wrap(&sentence(va, vb, m), room)
                .into_iter()
                .map(Line::raw),
        );
    }
    // Borders included; the list below keeps at least 5 rows.
    let height = (text.len() as u16 + 2).min(area.height.saturating_sub(5).max(6));
    let [top, bottom] =
        Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(fit::title(
                &["A vs B", "paired over shared seeds"],
                top.width.saturating_sub(2),
            ))),
        top,
    );
    let family = stats::against_every_other(
        vs,
        a,
        Metric::TestLoss,
        stats::Adjustment::Holm,
        ctx.run.record.test,
    );
    let others: Vec<(usize, &VariantStats)> = family.iter().map(|(k, _)| (*k, &vs[*k])).collect();
    let tests: Vec<Option<stats::Comparison>> = family
        .iter()
        .map(|(_, c)| c.as_ref().ok().cloned())
        .collect();
    let m = tests.iter().flatten().count();
    let column =
        |header: &str,
         rank: u8,
         cell: &dyn Fn(&VariantStats, Option<&stats::Comparison>) -> String| {
            let cells = others
                .iter()
                .zip(&tests)
                .map(|((_, v), t)| cell(v, t.as_ref()))
                .collect();
            fit::Column::new(header, rank, cells)
        };
    let cols = [
        column("B", 0, &|v, _| v.name.clone()),
        column("n", 4, &|v, _| v.loss.n.to_string()),
        column("test loss", 5, &|v, _| {
            crate::report::estimate_text(&v.loss, 4)
        }),
        column("A − B", 1, &|_, t| {
            t.map_or("-".into(), |t| format!("{:+.4}", t.test.diff))
        }),
        column("95% CI", 3, &|_, t| {
            t.map_or("-".into(), |t| {
                format!("[{:+.4}, {:+.4}]", t.test.ci_low, t.test.ci_high)
            })
        }),
        column("test", 6, &|_, t| {
            t.map_or("-".into(), |t| t.test.sample_text())
        }),
        column("p", 4, &|_, t| {
            t.map_or("-".into(), |t| stats::format_p(t.test.p))
        }),
        column("p Holm", 2, &|_, t| {
            t.map_or("-".into(), |t| stats::format_p(t.p_adjusted))
        }),
        column("", 1, &|_, t| match t {
            Some(t) if t.real() => "real".into(),
            Some(t) if t.detectable.is_finite() => format!("< {:.4} unseen", t.detectable),
            Some(_) => "noise".into(),
            None => "untested".into(),
        }),
    ];
    let (kept, widths) = fit::columns(&cols, bottom.width.saturating_sub(2));
    let header = Row::new(kept.iter().map(|&c| cols[c].header_cell())).style(theme.title());
    let rows = others
        .iter()
        .zip(&tests)
        .enumerate()
        .map(|(r, ((k, _), t))| {
            let mut row = Row::new(kept.iter().map(|&c| cols[c].cell(r)));
            if *k == b {
                row = row.style(theme.selected());
            } else if t.as_ref().is_some_and(|t| t.real()) {
                row = row.style(theme.good());
            }
            row
        });
    let against = format!("{} against every variant (Holm over {m})", va.name);
    let title = fit::title(
        &[&against, "final test loss"],
        bottom.width.saturating_sub(2),
    );
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(Block::bordered().title(title)),
        bottom,
    );
}
