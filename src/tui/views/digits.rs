//! Digits view: a finished variant's confusion matrix (counts, coloured by rate), per-class
//! accuracy, and a gallery of the test images it got wrong, drawn with half-block pixels.
//! Any image size and any number of classes: a matrix too large for the screen gives way to
//! a list of the most frequent confusions.

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

/// The next class a filter shows: none, then 0 to `classes` - 1.
fn cycle_class(c: Option<u8>, classes: usize) -> Option<u8> {
    match c {
        None => Some(0),
        Some(c) if c as usize + 1 >= classes => None,
        Some(c) => Some(c + 1),
    }
}

impl Digits {
    /// `u`/`i` filter by true / predicted class, ←/→ page the gallery.
    pub fn on_action(&mut self, action: Action) -> Reply {
        match action {
            Action::FilterTrue => {
                self.true_filter = cycle_class(self.true_filter, self.data.classes.count)
            }
            Action::FilterPredicted => {
                self.pred_filter = cycle_class(self.pred_filter, self.data.classes.count)
            }
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

/// A rows × cols image as cols columns × rows/2 lines of half blocks: the upper pixel is
/// the foreground of '▀', the lower its background. Without colour, pixels ≥ 128 are on:
/// '█', '▀', '▄', ' '.
pub struct DigitImage<'a> {
    pub pixels: &'a [u8],
    pub rows: usize,
    pub cols: usize,
    pub color: bool,
    /// 1: every pixel; s: each cell pixel the brightest of the s×s it stands for, so thin
    /// strokes survive.
    pub scale: usize,
}

impl DigitImage<'_> {
    /// The pixel at (`x`, `y`) of the scaled image.
    fn at(&self, x: usize, y: usize) -> u8 {
        let s = self.scale.max(1);
        let (last_row, last_col) = (self.rows.max(1) - 1, self.cols.max(1) - 1);
        (0..s)
            .flat_map(|dy| (0..s).map(move |dx| (dx, dy)))
            .map(|(dx, dy)| {
                self.pixels[(y * s + dy).min(last_row) * self.cols + (x * s + dx).min(last_col)]
            })
            .max()
            .unwrap_or(0)
    }

    /// Cells (columns, lines) the scaled image takes.
    pub fn cells(rows: usize, cols: usize, scale: usize) -> (u16, u16) {
        let s = scale.max(1);
        let w = cols.div_ceil(s);
        let h = rows.div_ceil(s).div_ceil(2);
        (w as u16, h as u16)
    }
}

impl Widget for DigitImage<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (width, height) = DigitImage::cells(self.rows, self.cols, self.scale);
        for row in 0..height {
            for col in 0..width {
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

/// A tile of MNIST's 28×28 digits: the image, a caption above, a gap right and below.
pub const TILE: (u16, u16) = (30, 16);
/// A half-size tile (14×7 cells and a caption), for screens where full ones do not fit.
pub const SMALL_TILE: (u16, u16) = (16, 9);

/// The scale at which an image is drawn full size: 1 up to 28 pixels a side, larger images
/// shrunk to about that.
fn full_scale(rows: usize, cols: usize) -> usize {
    rows.max(cols).div_ceil(28).max(1)
}

/// A gallery tile of an image at `scale`: the image with a caption line and a gap.
fn tile(rows: usize, cols: usize, scale: usize) -> (u16, u16) {
    let (w, h) = DigitImage::cells(rows, cols, scale);
    (w + 2, h + 2)
}

/// The matrix's width: row labels, `cell`-wide counts, the accuracy column and borders.
fn matrix_width(label: usize, cell: usize, classes: usize) -> u16 {
    (label + cell * classes + 6 + 2) as u16
}

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
    let (rows, cols, k) = (d.data.rows, d.data.cols, d.data.classes.count);
    let full = tile(rows, cols, full_scale(rows, cols));
    let cell = matrix_cell(d);
    // The wide matrix where two full images still fit beside it; else the narrow one; else,
    // when even that leaves no room for one image (or its rows do not fit), the list.
    let wide = area.width >= matrix_width(9, cell, k) + 2 + 2 * full.0;
    let narrow = matrix_width(3, cell, k) + full.0.min(SMALL_TILE.0) <= area.width
        && k as u16 + 5 <= area.height;
    let left_width = match (wide, narrow) {
        (true, _) => matrix_width(9, cell, k),
        (false, true) => matrix_width(3, cell, k),
        (false, false) => CONFUSIONS_WIDTH,
    };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)]).areas(area);
    if wide || narrow {
        render_matrix(d, frame, left, theme, wide, cell, hits);
    } else {
        render_confusions(d, frame, left, theme, hits);
    }
    render_gallery(d, frame, right, theme);
}

/// Columns per count: five for MNIST's ten classes (a count of 1,000 must not touch its
/// neighbour), else the widest count and a space.
fn matrix_cell(d: &Digits) -> usize {
    if d.data.classes.count <= 10 {
        return 5;
    }
    let largest = d.data.test.len().max(1);
    largest.to_string().len().min(5) + 1
}

/// The tile size and scale for a gallery of `inner` cells: full tiles when at least four
/// fit (or nothing smaller would fit more), else half-size ones.
fn tiles_for(inner: Rect, rows: usize, cols: usize) -> ((u16, u16), usize) {
    let fit = |t: (u16, u16)| {
        (inner.width / t.0) as usize * (inner.height.saturating_sub(1) / t.1) as usize
    };
    let s = full_scale(rows, cols);
    let (full, small) = (tile(rows, cols, s), tile(rows, cols, 2 * s));
    if fit(full) >= 4 || fit(small) <= fit(full) {
        (full, s)
    } else {
        (small, 2 * s)
    }
}

/// Width of the list that stands in for a matrix too large for the screen.
const CONFUSIONS_WIDTH: u16 = 30;

/// The most frequent confusions, largest first, each a click that filters the gallery, and
/// the overall accuracy: for data sets with more classes than the screen has room for.
fn render_confusions(d: &Digits, frame: &mut Frame, area: Rect, theme: Theme, hits: &mut Hits) {
    let n = d.predictions.len();
    let m = confusion::confusion(
        &d.data.test.labels[..n],
        &d.predictions,
        d.data.classes.count,
    );
    let correct: u32 = (0..m.len()).map(|i| m[i][i]).sum();
    let mut pairs: Vec<(u32, usize, usize)> = m
        .iter()
        .enumerate()
        .flat_map(|(t, row)| row.iter().enumerate().map(move |(p, &c)| (c, t, p)))
        .filter(|&(c, t, p)| c > 0 && t != p)
        .collect();
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let block = Block::bordered().title(format!(" {} classes ", m.len()));
    let inner = block.inner(area);
    let mut lines = vec![
        Line::raw(format!("{correct} of {n} correct")),
        Line::raw(format!("({:.4})", correct as f64 / n.max(1) as f64)),
        Line::styled("true → predicted  count", theme.title()),
    ];
    let room = (inner.height as usize).saturating_sub(lines.len());
    for (row, &(c, t, p)) in pairs.iter().take(room).enumerate() {
        lines.push(Line::raw(format!(
            "{:>6} → {:<6} {c:>6}",
            d.data.classes.label(t),
            d.data.classes.label(p)
        )));
        let y = inner.y + 3 + row as u16;
        hits.add(
            Rect::new(inner.x, y, inner.width, 1).intersection(inner),
            Target::Pair(t as u8, p as u8),
        );
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The confusion matrix; `wide` labels its rows "true\pred", else "t\p"; counts take
/// `cell` columns each.
fn render_matrix(
    d: &Digits,
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    wide: bool,
    cell: usize,
    hits: &mut Hits,
) {
    let label = if wide { 9 } else { 3 };
    let n = d.predictions.len();
    let k = d.data.classes.count;
    let m = confusion::confusion(&d.data.test.labels[..n], &d.predictions, k);
    let acc = confusion::per_class_accuracy(&m);
    let head: String = (0..k).map(|p| format!("{p:>cell$}")).collect();
    let corner = if wide { "true\\pred" } else { "t\\p" };
    let mut lines = vec![Line::styled(format!("{corner}{head}  acc"), theme.title())];
    for (t, row) in m.iter().enumerate() {
        let total: u32 = row.iter().sum::<u32>().max(1);
        // The class's name from `classes.txt` where there is one, as long as the column.
        let name: String = d.data.classes.label(t).chars().take(label).collect();
        let mut spans = vec![Span::styled(format!("{name:>label$}"), theme.title())];
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
    let correct: u32 = (0..k).map(|i| m[i][i]).sum();
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
    for t in 0..k as u16 {
        for p in 0..k as u16 {
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
    let filter = |f: Option<u8>| {
        f.map(|c| d.data.classes.label(c as usize))
            .unwrap_or_else(|| "any".into())
    };
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
    let (rows, cols) = (d.data.rows, d.data.cols);
    let (tile, scale) = tiles_for(inner, rows, cols);
    let (side, lines) = DigitImage::cells(rows, cols, scale);
    let per_row = (inner.width / tile.0).max(1) as usize;
    let tile_rows = (inner.height.saturating_sub(1) / tile.1).max(1) as usize;
    let per_page = per_row * tile_rows;
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
        // The long caption where the tile has room for it (about 25 columns).
        let caption = if tile.0 >= 26 {
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
                rows,
                cols,
                color: theme.color,
                scale,
            },
            Rect {
                x,
                y: y + 1,
                width: side,
                height: lines,
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
