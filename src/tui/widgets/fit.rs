//! Fitting text to narrow terminals without cutting words: titles drop their least important
//! parts, tables drop whole columns, long sentences wrap. 80×24 is a size we support.

use ratatui::layout::Constraint;
use unicode_width::UnicodeWidthStr;

/// Display width of `s` in terminal cells.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// A block title of `parts` joined by " · " that fits `room` cells: parts are given most
/// important first and dropped from the end. When even the first does not fit it is shortened
/// with an ellipsis, which says so.
pub fn title(parts: &[&str], room: u16) -> String {
    let room = room as usize;
    for n in (1..=parts.len()).rev() {
        let t = format!(" {} ", parts[..n].join(" · "));
        if width(&t) <= room {
            return t;
        }
    }
    let first = parts.first().copied().unwrap_or("");
    format!(" {} ", ellipsis(first, room.saturating_sub(2)))
}

/// `s` cut to `room` cells with a trailing "…" when it is longer.
pub fn ellipsis(s: &str, room: usize) -> String {
    if width(s) <= room {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if width(&out) + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) + 1 > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` shortened to `room` cells by an ellipsis in the middle, keeping its start and its
/// longer end: grid names put the factors that vary ("· Last · 0.2") last.
pub fn middle_ellipsis(s: &str, room: usize) -> String {
    if width(s) <= room || room < 3 {
        return ellipsis(s, room);
    }
    let chars: Vec<char> = s.chars().collect();
    let head = (room - 1) / 3;
    let tail = room - 1 - head;
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len().saturating_sub(tail)..].iter().collect();
    format!("{}…{}", start.trim_end(), end.trim_start())
}

/// `text` broken into lines of at most `room` cells at spaces (a word longer than a line is
/// split, the only place a word is cut).
pub fn wrap(text: &str, room: usize) -> Vec<String> {
    let room = room.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let sep = usize::from(!line.is_empty());
        if width(&line) + sep + width(word) <= room {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word.to_string();
        while width(&rest) > room {
            let head: String = rest.chars().take(room).collect();
            rest = rest.chars().skip(room).collect();
            lines.push(head);
        }
        line = rest;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// One table column: its header, its cells, and its rank (0 is kept first).
pub struct Column {
    pub header: String,
    pub cells: Vec<String>,
    pub rank: u8,
    /// Every cell is a number (or "-"): drawn right-aligned, so digits line up.
    pub numeric: bool,
}

/// A cell that reads as a number: "0.0712", "-3", "+0.0043", "1,024", "12/12", "4m05s" or "-".
fn is_number(s: &str) -> bool {
    let s = s.trim();
    s == "-"
        || s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
            && s.chars().any(|c| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_digit() || ".,-+/%ehms ".contains(c))
}

impl Column {
    pub fn new(header: &str, rank: u8, cells: Vec<String>) -> Self {
        let numeric = cells.iter().any(|c| c.trim() != "-") && cells.iter().all(|c| is_number(c));
        Column {
            header: header.to_string(),
            cells,
            rank,
            numeric,
        }
    }

    /// Cell `r`, right-aligned when the column holds numbers.
    pub fn cell(&self, r: usize) -> ratatui::widgets::Cell<'static> {
        self.aligned(self.cells.get(r).cloned().unwrap_or_default())
    }

    /// The header, aligned as the cells are.
    pub fn header_cell(&self) -> ratatui::widgets::Cell<'static> {
        self.aligned(self.header.clone())
    }

    fn aligned(&self, text: String) -> ratatui::widgets::Cell<'static> {
        let line = ratatui::text::Line::raw(text);
        ratatui::widgets::Cell::from(if self.numeric {
            line.right_aligned()
        } else {
            line
        })
    }

    fn width(&self) -> u16 {
        self.cells
            .iter()
            .map(|c| width(c))
            .chain([width(&self.header)])
            .max()
            .unwrap_or(0) as u16
    }
}

/// The columns that fit `room` cells whole (one cell of spacing between them), taken by rank
/// until the next does not fit, and shown in their given order, each as wide as its widest cell; the last kept column
/// takes what is left. Returns the kept columns' indices and their widths.
pub fn columns(cols: &[Column], room: u16) -> (Vec<usize>, Vec<Constraint>) {
    let mut by_rank: Vec<usize> = (0..cols.len()).collect();
    by_rank.sort_by_key(|&i| cols[i].rank);
    let mut used = 0u16;
    let mut keep = vec![false; cols.len()];
    for i in by_rank {
        let w = cols[i].width();
        let need = if used == 0 { w } else { w + 1 };
        if used + need <= room {
            used += need;
            keep[i] = true;
        } else {
            // Strictly by rank: a narrow low-ranked column does not jump the queue. When not
            // even the first fits, it is shown cut rather than nothing.
            keep[i] |= used == 0;
            break;
        }
    }
    let kept: Vec<usize> = (0..cols.len()).filter(|&i| keep[i]).collect();
    // Each column as wide as its widest cell: a right-aligned number stays by its header
    // instead of drifting to the far edge of a last column stretched over the spare room.
    let widths = kept
        .iter()
        .map(|&i| Constraint::Length(cols[i].width()))
        .collect();
    (kept, widths)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns of numbers are right-aligned (digits line up), columns of words are not; a
    /// column of "-" alone is no number.
    #[test]
    fn columns_of_numbers_are_right_aligned() {
        let col =
            |cells: &[&str]| Column::new("h", 0, cells.iter().map(|s| s.to_string()).collect());
        assert!(col(&["0.0712", "12.5", "-", "+0.0043", "30/30", "4m05s", "1,024"]).numeric);
        assert!(!col(&["Adam", "0.1"]).numeric);
        assert!(!col(&["-", "-"]).numeric);
        assert!(!col(&["2L adam every"]).numeric);
        let c = col(&["3/3", "30/30"]);
        assert_eq!(
            c.cell(0),
            ratatui::widgets::Cell::from(ratatui::text::Line::raw("3/3").right_aligned())
        );
        assert_eq!(
            col(&["Adam"]).cell(0),
            ratatui::widgets::Cell::from(ratatui::text::Line::raw("Adam"))
        );
    }

    #[test]
    fn titles_drop_their_last_parts_first_and_never_cut_a_word() {
        let parts = ["2L adam", "loss", "early stop patience 3 (+/-)"];
        assert_eq!(
            title(&parts, 80),
            " 2L adam · loss · early stop patience 3 (+/-) "
        );
        assert_eq!(title(&parts, 30), " 2L adam · loss ");
        assert_eq!(title(&parts, 8), " 2L ad… ");
    }

    #[test]
    fn middle_ellipsis_keeps_both_ends() {
        let s = middle_ellipsis("512-256-128-64-32 · Last · 0.2", 20);
        assert_eq!(s, "512-25…· Last · 0.2");
        assert!(width(&s) <= 20);
        assert_eq!(middle_ellipsis("short", 20), "short");
    }

    #[test]
    fn wrapping_breaks_at_spaces_within_the_width() {
        let lines = wrap("no main effect: dropout is confounded with optimizer", 20);
        assert_eq!(
            lines,
            [
                "no main effect:",
                "dropout is",
                "confounded with",
                "optimizer"
            ]
        );
        assert!(lines.iter().all(|l| width(l) <= 20));
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
    }

    #[test]
    fn columns_that_do_not_fit_are_left_out_whole_by_rank() {
        let cols = [
            Column::new("variant", 0, vec!["2L adadelta every".into()]),
            Column::new("activation", 3, vec!["ReLU".into()]),
            Column::new("test loss", 1, vec!["0.0571".into()]),
            Column::new("test acc", 2, vec!["0.9812".into()]),
            Column::new("n", 4, vec!["1".into()]),
        ];
        // "activation" does not fit after "test acc", so "n" (ranked after it) is left out too.
        let (kept, widths) = columns(&cols, 38);
        assert_eq!(kept, [0, 2, 3]);
        assert_eq!(
            widths,
            [
                Constraint::Length(17),
                Constraint::Length(9),
                Constraint::Length(8)
            ]
        );
        let (kept, _) = columns(&cols, 200);
        assert_eq!(kept, [0, 1, 2, 3, 4]);
    }
}
