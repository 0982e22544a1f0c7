//! Digits view: a finished variant's confusion matrix (counts, coloured by rate), per-class
//! accuracy, and a gallery of the test digits it got wrong, drawn with half-block pixels.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use ratatui::Frame;

use super::{done, Reply};
use crate::insight::confusion;
use crate::tui::hits::{Hits, Target};
use crate::tui::keys::Action;
use crate::tui::theme::Theme;

/// A finished variant's predictions on the test set, for the digits view.
#[derive(Debug, Clone, PartialEq)]
pub struct Digits {
    pub variant: usize,
    pub name: String,
    /// The data set whose test split the predictions are for (shared, not copied).
    pub data: std::sync::Arc<crate::data::Dataset>,
    pub predictions: Vec<u8>,
    pub confidence: Vec<f32>,
    pub true_filter: Option<u8>,
    pub pred_filter: Option<u8>,
    pub page: usize,
}

impl Digits {
    pub fn mistakes(&self) -> Vec<usize> {
        let n = self.predictions.len();
        crate::insight::confusion::mistakes(
            &self.data.test.labels[..n],
            &self.predictions,
            self.true_filter,
            self.pred_filter,
        )
    }
}

/// The next class a filter shows: none, then 0 to 9.
fn cycle_class(c: Option<u8>) -> Option<u8> {
    match c {
        None => Some(0),
        Some(9) => None,
        Some(c) => Some(c + 1),
    }
}

impl Digits {
    /// `u`/`i` filter by true / predicted class, ←/→ page the gallery.
    pub fn on_action(&mut self, action: Action) -> Reply {
        match action {
            Action::FilterTrue => self.true_filter = cycle_class(self.true_filter),
            Action::FilterPredicted => self.pred_filter = cycle_class(self.pred_filter),
            Action::Right => {
                self.page += 1;
                return done();
            }
            Action::Left => {
                self.page = self.page.saturating_sub(1);
                return done();
            }
            _ => return None,
        }
        self.page = 0;
        done()
    }

    /// A click on a matrix cell: the gallery shows that (true, predicted) pair, or every
    /// mistake again when it already did.
    pub fn pick_pair(&mut self, truth: u8, pred: u8) {
        let pair = (Some(truth), Some(pred));
        if (self.true_filter, self.pred_filter) == pair {
            self.true_filter = None;
            self.pred_filter = None;
        } else {
            (self.true_filter, self.pred_filter) = pair;
        }
        self.page = 0;
    }
}

/// A 28×28 digit as 28 columns × 14 rows of half blocks: the upper pixel is the foreground
/// of '▀', the lower its background. Without colour, pixels ≥ 128 are on: '█', '▀', '▄', ' '.
pub struct DigitImage<'a> {
    pub pixels: &'a [u8],
    pub color: bool,
    /// 1: every pixel (28×14 cells); 2: half size (14×7 cells, each pixel the brightest of
    /// the 2×2 it stands for, so thin strokes survive).
    pub scale: usize,
}

impl DigitImage<'_> {
    /// The pixel at (`x`, `y`) of the scaled image.
    fn at(&self, x: usize, y: usize) -> u8 {
        let s = self.scale.max(1);
        (0..s)
            .flat_map(|dy| (0..s).map(move |dx| (dx, dy)))
            .map(|(dx, dy)| self.pixels[(y * s + dy).min(27) * 28 + (x * s + dx).min(27)])
            .max()
            .unwrap_or(0)
    }
}

impl Widget for DigitImage<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let side = (28 / self.scale.max(1)) as u16;
        for row in 0..side / 2 {
            for col in 0..side {
                if col >= area.width || row >= area.height {
                    continue;
                }
                let top = self.at(col as usize, 2 * row as usize);
                let bottom = self.at(col as usize, 2 * row as usize + 1);
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
/// A half-size tile (14×7 cells and a caption), for screens where full ones do not fit.
pub const SMALL_TILE: (u16, u16) = (16, 9);
/// The matrix's width with 5-column cells, and with 4-column ones.
const MATRIX_WIDE: u16 = 68;
const MATRIX_NARROW: u16 = 61;

pub fn render(
    digits: Option<&Digits>,
    theme: Theme,
    frame: &mut Frame,
    area: Rect,
    hits: &mut Hits,
) {
    let Some(d) = digits else {
        frame.render_widget(
            Paragraph::new("Select a finished variant and press 5 to see its digits.")
                .block(Block::bordered().title(" digits ")),
            area,
        );
        return;
    };
    // The wide matrix where two full digits still fit beside it; else the narrow one.
    let wide = area.width >= MATRIX_WIDE + 2 + 2 * TILE.0;
    let matrix = if wide { MATRIX_WIDE } else { MATRIX_NARROW };
    let [left, right] =
        Layout::horizontal([Constraint::Length(matrix), Constraint::Fill(1)]).areas(area);
    render_matrix(d, frame, left, theme, wide, hits);
    render_gallery(d, frame, right, theme);
}

/// The tile size and scale for a gallery of `inner` cells: full tiles when at least four
/// fit (or nothing smaller would fit more), else half-size ones.
fn tiles_for(inner: Rect) -> ((u16, u16), usize) {
    let fit = |t: (u16, u16)| {
        (inner.width / t.0) as usize * (inner.height.saturating_sub(1) / t.1) as usize
    };
    if fit(TILE) >= 4 || fit(SMALL_TILE) <= fit(TILE) {
        (TILE, 1)
    } else {
        (SMALL_TILE, 2)
    }
}

/// The confusion matrix; `wide` labels its rows "true\pred", else "t\p" (its cells keep
/// five columns: a count of 1,000 or more must not touch its neighbour).
fn render_matrix(
    d: &Digits,
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    wide: bool,
    hits: &mut Hits,
) {
    let cell = 5;
    let label = if wide { 9 } else { 3 };
    let n = d.predictions.len();
    let m = confusion::confusion(&d.data.test.labels[..n], &d.predictions);
    let acc = confusion::per_class_accuracy(&m);
    let head: String = (0..10).map(|p| format!("{p:>cell$}")).collect();
    let corner = if wide { "true\\pred" } else { "t\\p" };
    let mut lines = vec![Line::styled(format!("{corner}{head}  acc"), theme.title())];
    for (t, row) in m.iter().enumerate() {
        let total: u32 = row.iter().sum::<u32>().max(1);
        let mut spans = vec![Span::styled(format!("{t:>label$}"), theme.title())];
        for (p, &c) in row.iter().enumerate() {
            let rate = c as f64 / total as f64;
            let style = if !theme.color || c == 0 {
                if c == 0 {
                    theme.dim()
                } else {
                    Style::new()
                }
            } else if t == p {
                Style::new().fg(theme.readable(Color::Rgb(40, (120.0 + 135.0 * rate) as u8, 40)))
            } else {
                Style::new().fg(theme.readable(Color::Rgb(
                    (140.0 + 115.0 * (rate * 20.0).min(1.0)) as u8,
                    60,
                    40,
                )))
            };
            spans.push(Span::styled(format!("{c:>cell$}"), style));
        }
        spans.push(Span::raw(" "));
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
    let block = Block::bordered().title(format!(" {} · confusion ", d.name));
    let inner = block.inner(area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
    // Each count selects its (true, predicted) pair for the gallery.
    for t in 0..10u16 {
        for p in 0..10u16 {
            let cell_area = Rect::new(
                inner.x + label as u16 + p * cell as u16,
                inner.y + 1 + t,
                cell as u16,
                1,
            );
            hits.add(
                cell_area.intersection(inner),
                Target::Pair(t as u8, p as u8),
            );
        }
    }
}

fn render_gallery(d: &Digits, frame: &mut Frame, area: Rect, theme: Theme) {
    let wrong = d.mistakes();
    let filter = |f: Option<u8>| f.map(|c| c.to_string()).unwrap_or_else(|| "any".into());
    // The title says what the keys do in as many words as fit.
    let long = format!(
        " misclassified: {} · true {} (u) · predicted {} (i) · ←/→ pages ",
        wrong.len(),
        filter(d.true_filter),
        filter(d.pred_filter)
    );
    let medium = format!(
        " wrong {} · u {} · i {} ",
        wrong.len(),
        filter(d.true_filter),
        filter(d.pred_filter)
    );
    let short = format!(" wrong {} ", wrong.len());
    let title = [long, medium, short]
        .into_iter()
        .find(|t| t.chars().count() + 2 <= area.width as usize)
        .unwrap_or_default();
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (tile, scale) = tiles_for(inner);
    let side = (28 / scale) as u16;
    let per_row = (inner.width / tile.0).max(1) as usize;
    let rows = (inner.height.saturating_sub(1) / tile.1).max(1) as usize;
    let per_page = per_row * rows;
    let pages = wrong.len().div_ceil(per_page).max(1);
    let page = d.page.min(pages - 1);
    for (k, &i) in wrong
        .iter()
        .skip(page * per_page)
        .take(per_page)
        .enumerate()
    {
        let x = inner.x + (k % per_row) as u16 * tile.0;
        let y = inner.y + (k / per_row) as u16 * tile.1;
        if x + side > inner.right() || y + tile.1 > inner.bottom() + 1 {
            continue;
        }
        let caption = if scale == 1 {
            format!(
                "#{i} true {} → {} ({:.0}%)",
                d.data.test.labels[i],
                d.predictions[i],
                d.confidence[i] * 100.0
            )
        } else {
            format!(
                "{}→{} {:.0}%",
                d.data.test.labels[i],
                d.predictions[i],
                d.confidence[i] * 100.0
            )
        };
        frame.render_widget(
            Paragraph::new(Line::styled(caption, theme.warn())),
            Rect {
                x,
                y,
                width: tile.0.min(inner.right() - x),
                height: 1,
            },
        );
        frame.render_widget(
            DigitImage {
                pixels: d.data.test.image(i),
                color: theme.color,
                scale,
            },
            Rect {
                x,
                y: y + 1,
                width: side,
                height: side / 2,
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
