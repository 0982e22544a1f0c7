//! Insight views drawn into TestBackend: the factor view, the confusion matrix and the digit
//! gallery (a known digit asserted cell by cell), and the curve markers and badges.

mod common;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};
use mnist_lab::data::{Dataset, Split};
use mnist_lab::engine::Event;
use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord, UnitStatus};
use mnist_lab::spec::EpochMetrics;
use mnist_lab::tui::app::{App, Effect, Msg, View};
use mnist_lab::tui::ui;
use mnist_lab::tui::views::digits::Digits;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

const PIXELS: usize = 784;

fn draw(app: &App, w: u16, h: u16) -> (Vec<String>, Buffer) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| {
            ui::render(app, f);
        })
        .unwrap();
    let buf = terminal.backend().buffer().clone();
    let lines = (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect();
    (lines, buf)
}

fn contains(s: &[String], needle: &str) -> bool {
    s.iter().any(|l| l.contains(needle))
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::from(KeyCode::Char(c)))
}

fn m(epoch: usize, train: f32, test: f32, acc: f32) -> EpochMetrics {
    EpochMetrics {
        epoch,
        train_loss: train,
        train_acc: acc,
        test_loss: test,
        test_acc: acc,
        seconds: 1.0,
        samples_per_sec: 1.0,
        ..Default::default()
    }
}

/// paper-2019 with every variant finished: test loss 0.05 for BN+Dropout Every, 0.10 else,
/// plus 0.01 per extra layer; the "5L adam none" variant overfits (gap widening).
fn finished_paper() -> App {
    let p = preset::load("paper-2019").unwrap();
    let mut app = App::new(Vec::new());
    app.update(Msg::Started(
        RunRecord::new(&p, Environment::detect("t")),
        None,
    ));
    for (i, v) in p.units.iter().enumerate() {
        app.update(Msg::Engine(Event::UnitStarted {
            index: i,
            name: v.name.clone(),
            epochs: 20,
            batches_per_epoch: 1,
        }));
        let base = if v.placement == mnist_lab::spec::Placement::Every {
            0.05
        } else {
            0.10
        };
        let base = base + 0.01 * (v.hidden_layers() as f32 - 2.0);
        for e in 1..=5 {
            let test = if v.name == "5L adam none" {
                base + 0.02 * e as f32
            } else {
                base + 0.1 / e as f32
            };
            let train = if v.name == "5L adam none" {
                0.3 / e as f32
            } else {
                test + 0.05
            };
            app.update(Msg::Engine(Event::EpochEnd {
                index: i,
                metrics: m(e, train, test, 1.0 - test / 4.0),
            }));
        }
        app.update(Msg::Engine(Event::UnitFinished {
            index: i,
            seconds: 1.0,
            weights: Some("w".into()),
        }));
    }
    app.update(Msg::Engine(Event::RunFinished { cancelled: false }));
    app
}

#[test]
fn factor_view_lays_out_depth_by_placement_with_main_effects() {
    let mut app = finished_paper();
    app.update(key('4'));
    assert_eq!(app.view, View::Factors);
    let (s, _) = draw(&app, 160, 50);
    assert!(contains(&s, "rows: depth"), "{s:#?}");
    assert!(contains(&s, "columns: BN+Dropout"));
    for level in [
        "2 layers", "3 layers", "5 layers", "Every", "None", "First", "Last",
    ] {
        assert!(contains(&s, level), "{level}");
    }
    // BN+Dropout placement decides 0.05 vs 0.10 here: its level means vary most.
    let title = s.iter().find(|l| l.contains("varies most")).unwrap();
    assert!(
        title.contains("BN+Dropout varies most") || title.contains("dropout varies most"),
        "{title}"
    );
    // paper-2019 is no full factorial: the optimiser is confounded (its levels split the
    // design apart) and gets no main effect; placement is only not crossed (cells missing,
    // every level linked), so it keeps its additive-model means with the caveat; depth
    // (crossed with everything) gets one with its n.
    assert!(
        contains(&s, "no main effect: optimizer is confounded with"),
        "{s:#?}"
    );
    assert!(contains(&s, "BN+Dropout is not crossed with"), "{s:#?}");
    assert!(contains(&s, "n 5  0."), "each depth has five variants");
    // A cell's units are told apart by the factors the axes do not show (no seeds here).
    let cells: Vec<&String> = s.iter().filter(|l| l.contains("Adadelta")).collect();
    assert!(
        cells
            .iter()
            .any(|l| l.contains("Adadelta lr 1 dropout 0.2")),
        "optimizer and dropout beside the loss: {s:#?}"
    );
    assert!(!contains(&s, " s1 "), "one seed: no seed said: {s:#?}");
    assert!(contains(&s, "no residual degrees of freedom"), "{s:#?}");
    // Keys pick the factors and the metric.
    app.update(key(']'));
    let (s, _) = draw(&app, 160, 50);
    assert!(contains(&s, "columns: optimizer"), "{s:#?}");
    app.update(key('m'));
    let (s, _) = draw(&app, 160, 50);
    assert!(contains(&s, "colour: final test accuracy"));
}

#[test]
fn live_chart_shows_markers_and_the_overfitting_badge() {
    let mut app = finished_paper();
    let i = app
        .run
        .as_ref()
        .unwrap()
        .record
        .units
        .iter()
        .position(|v| v.spec.name == "5L adam none")
        .unwrap();
    app.selected = i;
    app.update(key('1'));
    let (s, _) = draw(&app, 140, 40);
    assert!(contains(&s, "overfitting"), "{s:#?}");
    assert!(contains(&s, "early stop patience 3"));
    assert!(contains(&s, "best"));
    assert!(contains(&s, "early stop"));
    app.update(key('+'));
    assert_eq!(app.charts.patience, 4);
    app.update(key('-'));
    app.update(key('-'));
    assert_eq!(app.charts.patience, 2);
}

/// A tiny data set whose first test image is a known digit-like pattern.
fn digits_app() -> App {
    let mut app = finished_paper();
    app.selected = 0;
    // Image 0: a vertical bar in columns 10..14 on rows 4..24 (a "1"); image 1: blank.
    let mut images = vec![0u8; 3 * PIXELS];
    for r in 4..24 {
        for c in 10..14 {
            images[r * 28 + c] = 255;
        }
    }
    // Row 3 only (upper half of text row 1) lit at columns 10..14.
    for c in 10..14 {
        images[3 * 28 + c] = 200;
    }
    let split = Split {
        images,
        labels: vec![1, 7, 3],
        pixels: PIXELS,
    };
    let data = Arc::new(Dataset::in_memory(
        "t".as_ref(),
        split.clone(),
        split,
        (28, 28),
        10,
    ));
    app.update(Msg::DigitsLoaded(Digits {
        variant: 0,
        name: "2L adam every".into(),
        data,
        predictions: vec![7, 7, 8],
        confidence: vec![0.61, 0.99, 0.55],
        true_filter: None,
        pred_filter: None,
        page: 0,
    }));
    app
}

#[test]
fn digits_view_draws_the_confusion_matrix_and_per_class_accuracy() {
    let mut app = digits_app();
    app.no_color = true;
    assert_eq!(app.view, View::Digits);
    let (s, _) = draw(&app, 140, 40);
    assert!(contains(&s, "2L adam every · confusion"));
    assert!(contains(&s, "true\\pred"));
    // True 1 predicted 7 once: row "1" has a 1 in column 7 and accuracy 0.000.
    assert!(
        contains(
            &s,
            "        1    0    0    0    0    0    0    0    1    0    0 0.000"
        ),
        "row of true class 1: one predicted as 7, accuracy 0: {s:#?}"
    );
    assert!(contains(&s, "1 of 3 correct"));
    assert!(contains(&s, "misclassified: 2"));
}

#[test]
fn digit_gallery_renders_a_known_digit_cell_by_cell() {
    let mut app = digits_app();
    app.no_color = true;
    let (s, buf) = draw(&app, 140, 40);
    let caption_y = s
        .iter()
        .position(|l| l.contains("#0 true 1 → 7 (61%)"))
        .expect("caption");
    let line: Vec<&str> = (0..140)
        .map(|x| buf[(x, caption_y as u16)].symbol())
        .collect();
    let x0 = (0..140)
        .find(|&x| line[x..].join("").starts_with("#0 true"))
        .unwrap() as u16;
    let y0 = caption_y as u16 + 1;
    for row in 0..14u16 {
        for col in 0..28u16 {
            let top = 2 * row as usize;
            let on =
                |r: usize| (10..14).contains(&(col as usize)) && ((4..24).contains(&r) || r == 3);
            let expected = match (on(top), on(top + 1)) {
                (true, true) => "█",
                (true, false) => "▀",
                (false, true) => "▄",
                (false, false) => " ",
            };
            assert_eq!(
                buf[(x0 + col, y0 + row)].symbol(),
                expected,
                "cell row {row} col {col}"
            );
        }
    }
    // With colour, each cell is '▀' with the upper pixel as foreground, the lower as background.
    app.no_color = false;
    let (_, buf) = draw(&app, 140, 40);
    let cell = &buf[(x0 + 11, y0 + 1)]; // pixel rows 2 (0) and 3 (200)
    assert_eq!(cell.symbol(), "▀");
    assert_eq!(cell.fg, ratatui::style::Color::Rgb(0, 0, 0));
    assert_eq!(cell.bg, ratatui::style::Color::Rgb(200, 200, 200));
}

#[test]
fn digit_filters_and_pages() {
    let mut app = digits_app();
    app.update(key('u')); // true class 0: no mistakes
    assert_eq!(app.digits.as_ref().unwrap().true_filter, Some(0));
    let (s, _) = draw(&app, 140, 40);
    assert!(contains(&s, "No mistakes with these filters"));
    app.update(key('u')); // true class 1
    let d = app.digits.as_ref().unwrap();
    assert_eq!(d.mistakes(), vec![0]);
    app.update(key('i'));
    app.update(key('i')); // predicted 1: none
    assert!(app.digits.as_ref().unwrap().mistakes().is_empty());
    app.update(Msg::Key(KeyEvent::from(KeyCode::Right)));
    assert_eq!(app.digits.as_ref().unwrap().page, 1);
}

#[test]
fn digits_need_saved_weights() {
    let p = preset::load("quick").unwrap();
    let mut app = App::new(Vec::new());
    app.update(Msg::Started(
        RunRecord::new(&p, Environment::detect("t")),
        None,
    ));
    assert!(app.update(key('5')).is_empty());
    assert!(app.message.as_ref().unwrap().1.contains("saved weights"));
    let mut app = finished_paper();
    app.selected = 3;
    assert_eq!(app.update(key('5')), vec![Effect::LoadDigits(3)]);
    assert_eq!(
        app.run.as_ref().unwrap().record.units[3].status,
        UnitStatus::Finished
    );
}

/// The digits view fits every size: at 120×40 the gallery shows at least four digits beside
/// the matrix, at 80×24 at least two (half size), and the title is never cut mid-word.
#[test]
fn the_digits_view_fits_80x24_and_120x40() {
    let n = 12;
    let mut images = vec![0u8; n * PIXELS];
    for k in 0..n {
        for r in 4..24 {
            images[k * PIXELS + r * 28 + 14] = 255;
        }
    }
    let split = Split {
        images,
        labels: vec![1; n],
        pixels: PIXELS,
    };
    let data = Arc::new(Dataset::in_memory(
        "t".as_ref(),
        split.clone(),
        split,
        (28, 28),
        10,
    ));
    let mut app = digits_app();
    app.update(Msg::DigitsLoaded(Digits {
        variant: 0,
        name: "2L adam every".into(),
        data,
        predictions: vec![7; n],
        confidence: vec![0.9; n],
        true_filter: None,
        pred_filter: None,
        page: 0,
    }));
    for (w, h, at_least) in [(120, 40, 4), (80, 24, 2)] {
        let (s, _) = draw(&app, w, h);
        let shown: usize = s
            .iter()
            .map(|l| l.matches("→ 7").count() + l.matches("1→7").count())
            .sum();
        assert!(shown >= at_least, "{w}x{h}: {shown} digits: {s:#?}");
        assert!(contains(&s, "\\p    0    1"), "{w}x{h}: the matrix: {s:#?}");
        assert!(
            contains(&s, " acc "),
            "{w}x{h}: the accuracy column: {s:#?}"
        );
        assert!(!contains(&s, "misclassi "), "{s:#?}");
    }
}

/// "evaluating…" goes when the digits arrive.
#[test]
fn the_evaluating_note_goes_when_the_digits_arrive() {
    let mut app = finished_paper();
    app.update(Msg::Info("evaluating…".into()));
    let d = digits_app().digits.unwrap();
    app.update(Msg::DigitsLoaded(d));
    assert_eq!(app.message, None);
}

/// A click on a cell of the confusion matrix shows that (true, predicted) pair in the
/// gallery; a second click on it shows every mistake again.
#[test]
fn clicking_a_matrix_cell_filters_the_gallery_to_that_pair() {
    use mnist_lab::tui::hits::Target;
    let mut app = digits_app();
    for (w, h) in [(160, 48), (80, 24)] {
        let (_, hits) = common::screen::drawn(&app, w, h);
        let at = hits
            .find(Target::Pair(1, 7))
            .unwrap_or_else(|| panic!("the 1→7 cell is clickable at {w}x{h}"));
        app.update(common::screen::click(&app, w, h, at.x + 1, at.y));
        let d = app.digits.as_ref().unwrap();
        assert_eq!((d.true_filter, d.pred_filter), (Some(1), Some(7)));
        // The count in that cell is the one mistake 1→7: the matrix row of true 1 holds it.
        let s = common::screen::draw(&app, w, h);
        assert!(s[at.y as usize].contains('1'), "{s:#?}");
        app.update(common::screen::click(&app, w, h, at.x + 1, at.y));
        let d = app.digits.as_ref().unwrap();
        assert_eq!((d.true_filter, d.pred_filter), (None, None));
    }
}

/// Digits of another data set: `n` test images of `rows`×`cols`, label i % `classes`, each
/// predicted as the next class (so every one is a mistake), image k lit in column k % cols.
fn other_digits_app(rows: usize, cols: usize, classes: usize, n: usize) -> App {
    let mut app = finished_paper();
    app.selected = 0;
    let pixels = rows * cols;
    let mut images = vec![0u8; n * pixels];
    for k in 0..n {
        for r in 0..rows {
            images[k * pixels + r * cols + k % cols] = 255;
        }
    }
    let labels: Vec<u8> = (0..n).map(|i| (i % classes) as u8).collect();
    let predictions: Vec<u8> = labels
        .iter()
        .map(|&l| ((l as usize + 1) % classes) as u8)
        .collect();
    let split = Split {
        images,
        labels,
        pixels,
    };
    let data = Arc::new(Dataset::in_memory(
        "other".as_ref(),
        split.clone(),
        split,
        (rows, cols),
        classes,
    ));
    app.update(Msg::DigitsLoaded(Digits {
        variant: 0,
        name: "2L adam every".into(),
        data,
        predictions,
        confidence: vec![0.5; n],
        true_filter: None,
        pred_filter: None,
        page: 0,
    }));
    app
}

/// 14×14 images of 5 classes: a 5×5 matrix, images 14 columns × 7 lines drawn pixel for
/// pixel, and the class filters cycle through the 5 classes only.
#[test]
fn the_digits_view_draws_14x14_images_of_5_classes() {
    let mut app = other_digits_app(14, 14, 5, 10);
    app.no_color = true;
    let (s, buf) = draw(&app, 120, 40);
    assert!(
        contains(&s, "true\\pred    0    1    2    3    4  acc"),
        "{s:#?}"
    );
    assert!(!contains(&s, "    4    5"), "no sixth class: {s:#?}");
    assert!(contains(&s, "0 of 10 correct"), "{s:#?}");
    // Image 0 (true 0, predicted 1): lit in column 0 on every row: a full block in the
    // image's first column, on each of its 7 lines, and nothing in its second.
    let caption_y = s
        .iter()
        .position(|l| l.contains("0→1 50%"))
        .unwrap_or_else(|| panic!("short caption of image 0: {s:#?}"));
    let x0 = (0..120u16)
        .find(|&x| {
            buf[(x, caption_y as u16)].symbol() == "0"
                && buf[(x + 1, caption_y as u16)].symbol() == "→"
        })
        .expect("caption start");
    for line in 0..7u16 {
        let y = caption_y as u16 + 1 + line;
        assert_eq!(buf[(x0, y)].symbol(), "█", "line {line}: {s:#?}");
        assert_eq!(buf[(x0 + 1, y)].symbol(), " ", "line {line}");
    }
    assert_eq!(
        buf[(x0, caption_y as u16 + 8)].symbol(),
        " ",
        "7 lines, no more"
    );
    for expected in [Some(0), Some(1), Some(2), Some(3), Some(4), None] {
        app.update(key('u'));
        assert_eq!(app.digits.as_ref().unwrap().true_filter, expected);
    }
}

/// 47 classes (EMNIST balanced) do not fit a matrix at 120×40: the view lists the most
/// frequent confusions instead, each a click that filters the gallery; on a screen large
/// enough the matrix comes back.
#[test]
fn a_matrix_too_large_for_the_screen_gives_way_to_a_list_of_confusions() {
    use mnist_lab::tui::hits::Target;
    let mut app = other_digits_app(28, 28, 47, 94);
    app.no_color = true;
    let (s, _) = draw(&app, 120, 40);
    assert!(contains(&s, "47 classes"), "{s:#?}");
    assert!(contains(&s, "0 of 94 correct"), "{s:#?}");
    assert!(contains(&s, "true → predicted  count"), "{s:#?}");
    // Every true class has two mistakes (to the next class): the first listed is 0 → 1.
    assert!(contains(&s, "     0 → 1           2"), "{s:#?}");
    let (_, hits) = common::screen::drawn(&app, 120, 40);
    let at = hits
        .find(Target::Pair(0, 1))
        .expect("the 0→1 line is clickable");
    app.update(common::screen::click(&app, 120, 40, at.x + 1, at.y));
    let d = app.digits.as_ref().unwrap();
    assert_eq!((d.true_filter, d.pred_filter), (Some(0), Some(1)));
    let (s, _) = draw(&app, 250, 70);
    assert!(
        contains(&s, "true\\pred  0  1  2"),
        "the matrix at 250x70: {s:#?}"
    );
    assert!(!contains(&s, "true → predicted"), "{s:#?}");
}

/// width-depth's nets of one width per layer are two factors on the factor view's axes,
/// and each cell's units are told apart by placement and seed.
#[test]
fn the_factor_view_puts_width_and_depth_on_its_axes() {
    let p = preset::load("width-depth").unwrap();
    let mut r = RunRecord::new(&p, Environment::detect("t"));
    for u in &mut r.units {
        let loss = 0.2 / u.spec.arch.hidden()[0] as f32 + 0.01 * u.spec.seed as f32;
        u.history.push(m(1, loss, loss, 1.0 - loss));
        u.status = UnitStatus::Finished;
    }
    let mut app = App::new(Vec::new());
    app.update(Msg::Started(r, None));
    app.update(key('4'));
    app.no_color = true;
    let (s, _) = draw(&app, 160, 48);
    assert!(
        contains(&s, "rows: width ([)  columns: depth (])"),
        "{s:#?}"
    );
    for level in ["64 wide", "1024 wide", "1 layer", "3 layers"] {
        assert!(contains(&s, level), "{level}: {s:#?}");
    }
    assert!(
        contains(&s, "Every s1") && contains(&s, "None s2"),
        "{s:#?}"
    );
    assert!(contains(&s, "width varies most"), "{s:#?}");
    // At 100x30 a cell has fewer lines than its 6 units: the last line says how many are
    // left out and the cell's mean (64 wide: 0.2/64 + 0.01 × mean seed 2 = 0.0231).
    let (s, _) = draw(&app, 100, 30);
    let more = s
        .iter()
        .find(|l| l.contains("more · avg 0.0231"))
        .unwrap_or_else(|| panic!("{s:#?}"));
    let hidden: usize = more
        .split('+')
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{more}"));
    let drawn = s
        .iter()
        .map(|l| l.matches(" s1").count() + l.matches(" s2").count() + l.matches(" s3").count())
        .sum::<usize>();
    assert_eq!(
        drawn + 9 * hidden,
        54,
        "every unit drawn or counted: {s:#?}"
    );
}

/// A run on another data set than the study's MNIST says which in the header, shorter
/// where the tabs leave less room; a run on MNIST says nothing.
#[test]
fn the_header_names_a_data_set_other_than_mnist() {
    let p = preset::load("quick").unwrap();
    let open = |sha: &str| {
        let mut r = RunRecord::new(&p, Environment::detect("t"));
        r.data = Some(mnist_lab::data::DataIdentity {
            sha256: sha.into(),
            train: 6000,
            test: 1000,
            name: "letters".into(),
            rows: 14,
            cols: 14,
            classes: 5,
        });
        let mut app = App::new(Vec::new());
        app.update(Msg::Started(r, None));
        app.no_color = true;
        app
    };
    let app = open("0123");
    let (s, _) = draw(&app, 160, 48);
    assert!(s[0].contains("· letters (14×14, 5 classes)"), "{}", s[0]);
    let (s, _) = draw(&app, 100, 30);
    assert!(
        s[0].contains("· letters ") && !s[0].contains("14×14"),
        "{}",
        s[0]
    );
    let app = open(mnist_lab::data::MNIST_SHA256);
    let (s, _) = draw(&app, 160, 48);
    assert!(!s[0].contains("letters"), "{}", s[0]);
}
