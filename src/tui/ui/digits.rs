//! Digits view: a finished variant's confusion matrix (counts, coloured by rate), per-class
//! accuracy, and a gallery of the test digits it got wrong, drawn with half-block pixels.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use ratatui::Frame;

use super::Theme;
use crate::insight::confusion;
use crate::tui::app::{App, Digits};

/// A 28×28 digit as 28 columns × 14 rows of half blocks: the upper pixel is the foreground
/// of '▀', the lower its background. Without colour, pixels ≥ 128 are on: '█', '▀', '▄', ' '.
pub struct DigitImage<'a> {
    pub pixels: &'a [u8],
    pub color: bool,
}

impl Widget for DigitImage<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        for row in 0..14u16 {
            for col in 0..28u16 {
                if col >= area.width || row >= area.height {
                    continue;
                }
                let top = self.pixels[(2 * row as usize) * 28 + col as usize];
                let bottom = self.pixels[(2 * row as usize + 1) * 28 + col as usize];
                let cell = &mut buf[(area.x + col, area.y + row)];
                if self.color {
                    cell.set_symbol("▀");
                    cell.set_style(
                        Style::new()
                            .fg(Color::Rgb(top, top, top))
                            .bg(Color::Rgb(bottom, bottom, bottom)),
                    );
                } else {
                    cell.set_symbol(match (top >= 128, bottom >= 128) {
                        (true, true) => "█",
                        (true, false) => "▀",
                        (false, true) => "▄",
                        (false, false) => " ",
                    });
                }
            }
        }
    }
}

pub const TILE: (u16, u16) = (30, 16);

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let Some(d) = &app.digits else {
        frame.render_widget(
            Paragraph::new("Select a finished variant and press 5 to see its digits.")
                .block(Block::bordered().title(" digits ")),
            area,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Length(68), Constraint::Fill(1)]).areas(area);
    render_matrix(d, frame, left, theme);
    render_gallery(d, frame, right, theme);
}

fn render_matrix(d: &Digits, frame: &mut Frame, area: Rect, theme: Theme) {
    let n = d.predictions.len();
    let m = confusion::confusion(&d.data.test.labels[..n], &d.predictions);
    let acc = confusion::per_class_accuracy(&m);
    let mut lines = vec![Line::styled(
        "true\\pred    0    1    2    3    4    5    6    7    8    9  acc",
        theme.title(),
    )];
    for (t, row) in m.iter().enumerate() {
        let total: u32 = row.iter().sum::<u32>().max(1);
        let mut spans = vec![Span::styled(format!("{t:>9} "), theme.title())];
        for (p, &c) in row.iter().enumerate() {
            let rate = c as f64 / total as f64;
            let style = if !theme.color || c == 0 {
                if c == 0 {
                    theme.dim()
                } else {
                    Style::new()
                }
            } else if t == p {
                Style::new().fg(Color::Rgb(40, (120.0 + 135.0 * rate) as u8, 40))
            } else {
                Style::new().fg(Color::Rgb(
                    (140.0 + 115.0 * (rate * 20.0).min(1.0)) as u8,
                    60,
                    40,
                ))
            };
            spans.push(Span::styled(format!("{c:>4} "), style));
        }
        spans.push(Span::raw(
            acc[t]
                .map(|a| format!("{:.3}", a))
                .unwrap_or_else(|| "  -  ".into()),
        ));
        lines.push(Line::from(spans));
    }
    let correct: u32 = (0..10).map(|i| m[i][i]).sum();
    lines.push(Line::raw(""));
    lines.push(Line::raw(format!(
        "{} of {} correct ({:.4})",
        correct,
        n,
        correct as f64 / n.max(1) as f64
    )));
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(" {} · confusion ", d.name))),
        area,
    );
}

fn render_gallery(d: &Digits, frame: &mut Frame, area: Rect, theme: Theme) {
    let wrong = d.mistakes();
    let filter = |f: Option<u8>| f.map(|c| c.to_string()).unwrap_or_else(|| "any".into());
    let block = Block::bordered().title(format!(
        " misclassified: {} · true {} (u) · predicted {} (i) · ←/→ pages ",
        wrong.len(),
        filter(d.true_filter),
        filter(d.pred_filter)
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let per_row = (inner.width / TILE.0).max(1) as usize;
    let rows = (inner.height / TILE.1).max(1) as usize;
    let per_page = per_row * rows;
    let pages = wrong.len().div_ceil(per_page).max(1);
    let page = d.page.min(pages - 1);
    for (k, &i) in wrong
        .iter()
        .skip(page * per_page)
        .take(per_page)
        .enumerate()
    {
        let x = inner.x + (k % per_row) as u16 * TILE.0;
        let y = inner.y + (k / per_row) as u16 * TILE.1;
        if x + 28 > inner.right() || y + TILE.1 > inner.bottom() + 1 {
            continue;
        }
        let caption = format!(
            "#{i} true {} → {} ({:.0}%)",
            d.data.test.labels[i],
            d.predictions[i],
            d.confidence[i] * 100.0
        );
        frame.render_widget(
            Paragraph::new(Line::styled(caption, theme.warn())),
            Rect {
                x,
                y,
                width: TILE.0.min(inner.right() - x),
                height: 1,
            },
        );
        frame.render_widget(
            DigitImage {
                pixels: d.data.test.image(i),
                color: theme.color,
            },
            Rect {
                x,
                y: y + 1,
                width: 28,
                height: 14,
            },
        );
    }
    if wrong.is_empty() {
        frame.render_widget(Paragraph::new("No mistakes with these filters."), inner);
    } else {
        let footer = Rect {
            y: inner.bottom().saturating_sub(1),
            height: 1,
            ..inner
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("page {}/{}", page + 1, pages),
                theme.dim(),
            )),
            footer,
        );
    }
}
