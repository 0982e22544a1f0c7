//! Live view: variant list with status and progress, the selected variant's charts and numbers.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, List, ListItem, ListState, Paragraph};
use ratatui::Frame;

use super::{done, Ctx, Reply};
use crate::runs::UnitStatus;
use crate::tui::hits::{Hits, Target};
use crate::tui::keys::Action;
use crate::tui::state::unit_fraction;
use crate::tui::state::ChartOptions;
use crate::tui::theme::{badges, status_symbol};
use crate::tui::widgets::chart::{accuracy_series, chart, loss_series_with, Extras};
use crate::tui::widgets::{fit, fmt_duration};

/// The live view's own keys: `t` smooths the batch loss, `+`/`-` set the early-stop marker's
/// patience.
pub fn on_action(action: Action, charts: &mut ChartOptions, epochs: usize) -> Reply {
    match action {
        // `←`/`→`: the epoch cursor over the selected unit's epochs.
        Action::Left | Action::Right => charts.move_cursor(action == Action::Left, epochs),
        Action::Smooth => charts.smooth = !charts.smooth,
        // `[`/`]`: the batch EMA's weight, as in the overlay.
        Action::Less | Action::More => {
            let step = if action == Action::More { 0.05 } else { -0.05 };
            charts.batch_weight = ((charts.batch_weight + step) * 100.0).round() / 100.0;
            charts.batch_weight = charts.batch_weight.clamp(0.0, 0.99);
            charts.smooth = true;
        }
        Action::PatienceUp | Action::PatienceDown => patience(action, charts),
        Action::EpochLog => {
            charts.epoch_log = match charts.epoch_log {
                Some(_) => None,
                None => Some(0),
            }
        }
        // While the log shows, PgUp/PgDn scroll it (ten lines) instead of the list.
        Action::PageUp | Action::PageDown if charts.epoch_log.is_some() => {
            let back = charts.epoch_log.unwrap_or(0);
            charts.epoch_log = Some(if action == Action::PageUp {
                (back + 10).min(epochs.saturating_sub(1))
            } else {
                back.saturating_sub(10)
            });
        }
        _ => return None,
    }
    done()
}

/// `+`/`-`: the early-stop marker's patience, 1 to 99 epochs.
pub fn patience(action: Action, charts: &mut ChartOptions) {
    charts.patience = if action == Action::PatienceUp {
        (charts.patience + 1).min(99)
    } else {
        charts.patience.saturating_sub(1).max(1)
    };
}

/// Columns inside the variant list's borders (the list is 34 wide).
const LIST_INNER: usize = 32;

/// Width of the numbers panel, and the least width the accuracy chart beside it needs.
const NUMBERS_W: u16 = 36;
const ACC_MIN_W: u16 = 24;

pub fn render(ctx: &Ctx, frame: &mut Frame, area: Rect, hits: &mut Hits) {
    let (run, theme, selected) = (ctx.run, ctx.theme, ctx.selected);
    let [list_area, right] = Layout::horizontal([
        Constraint::Length(LIST_INNER as u16 + 2),
        Constraint::Fill(1),
    ])
    .areas(area);

    // Variant list: status symbol, name, and progress or final accuracy.
    let items: Vec<ListItem> = run
        .record
        .units
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let detail = match v.status {
                UnitStatus::Running => {
                    format!("{:>3.0}%", unit_fraction(v, run.progress[i]) * 100.0)
                }
                UnitStatus::Finished => v
                    .last()
                    .map(|m| format!("{:.4}", m.test_acc))
                    .unwrap_or_default(),
                status => status.label().into(),
            };
            // The name gives way to a longer state ("interrupted" was cut to "interru").
            let name_w = (LIST_INNER - 3).saturating_sub(fit::width(&detail)).min(22);
            let name = fit::ellipsis(&v.spec.name, name_w);
            ListItem::new(Line::from(vec![
                Span::styled(
                    format!("{} ", status_symbol(v.status)),
                    theme.status(v.status),
                ),
                Span::raw(format!("{name:<name_w$} ")),
                Span::styled(detail, theme.status(v.status)),
            ]))
        })
        .collect();
    let units = items.len();
    let mut state = ListState::default().with_selected(Some(selected));
    let list = List::new(items)
        .block(Block::bordered().title(" variants "))
        .highlight_style(theme.selected());
    frame.render_stateful_widget(list, list_area, &mut state);
    // The list scrolled just far enough to show the selection; each line selects its unit.
    let first = state.offset();
    hits.add_lines(Block::bordered().inner(list_area), |k| {
        Some(first + k).filter(|i| *i < units).map(Target::Unit)
    });

    let Some(v) = run.record.units.get(selected) else {
        return;
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(58), Constraint::Fill(1)]).areas(right);
    let mut loss = unit_loss(ctx, v);
    (loss.rows, loss.cols) = plot_size(top);
    if let Some(e) = ctx.charts.cursor {
        loss.cursor = vec![(e as f64, loss.y.0), (e as f64, loss.y.1)];
    }
    let badges = badges(v, theme);
    let badges_w: usize = badges.iter().map(|b| fit::width(&b.content)).sum();
    let loss_label = if ctx.charts.log_scale {
        "loss (log)"
    } else {
        "loss"
    };
    let patience = format!("early stop patience {} (+/-)", ctx.charts.patience);
    // Too small for the legend: its key goes in the title, before the less needed parts.
    let key = crate::tui::widgets::chart::title_key(&loss, theme);
    let key_w: usize = key.iter().map(|k| fit::width(&k.content)).sum();
    let room = top.width.saturating_sub(2 + badges_w as u16);
    // The name, "loss" where it fits, then the key.
    let heads = [
        fit::title(&[&v.spec.name, loss_label], room),
        fit::title(&[&v.spec.name], room),
    ];
    let head = heads
        .iter()
        .find(|h| fit::width(h.trim_end()) + 3 + key_w <= room as usize);
    let mut title = match head {
        Some(head) if !key.is_empty() => {
            let mut t = vec![Span::raw(head.trim_end().to_string()), Span::raw(" · ")];
            t.extend(key);
            t
        }
        _ => vec![Span::raw(fit::title(
            &[&v.spec.name, loss_label, &patience],
            room,
        ))],
    };
    title.extend(badges);
    frame.render_widget(
        chart(
            &loss,
            Block::bordered().title(Line::from(title)),
            theme,
            true,
        ),
        top,
    );
    crate::tui::widgets::chart::epoch_hits(
        hits,
        top,
        crate::tui::widgets::chart::x_range(&loss),
        crate::tui::widgets::chart::y_label_width(&loss),
        v.history.len(),
    );

    if let Some(back) = ctx.charts.epoch_log {
        render_log(v, back, theme, frame, bottom);
        return;
    }
    // The accuracy chart needs room for its axes; when narrow, the numbers (which hold the
    // accuracies) take the whole row and their title says where the chart went.
    let narrow = bottom.width < NUMBERS_W + ACC_MIN_W;
    let numbers_area = if narrow {
        bottom
    } else {
        let [acc_area, numbers_area] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(NUMBERS_W)]).areas(bottom);
        let mut acc = accuracy_series(v);
        (acc.rows, acc.cols) = plot_size(acc_area);
        frame.render_widget(
            chart(&acc, Block::bordered().title(" accuracy "), theme, true),
            acc_area,
        );
        numbers_area
    };

    // Numbers: epoch, last metrics, throughput, ETAs, the study's reference.
    let last = v.last();
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} ", status_symbol(v.status)),
            theme.status(v.status),
        ),
        Span::raw(format!("{} · {}", v.spec.arch, v.spec.optimizer.label())),
    ])];
    let p = run.progress[selected];
    let epoch_now = p.map(|p| p.epoch).unwrap_or(0).max(v.history.len());
    lines.push(Line::raw(format!("epoch {epoch_now}/{}", v.spec.epochs)));
    // The epoch cursor's readout, high in the panel (a small screen shows its first lines):
    // every curve of the chart at that epoch.
    if let Some(e) = ctx.charts.cursor {
        match v.history.iter().find(|m| m.epoch == e) {
            Some(m) => {
                let val = m.val_loss.map_or(String::new(), |l| format!(" val {l:.4}"));
                lines.push(Line::styled(
                    format!(
                        "▏epoch {e}: train {:.4} test {:.4}{val}",
                        m.train_loss, m.test_loss
                    ),
                    theme.title(),
                ));
            }
            None => lines.push(Line::styled(
                format!("▏epoch {e}: not reached"),
                theme.dim(),
            )),
        }
    }
    if let Some(m) = last {
        lines.push(Line::styled(
            format!("train loss {:.4} acc {:.4}", m.train_loss, m.train_acc),
            theme.train(),
        ));
        if let (Some(l), Some(a)) = (m.val_loss, m.val_acc) {
            lines.push(Line::styled(
                format!("val   loss {l:.4} acc {a:.4}"),
                theme.val(),
            ));
        }
        lines.push(Line::styled(
            format!("test  loss {:.4} acc {:.4}", m.test_loss, m.test_acc),
            theme.test(),
        ));
    }
    lines.push(Line::raw(learning_rate(v, epoch_now.max(1))));
    if let Some(e) = v.early_stop {
        lines.push(Line::styled(
            format!(
                "early stop at {} (best {}{})",
                e.epoch,
                e.best_epoch,
                if e.restored { ", weights kept" } else { "" }
            ),
            theme.warn(),
        ));
    }
    if let Some(p) = p.filter(|_| v.status == UnitStatus::Running) {
        lines.push(Line::raw(format!(
            "batch {}/{} loss {:.4}",
            p.batch, p.batches, p.running_loss
        )));
        lines.push(Line::raw(format!("{:.0} img/s", p.samples_per_sec)));
    }
    if run.running == Some(selected) {
        if let Some(eta) = run.eta_variant() {
            lines.push(Line::raw(format!("ETA variant {}", fmt_duration(eta))));
        }
    }
    if let Some(eta) = run.eta_total().filter(|_| !run.finished) {
        lines.push(Line::raw(format!("ETA preset  {}", fmt_duration(eta))));
    }
    if let Some(r) = v.spec.reference {
        lines.push(Line::styled(
            format!("study: loss {:.3} acc {:.2}", r.test_loss, r.test_acc),
            theme.dim(),
        ));
    }
    if let Some(f) = &v.failure {
        lines.push(Line::styled(f.message.clone(), theme.bad()));
    }
    let block = Block::bordered().title(if narrow {
        fit::title(
            &["now", "widen for the accuracy chart"],
            numbers_area.width.saturating_sub(2),
        )
    } else {
        " now ".to_string()
    });
    let inner = block.inner(numbers_area);
    frame.render_widget(block, numbers_area);
    let [text_area, gauge_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text_area);
    if let Some(p) = p.filter(|_| v.status == UnitStatus::Running) {
        let ratio = (p.batch as f64 / p.batches.max(1) as f64).clamp(0.0, 1.0);
        frame.render_widget(
            Gauge::default()
                .gauge_style(theme.train())
                .ratio(ratio)
                .label(format!("epoch {} {:.0}%", p.epoch, ratio * 100.0)),
            gauge_area,
        );
    }
}

/// The unit's epochs as `run` prints them, the latest at the bottom, scrolled `back` lines up.
fn render_log(
    v: &crate::runs::UnitRecord,
    back: usize,
    theme: crate::tui::theme::Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let lines = crate::report::epoch_log(v);
    let rows = area.height.saturating_sub(2) as usize;
    let end = lines
        .len()
        .saturating_sub(back.min(lines.len().saturating_sub(1)));
    let start = end.saturating_sub(rows);
    let title = fit::title(
        &[
            &format!(
                "{} · lines {}-{} of {}",
                v.spec.name,
                start + 1,
                end,
                lines.len()
            ),
            "a hides",
            "PgUp/PgDn scroll",
        ],
        area.width.saturating_sub(2),
    );
    let shown: Vec<Line> = if lines.is_empty() {
        vec![Line::styled("no epoch has ended yet", theme.dim())]
    } else {
        lines[start..end]
            .iter()
            .map(|l| Line::raw(l.clone()))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(shown).block(Block::bordered().title(title)),
        area,
    );
}

/// A unit's loss chart as the live view draws it: its epochs, and its per-batch losses (while
/// it trains, and kept after it ends) with their EMA.
fn unit_loss(ctx: &Ctx, v: &crate::runs::UnitRecord) -> crate::tui::widgets::chart::Series {
    let extras = Extras {
        smooth: ctx.charts.smooth,
        patience: ctx.charts.patience,
        weight: ctx.charts.batch_weight,
        weight_per_point: v.batches.weight_per_point(ctx.charts.batch_weight),
    };
    loss_series_with(v, &v.batches.xy(), ctx.charts.log_scale, Some(extras))
}

/// The plot inside a chart of `area`: less its borders, the x-axis (line, labels, title) and
/// the y-axis labels and line.
pub fn plot_size(area: Rect) -> (u16, u16) {
    (
        area.height.saturating_sub(5),
        area.width.saturating_sub(2 + 7),
    )
}

/// The learning rate of epoch `epoch`: computed for Step and Cosine, the last recorded one for
/// ReduceOnPlateau (it depends on losses not seen yet), the optimiser's without a schedule.
fn learning_rate(v: &crate::runs::UnitRecord, epoch: usize) -> String {
    use crate::spec::Schedule;
    let base = v.spec.optimizer.lr();
    match v.spec.schedule {
        None => format!("lr {base:.2e}"),
        Some(s @ Schedule::ReduceOnPlateau { .. }) => {
            let lr = v.last().and_then(|m| m.lr).unwrap_or(base);
            format!("lr {lr:.2e} ({})", s.label())
        }
        Some(s) => {
            let lr =
                crate::optim::schedule::LrSchedule::new(base, Some(s), v.spec.epochs).lr(epoch);
            format!("lr {lr:.2e} ({})", s.label())
        }
    }
}

/// The live view as a figure (`E`): the selected unit's loss chart as drawn (batch losses,
/// their EMA, markers) and its accuracy chart.
pub fn figure(ctx: &Ctx) -> Option<crate::export::figure::Figure> {
    let run = ctx.run;
    let v = run.record.units.get(ctx.selected)?;
    // The unit's per-batch losses: while it trains, and kept after it ends.
    let loss = unit_loss(ctx, v);
    let acc = accuracy_series(v);
    Some(crate::export::figure::Figure {
        title: format!("{} · {}", run.record.preset, v.spec.name),
        // Each panel on its own scale, as on screen: the loss log when `L` is on, the
        // accuracy always linear.
        panels: vec![
            crate::tui::widgets::chart::panel(format!("{} loss", v.spec.name), "loss", &loss),
            crate::tui::widgets::chart::panel("accuracy".into(), "accuracy", &acc),
        ],
        notes: Vec::new(),
    })
}
