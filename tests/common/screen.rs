//! Rendering the app into a test terminal, and checking that a narrow screen cuts no word.

use std::collections::BTreeSet;

use mnist_lab::tui::app::{App, Msg};
use mnist_lab::tui::hits::Hits;
use mnist_lab::tui::ui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// The screen `app` draws at `w`×`h`, one string per row.
pub fn draw(app: &App, w: u16, h: u16) -> Vec<String> {
    let buf = buffer(app, w, h);
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

/// The buffer of a drawn app, for styles.
pub fn buffer(app: &App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    drawn(app, w, h).0
}

/// The buffer of a drawn app and where it drew what a click selects.
pub fn drawn(app: &App, w: u16, h: u16) -> (ratatui::buffer::Buffer, Hits) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut hits = Hits::default();
    terminal.draw(|f| hits = ui::render(app, f)).unwrap();
    (terminal.backend().buffer().clone(), hits)
}

/// A left click at (`x`, `y`) of a `w`×`h` terminal, as the runtime makes it: against what
/// the app draws now.
#[allow(dead_code)]
pub fn click(app: &App, w: u16, h: u16, x: u16, y: u16) -> Msg {
    Msg::Click(drawn(app, w, h).1.at(x, y))
}

/// The words of a screen: runs of letters, digits and punctuation between spaces, borders and
/// chart marks.
pub fn words(screen: &[String]) -> BTreeSet<String> {
    let mark = |c: char| {
        c.is_whitespace()
            || ('\u{2500}'..='\u{259f}').contains(&c) // box drawing and blocks
            || ('\u{2800}'..='\u{28ff}').contains(&c) // braille (chart dots)
            || "•·─│".contains(c)
    };
    screen
        .iter()
        .flat_map(|l| l.split(mark).map(str::to_string).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Words drawn at `w`×`h` that are the start of a longer word the same state draws whole at
/// 250×70 ("interru" of "interrupted"): cuts, where a layout abbreviates on purpose ("t\p"
/// for "true\pred") at small sizes.
pub fn cut_prefixes_at(app: &App, w: u16, h: u16) -> Vec<String> {
    let wide = words(&draw(app, 250, 70));
    words(&draw(app, w, h))
        .into_iter()
        .filter(|word| word.chars().count() >= 2 && !wide.contains(word))
        .filter(|word| {
            wide.iter()
                .any(|full| full.len() > word.len() && full.starts_with(word.as_str()))
        })
        .filter(|word| !word.contains('…'))
        .filter(|word| !plot_marks(word))
        .collect()
}

/// Words drawn at 80×24 that the same state does not draw at 250×70: a word cut short
/// ("Adade", "test l"). Numbers are left out (axis labels differ with the size).
pub fn cut_words(app: &App) -> Vec<String> {
    cut_words_at(app, 80, 24)
}

/// Words drawn at `w`×`h` that the same state does not draw at 250×70. At 80×24 any such
/// word counts; at other sizes, where the layout may show columns 250×70 leaves out (the
/// grid's table beside the cells is narrower), a word counts when it is the start of a word
/// drawn whole there ("interru" of "interrupted").
pub fn cut_words_at(app: &App, w: u16, h: u16) -> Vec<String> {
    if (w, h) != (80, 24) {
        return cut_prefixes_at(app, w, h);
    }
    let wide = words(&draw(app, 250, 70));
    let number = |w: &str| {
        let w = w.trim_matches(|c: char| "[](),%±+−".contains(c));
        !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || ".-e".contains(c))
    };
    // Notes that only a narrow screen shows, saying what it left out.
    let notes = words(&[
        "widen for the accuracy chart".to_string(),
        "widen for more columns".to_string(),
        "rows of (↑↓ scroll)".to_string(),
        "depth × BN+Dropout".to_string(),
        "from row of · PgUp/PgDn scroll".to_string(),
    ]);
    words(&draw(app, w, h))
        .into_iter()
        .filter(|w| !wide.contains(w) && !number(w) && !notes.contains(w))
        // An ellipsis is an abbreviation that says so.
        .filter(|w| !w.contains('…'))
        .filter(|w| !plot_marks(w))
        .collect()
}

/// A run of a chart's marks (curves drawn without colour, with an end letter), not a word:
/// braille, the overlay's symbol marks, or only its letter marks `o x +` and one capital.
pub fn plot_marks(w: &str) -> bool {
    let symbol = |c: char| ('\u{2800}'..='\u{28FF}').contains(&c) || "•*#~^%|≈:★".contains(c);
    w.chars().any(symbol)
        || (w.chars().filter(|c| c.is_ascii_uppercase()).count() <= 1
            && w.chars()
                .all(|c| "ox+".contains(c) || c.is_ascii_uppercase()))
}
