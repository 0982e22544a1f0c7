//! Render tests: every view drawn into ratatui's TestBackend, asserting on the buffer.

use crossterm::event::{KeyCode, KeyEvent};
use mnist_lab::engine::Event;
use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord};
use mnist_lab::spec::EpochMetrics;
use mnist_lab::tui::app::{App, Msg, PickerEntry};

mod common;
use common::screen::{cut_words, draw};
use mnist_lab::tui::ui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn contains(screen: &[String], needle: &str) -> bool {
    screen.iter().any(|l| l.contains(needle))
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::from(c))
}

fn picker_app() -> App {
    App::new(vec![
        PickerEntry {
            label: "<embedded>/paper-2019.ron".into(),
            preset: preset::load("paper-2019").map_err(|e| e.to_string()),
        },
        PickerEntry {
            label: "presets/broken.ron".into(),
            preset: Err("presets/broken.ron:3:7: Expected comma".into()),
        },
    ])
}

fn metrics(epoch: usize, loss: f32, acc: f32) -> EpochMetrics {
    EpochMetrics {
        epoch,
        train_loss: loss * 1.2,
        train_acc: acc - 0.01,
        test_loss: loss,
        test_acc: acc,
        seconds: 3.0,
        samples_per_sec: 20_000.0,
        ..Default::default()
    }
}

/// paper-2019 with variant 0 finished (3 epochs of 20 shown), variant 1 running.
fn paper_app() -> App {
    let mut app = picker_app();
    let p = preset::load("paper-2019").unwrap();
    app.update(Msg::Started(
        RunRecord::new(&p, Environment::detect("t")),
        None,
    ));
    app.update(Msg::Engine(Event::UnitStarted {
        index: 0,
        name: p.units[0].name.clone(),
        epochs: 20,
        batches_per_epoch: 469,
    }));
    for e in 1..=20 {
        app.update(Msg::Engine(Event::EpochEnd {
            index: 0,
            metrics: metrics(e, 0.2 / e as f32, 0.95 + e as f32 * 0.0015),
        }));
    }
    app.update(Msg::Engine(Event::UnitFinished {
        index: 0,
        seconds: 60.0,
        weights: None,
    }));
    app.update(Msg::Engine(Event::UnitStarted {
        index: 1,
        name: p.units[1].name.clone(),
        epochs: 20,
        batches_per_epoch: 469,
    }));
    app.update(Msg::Engine(Event::EpochEnd {
        index: 1,
        metrics: metrics(1, 0.15, 0.96),
    }));
    app.update(Msg::Engine(Event::Progress {
        index: 1,
        epoch: 2,
        batch: 200,
        batches: 469,
        running_loss: 0.12,
        batch_loss: 0.1,
        batch_losses: vec![],
        samples_per_sec: 19_000.0,
    }));
    app
}

#[test]
fn picker_lists_presets_with_estimates_and_shows_load_errors() {
    let mut app = picker_app();
    let s = draw(&app, 100, 30);
    assert!(contains(&s, "paper-2019"));
    assert!(contains(&s, "15 var"));
    assert!(
        contains(&s, "2L adam every"),
        "variants listed in the detail"
    );
    assert!(contains(&s, "estimated"));
    assert!(contains(&s, "broken.ron"));
    app.update(key(KeyCode::Down));
    let s = draw(&app, 100, 30);
    assert!(contains(&s, "This preset cannot be loaded"));
    assert!(contains(&s, "Expected comma"));
}

#[test]
fn live_view_shows_list_charts_numbers_and_etas() {
    let app = paper_app();
    let s = draw(&app, 120, 36);
    assert!(contains(&s, "paper-2019 · fast · 1/15 done"));
    assert!(contains(&s, "TRAINING"));
    assert!(contains(&s, "ETA"));
    assert!(contains(&s, "✓ 2L adam every"));
    assert!(contains(&s, "▶ 2L adam none"));
    assert!(contains(&s, "· 2L adadelta every"));
    assert!(contains(&s, "2L adam none · loss"));
    assert!(contains(&s, "batch 200/469"));
    assert!(contains(&s, "ETA variant"));
    assert!(contains(&s, "study: loss 0.100 acc 0.98"));
    assert!(contains(&s, "accuracy"));
    // The footer comes from the key table.
    assert!(contains(&s, "space pause"));
}

#[test]
fn live_view_log_scale_and_paused_header() {
    let mut app = paper_app();
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('L'))));
    app.update(Msg::Engine(Event::Paused));
    let s = draw(&app, 120, 36);
    assert!(contains(&s, "loss (log)"));
    assert!(contains(&s, "PAUSED"));
}

#[test]
fn grid_shows_a_cell_per_variant_and_the_studys_table() {
    let mut app = paper_app();
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('2'))));
    let s = draw(&app, 200, 60);
    assert!(contains(&s, "✓ 2L adam every"));
    assert!(contains(&s, "running"));
    assert!(contains(&s, "queued"));
    // Final numbers of the finished variant in its cell: 0.2/20 = 0.0100, 0.95+0.03 = 0.98.
    assert!(contains(&s, "L 0.0100 A 0.9800"));
    assert!(contains(&s, "study loss"));
    assert!(contains(&s, "BN+Dropout"));
    // Every variant appears (cells or table rows).
    for v in &app.run.as_ref().unwrap().record.units {
        assert!(contains(&s, &v.spec.name), "{} missing", v.spec.name);
    }
}

#[test]
fn grid_scrolls_to_keep_the_selection_visible_at_80x24() {
    let mut app = paper_app();
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('2'))));
    for _ in 0..13 {
        app.update(key(KeyCode::Down));
    }
    let s = draw(&app, 80, 24);
    assert!(contains(&s, "rows"), "scroll hint shown: {s:#?}");
    // The selected variant's cell is on screen: drawn, and clickable where it was drawn.
    let selected = app.selected;
    assert!(selected >= 13, "{selected}");
    let (_, hits) = common::screen::drawn(&app, 80, 24);
    let cell = hits
        .find(mnist_lab::tui::hits::Target::Unit(selected))
        .expect("the selected cell is drawn");
    assert!(cell.y + cell.height <= 24 && cell.height > 0, "{cell:?}");
    let below = hits.find(mnist_lab::tui::hits::Target::Unit(0));
    assert!(below.is_none(), "the first row scrolled away: {below:?}");
}

#[test]
fn table_view_sorts_and_marks_the_best() {
    let mut app = paper_app();
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('3'))));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('o'))));
    let s = draw(&app, 130, 30);
    assert!(contains(&s, "sorted by test loss"));
    let first_row = s.iter().position(|l| l.contains("2L adam every")).unwrap();
    let queued_row = s.iter().position(|l| l.contains("5L adam last")).unwrap();
    assert!(first_row < queued_row);
    assert!(contains(&s, "0.0100"));
}

#[test]
fn help_overlay_lists_every_key_that_works_here() {
    use mnist_lab::tui::app::View;
    use mnist_lab::tui::keys::{Scope, BINDINGS};
    // A run training here, on each view: the keys of a run, and of that view only.
    let mut app = paper_app();
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('?'))));
    for view in View::all() {
        app.view = view;
        let s = draw(&app, 120, 48);
        assert!(contains(&s, " keys "));
        for b in BINDINGS {
            let here = b.scope != Scope::Picker && (b.views.is_empty() || b.views.contains(&view));
            assert_eq!(
                contains(&s, b.help),
                here,
                "{view:?} help and {:?}: {s:#?}",
                b.help
            );
        }
    }
    // Concretely: pin and hide only in the overlay, the digit filters only in digits.
    app.view = View::Live;
    let s = draw(&app, 120, 48);
    assert!(!contains(&s, "pin / hide"), "{s:#?}");
    assert!(!contains(&s, "filter by true"), "{s:#?}");
    app.view = View::Overlay;
    assert!(contains(&draw(&app, 120, 48), "pin / hide"));
    // ←/→ say what they do in each view: the epoch cursor in the overlay, pages in digits.
    let s = draw(&app, 120, 48);
    assert!(contains(&s, "epoch cursor"), "{s:#?}");
    assert!(!contains(&s, "page"), "{s:#?}");
    app.view = View::Digits;
    assert!(contains(
        &draw(&app, 120, 48),
        "previous / next page of the gallery"
    ));
    // The picker's help has no pause, skip or digit filters; its footer no pause either.
    let mut picker = picker_app();
    picker.update(Msg::Key(KeyEvent::from(KeyCode::Char('?'))));
    let s = draw(&picker, 100, 40);
    assert!(!contains(&s, "pause / resume training"), "{s:#?}");
    assert!(!contains(&s, "filter by true"), "{s:#?}");
    assert!(contains(&s, "resume an interrupted past run"), "{s:#?}");
    assert!(contains(&s, "name the selected past run"), "{s:#?}");
    assert!(contains(&s, "next sort order"), "{s:#?}");
}

/// After DONE, the footer and help offer no pause, skip or cancel, and space says why.
#[test]
fn a_finished_run_offers_no_pause_skip_or_cancel() {
    let mut app = paper_app();
    let s = draw(&app, 120, 40);
    assert!(contains(&s, " space pause "), "training: {s:#?}");
    app.update(Msg::Engine(Event::RunFinished { cancelled: false }));
    let s = draw(&app, 120, 40);
    assert!(contains(&s, "DONE"), "{s:#?}");
    for word in [" pause ", " skip ", " cancel "] {
        assert!(
            !s.last().unwrap().contains(word),
            "footer offers{word}: {s:#?}"
        );
    }
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('?'))));
    let s = draw(&app, 100, 40);
    assert!(!contains(&s, "pause / resume training"), "{s:#?}");
}

#[test]
fn confirm_popup_is_drawn() {
    let mut app = paper_app();
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('q'))));
    let s = draw(&app, 100, 30);
    assert!(contains(&s, "confirm"));
    assert!(contains(&s, "y yes"));
}

#[test]
fn too_small_terminal_says_so() {
    let app = paper_app();
    let s = draw(&app, 60, 20);
    assert!(s.join("").contains("Terminal too small"));
    assert!(s.join("").contains("60x20"));
}

#[test]
fn no_color_draws_without_colours() {
    let mut app = paper_app();
    let mut coloured = Terminal::new(TestBackend::new(120, 36)).unwrap();
    coloured
        .draw(|f| {
            ui::render(&app, f);
        })
        .unwrap();
    assert!(
        coloured
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset),
        "colours are used by default"
    );
    app.no_color = true;
    let mut terminal = Terminal::new(TestBackend::new(120, 36)).unwrap();
    terminal
        .draw(|f| {
            ui::render(&app, f);
        })
        .unwrap();
    let buf = terminal.backend().buffer();
    assert!(buf
        .content()
        .iter()
        .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset));
}

#[test]
fn every_size_up_to_200x60_renders_without_panicking() {
    let app = paper_app();
    for w in (1..=200).step_by(7) {
        for h in (1..=60).step_by(5) {
            draw(&app, w, h);
        }
    }
}

#[test]
fn grid_puts_a_past_run_beside_the_current_one() {
    let mut app = paper_app();
    let p = preset::load("quick").unwrap();
    let mut other = RunRecord::new(&p, Environment::detect("t"));
    other.units[0].status = mnist_lab::runs::UnitStatus::Finished;
    // A loss far above any of this run's: the one scale must reach it.
    other.units[0].history.push(metrics(1, 0.9333, 0.9111));
    app.compare = vec![("20250101-000000-quick".into(), other)];
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('2'))));
    let s = draw(&app, 200, 60);
    assert!(contains(&s, "this run · paper-2019"));
    assert!(contains(&s, "compare · 20250101-000000-quick"));
    assert!(contains(&s, "L 0.9333 A 0.9111"));
    assert!(contains(&s, "L 0.0100 A 0.9800"));
    // One y-scale means one scale across the runs (issue "The dashboard shows only what is
    // true", 4): every cell's top label, this run's and the compared run's, is the same.
    let (buf, hits) = common::screen::drawn(&app, 200, 60);
    let tops: std::collections::BTreeSet<String> =
        (0..app.run.as_ref().unwrap().record.units.len())
            .filter_map(|i| hits.find(mnist_lab::tui::hits::Target::Unit(i)))
            .map(|cell| {
                // The label sits on the cell's chart's first row, at its left edge.
                (cell.y..cell.y + cell.height)
                    .find_map(|y| {
                        let row: String =
                            (cell.x..cell.x + 6).map(|x| buf[(x, y)].symbol()).collect();
                        let t: String = row
                            .trim_start_matches(['│', ' '])
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.')
                            .collect();
                        (t.len() == 4 && t.chars().nth(1) == Some('.')).then_some(t)
                    })
                    .unwrap_or_default()
            })
            .filter(|t| !t.is_empty())
            .collect();
    let first = hits.find(mnist_lab::tui::hits::Target::Unit(0)).unwrap();
    let rows: Vec<String> = (first.y..first.y + first.height)
        .map(|y| {
            (first.x..first.x + first.width)
                .map(|x| buf[(x, y)].symbol())
                .collect()
        })
        .collect();
    assert_eq!(tops.len(), 1, "{tops:?} {rows:#?}");
    let top = tops.into_iter().next().unwrap();
    let top: f64 = top.parse().unwrap();
    assert!(
        top >= 0.93,
        "the compared run's 0.9333 is inside the one scale: {top}"
    );
    // A cell says its own last epoch: the compared unit trained one epoch.
    assert!(contains(&s, "ep 1"), "{s:#?}");
}

#[test]
fn picker_lists_past_runs_and_their_details() {
    let mut app = picker_app();
    let p = preset::load("quick").unwrap();
    app.update(Msg::PastRuns(vec![mnist_lab::tui::app::PastEntry {
        dir: "runs/20250101-000000-quick".into(),
        record: Ok(RunRecord::new(&p, Environment::detect("t"))),
        title: None,
        link: false,
    }]));
    app.picker.selected = 2;
    let s = draw(&app, 120, 30);
    assert!(contains(&s, "past runs"));
    assert!(contains(&s, "20250101-000000-quick"));
    assert!(contains(&s, "interrupted: r resumes it"));
}

#[test]
fn help_at_the_minimum_terminal_scrolls_to_every_key() {
    let mut app = paper_app();
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('?'))));
    let s = draw(&app, 80, 24);
    // At 80x24 the table does not fit: it starts at the first binding and says it scrolls.
    assert!(contains(&s, "select a preset"));
    assert!(contains(&s, "↑↓ scroll"));
    assert!(!contains(&s, "ctrl-c"));
    for _ in 0..40 {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Down)));
    }
    let s = draw(&app, 80, 24);
    assert!(contains(&s, "ctrl-c"), "{s:#?}");
    // Once the size is known, ↓ stops at the last page: one ↑ then scrolls back at once.
    app.update(Msg::Resize(24));
    for _ in 0..40 {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Down)));
    }
    app.update(Msg::Key(KeyEvent::from(KeyCode::Up)));
    assert!(
        !contains(&draw(&app, 80, 24), "ctrl-c"),
        "one ↑ leaves the last line"
    );
    assert!(
        contains(&s, "quit now (finished variants are on disk)"),
        "{s:#?}"
    );
}

#[test]
fn control_characters_in_names_never_reach_the_terminal_in_any_view() {
    let p = common_preset_with_name("evil\u{1b}[2J\nname");
    let mut app = picker_app();
    app.update(Msg::Started(
        RunRecord::new(&p, Environment::detect("t")),
        None,
    ));
    for k in ['1', '2', '3', '4'] {
        app.update(key(KeyCode::Char(k)));
        let screen = draw(&app, 120, 36);
        assert!(
            !screen.iter().any(|l| l.chars().any(char::is_control)),
            "view {k}: {screen:?}"
        );
        assert!(
            k == '4' || contains(&screen, "evil"),
            "view {k} shows the name"
        );
    }
}

fn common_preset_with_name(name: &str) -> preset::Preset {
    let text = format!(
        "(name: \"c\", variants: [(name: {name:?}, arch: \"256\"), (name: \"plain\", arch: \"256\")])"
    );
    preset::parse("c.ron", &text).unwrap()
}

/// A past run of `preset` whose every unit finished with final test loss `loss`.
fn past_run(name: &str, preset_name: &str, loss: f32) -> mnist_lab::tui::app::PastEntry {
    let p = preset::load(preset_name).unwrap();
    let mut r = RunRecord::new(&p, Environment::detect("data/mnist"));
    for v in &mut r.units {
        v.status = mnist_lab::runs::UnitStatus::Finished;
        v.seconds = Some(10.0);
        v.history.push(EpochMetrics {
            epoch: 1,
            test_loss: loss,
            test_acc: 1.0 - loss,
            ..Default::default()
        });
    }
    r.complete = true;
    mnist_lab::tui::app::PastEntry {
        dir: format!("runs/{name}").into(),
        record: Ok(r),
        title: None,
        link: false,
    }
}

#[test]
fn past_runs_form_a_table_sorted_with_o_and_filtered_by_typing() {
    let mut app = picker_app();
    app.update(Msg::PastRuns(vec![
        past_run("20260103-quick", "quick", 0.30),
        past_run("20260102-paper", "paper-2019", 0.05),
        past_run("20260101-quick", "quick", 0.10),
    ]));
    let s = draw(&app, 160, 40);
    assert!(contains(&s, "best loss"), "{s:#?}");
    assert!(contains(&s, "past runs 3/3 · by newest (o)"), "{s:#?}");
    let row = |s: &[String], name: &str| s.iter().position(|l| l.contains(name)).unwrap();
    assert!(row(&s, "20260103-quick") < row(&s, "20260101-quick"));
    // The row of the paper run: 15/15 units, best loss 0.0500, accuracy 0.9500.
    let paper = &s[row(&s, "20260102-paper")];
    assert!(paper.contains("15/15") && paper.contains("0.0500") && paper.contains("0.9500"));

    // o sorts by best test loss.
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('o'))));
    let s = draw(&app, 160, 40);
    assert!(contains(&s, "by best test loss"), "{s:#?}");
    assert!(row(&s, "20260102-paper") < row(&s, "20260101-quick"));
    assert!(row(&s, "20260101-quick") < row(&s, "20260103-quick"));

    // / then typing filters (name, preset or data set); esc clears the filter.
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('/'))));
    for c in "pap".chars() {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char(c))));
    }
    let s = draw(&app, 160, 40);
    assert!(contains(&s, "past runs 1/3"), "{s:#?}");
    assert!(contains(&s, "filter: pap█"), "{s:#?}");
    assert!(!contains(&s, "20260101-quick"));
    // While filtering, letters are text, not keys: q did not quit.
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('q'))));
    assert!(!app.quitting);
    app.update(Msg::Key(KeyEvent::from(KeyCode::Backspace)));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
    assert!(contains(&draw(&app, 160, 40), "filter: pap (/)"));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('/'))));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
    assert!(contains(&draw(&app, 160, 40), "past runs 3/3"));
    // At 80 columns the table keeps whole columns only, and no word is cut, also while
    // typing a filter and with a past run selected (its detail beside the table).
    let s = draw(&app, 80, 24);
    assert!(contains(&s, "best loss"), "{s:#?}");
    assert_eq!(cut_words(&app), Vec::<String>::new(), "{s:#?}");
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('/'))));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('q'))));
    assert_eq!(
        cut_words(&app),
        Vec::<String>::new(),
        "{:#?}",
        draw(&app, 80, 24)
    );
    app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
    app.picker.selected = app.picker.entries.len();
    assert_eq!(
        cut_words(&app),
        Vec::<String>::new(),
        "{:#?}",
        draw(&app, 80, 24)
    );
}

#[test]
fn several_past_runs_open_together_beside_the_grid_and_in_the_overlay() {
    let mut app = paper_app();
    app.update(Msg::PastRuns(vec![
        past_run("20260103-quick", "quick", 0.30),
        past_run("20260101-quick", "quick", 0.10),
    ]));
    // In the picker, b on each past run adds it; b again on the first takes it out and back.
    app.screen = mnist_lab::tui::app::Screen::Picker;
    let first_past = app.picker.entries.len();
    for k in [first_past, first_past + 1, first_past, first_past] {
        app.picker.selected = k;
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('b'))));
    }
    let names: Vec<&str> = app.compare.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["20260101-quick", "20260103-quick"]);
    app.screen = mnist_lab::tui::app::Screen::Run;
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('2'))));
    let s = draw(&app, 200, 60);
    assert!(contains(&s, "this run · paper-2019"), "{s:#?}");
    assert!(contains(&s, "compare · 20260101-quick"), "{s:#?}");
    assert!(contains(&s, "compare · 20260103-quick"), "{s:#?}");
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('7'))));
    let s = draw(&app, 200, 60);
    assert!(contains(&s, "[20260101-quick]"), "{s:#?}");
    assert!(contains(&s, "[20260103-quick]"), "{s:#?}");
}

/// Two variants with seeds added until decided (2 to start, at most 6).
fn until_preset() -> preset::Preset {
    preset::parse(
        "<test>",
        r#"(name: "u", defaults: (arch: "256", epochs: 1, validation: Test,
            seeds: Until(min: 2, max: 6, half_width: 0.0001)),
            variants: [(name: "a"), (name: "b", dropout: 0.3)])"#,
    )
    .unwrap()
}

/// `seeds: Until`: the end of a round asks the runtime for the next one instead of finishing;
/// the new round's units join the run, and the header names the round.
#[test]
fn a_run_with_seeds_until_decided_goes_on_in_rounds() {
    use mnist_lab::insight::rounds;
    use mnist_lab::tui::app::Effect;
    let p = until_preset();
    let mut app = picker_app();
    let mut record = RunRecord::new(&p, Environment::detect("t"));
    app.update(Msg::Started(record.clone(), None));
    let screen = draw(&app, 120, 40);
    assert!(contains(&screen, "round 1 (≤ 6 seeds)"), "{screen:#?}");
    for (i, loss) in [0.30, 0.31, 0.32, 0.30].into_iter().enumerate() {
        let v = &mut record.units[i];
        v.status = mnist_lab::runs::UnitStatus::Finished;
        v.history.push(metrics(1, loss, 0.9));
        app.update(Msg::Engine(Event::UnitStarted {
            index: i,
            name: v.spec.name.clone(),
            epochs: 1,
            batches_per_epoch: 1,
        }));
        app.update(Msg::Engine(Event::EpochEnd {
            index: i,
            metrics: metrics(1, loss, 0.9),
        }));
        app.update(Msg::Engine(Event::UnitFinished {
            index: i,
            seconds: 1.0,
            weights: None,
        }));
    }
    let effects = app.update(Msg::Engine(Event::RunFinished { cancelled: false }));
    assert_eq!(effects, vec![Effect::NextRound]);
    assert!(
        app.training(),
        "not finished while the next round is decided"
    );
    let d = rounds::decide(&record, &p.until.unwrap());
    let grown = rounds::grow(&record, &d).unwrap_or_else(|| panic!("{d:?}"));
    app.update(Msg::RoundStarted(grown.clone(), "round 2: …".into()));
    assert_eq!(app.unit_count(), grown.units.len());
    let screen = draw(&app, 120, 40);
    assert!(contains(&screen, "round 2 (≤ 6 seeds)"), "{screen:#?}");
    assert!(contains(&screen, "a · s3"), "{screen:#?}");
    // At 80 columns the round gives way to the view tabs: the current view stays named.
    app.update(key(KeyCode::Char('7')));
    let narrow = draw(&app, 80, 24);
    assert!(contains(&narrow, "7 overlay"), "{narrow:#?}");
    let effects = app.update(Msg::RoundsEnded(Some("no more rounds".into())));
    assert_eq!(effects, vec![Effect::FinishRun]);
    assert!(!app.training());
}

/// A followed folder whose manifest another writer grew by a round shows the new units.
#[test]
fn a_watched_run_takes_in_a_round_another_writer_added() {
    use mnist_lab::insight::rounds;
    let p = until_preset();
    let mut record = RunRecord::new(&p, Environment::detect("t"));
    for (v, loss) in record.units.iter_mut().zip([0.30, 0.31, 0.32, 0.30]) {
        v.status = mnist_lab::runs::UnitStatus::Finished;
        v.history.push(metrics(1, loss, 0.9));
    }
    let dir = std::path::PathBuf::from("/nonexistent/run");
    let mut app = picker_app();
    app.update(Msg::OpenWatched(mnist_lab::runs::watch::Snapshot {
        dir: dir.clone(),
        record: Ok(record.clone()),
        writers: vec!["h-1".into()],
    }));
    let grown = rounds::grow(&record, &rounds::decide(&record, &p.until.unwrap())).unwrap();
    app.update(Msg::Watched(mnist_lab::runs::watch::Snapshot {
        dir,
        record: Ok(grown.clone()),
        writers: vec!["h-1".into()],
    }));
    assert_eq!(app.unit_count(), grown.units.len());
    let screen = draw(&app, 120, 40);
    assert!(contains(&screen, "round 2 (≤ 6 seeds)"), "{screen:#?}");
    assert!(!contains(&screen, "unit list changed"), "{screen:#?}");
}

/// A message longer than the screen is wrapped, never cut (80×24 and 120×40).
#[test]
fn a_long_message_is_never_cut() {
    let text = "Run saved in /tmp/some/where/runs/20261201-130649-quick. Run complete. e exports, \
                2 shows the grid, esc returns to the picker.";
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = paper_app();
        app.update(Msg::Info(text.into()));
        let s = draw(&app, w, h);
        let shown: String = s.join(" ");
        for word in text.split_whitespace() {
            assert!(shown.contains(word), "{w}x{h}: {word:?} is cut: {s:#?}");
        }
    }
}

/// The picker answers clicks (a line selects, a second click opens), marks the runs in the
/// comparison, shows a run's name, and asks before deleting one, by its name.
#[test]
fn the_picker_takes_clicks_names_runs_marks_compared_ones_and_asks_before_deleting() {
    use mnist_lab::tui::app::{Confirm, Effect, Screen};
    use mnist_lab::tui::hits::Target;
    let mut app = picker_app();
    let mut named = past_run("20260101-000000-quick", "quick", 0.2);
    named.title = Some("baseline after the fix".into());
    app.update(Msg::PastRuns(vec![
        named,
        past_run("20250101-000000-quick", "quick", 0.3),
    ]));
    let (w, h) = (120, 40);
    let s = draw(&app, w, h);
    assert!(contains(&s, "baseline after the fix"), "{s:#?}");
    // A click on the first past run's line selects it; a second click opens it.
    let (_, hits) = common::screen::drawn(&app, w, h);
    let at = hits
        .find(Target::Entry(2))
        .expect("the first past run is clickable");
    app.update(common::screen::click(&app, w, h, at.x + 1, at.y));
    assert_eq!(app.picker.selected_past(), Some(0));
    assert_eq!(app.screen, Screen::Picker);
    app.update(common::screen::click(&app, w, h, at.x + 1, at.y));
    assert_eq!(app.screen, Screen::Run, "a second click opens the run");
    app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
    assert_eq!(app.screen, Screen::Picker);
    // A click on a preset selects it.
    let at = hits.find(Target::Entry(0)).unwrap();
    app.update(common::screen::click(&app, w, h, at.x + 2, at.y));
    assert_eq!(app.picker.selected, 0);

    // b on the second run: marked in the table.
    app.picker.selected = 3;
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('b'))));
    let s = draw(&app, w, h);
    let row = s.iter().find(|l| l.contains("2025-01-01")).unwrap();
    assert!(row.contains("◆ 2025-01-01"), "{row:?}");
    assert!(!s.iter().any(|l| l.contains("◆ baseline")), "{s:#?}");

    // n: a name typed in a prompt; enter asks the runtime to store it.
    assert!(app
        .update(Msg::Key(KeyEvent::from(KeyCode::Char('n'))))
        .is_empty());
    for c in "wide".chars() {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char(c))));
    }
    assert!(contains(&draw(&app, w, h), "wide█"));
    assert_eq!(
        app.update(Msg::Key(KeyEvent::from(KeyCode::Enter))),
        vec![Effect::Rename(
            "runs/20250101-000000-quick".into(),
            "wide".into()
        )]
    );
    // D on the run shown now is refused; on another it asks, naming it: n answers no, y
    // deletes.
    app.picker.selected = 2;
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('D'))));
    assert_eq!(app.confirm, None);
    assert!(app.message.as_ref().unwrap().1.contains("is open"));
    app.picker.selected = 3;
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('D'))));
    assert!(
        matches!(&app.confirm, Some(Confirm::Delete(_, n)) if n == "20250101-000000-quick"),
        "{:?}",
        app.confirm
    );
    let s = draw(&app, w, h);
    assert!(
        contains(&s, "Delete the run 20250101-000000-quick"),
        "{s:#?}"
    );
    assert!(app
        .update(Msg::Key(KeyEvent::from(KeyCode::Char('n'))))
        .is_empty());
    assert_eq!(app.confirm, None);
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('D'))));
    assert_eq!(
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('y')))),
        vec![Effect::Delete("runs/20250101-000000-quick".into())]
    );
    // A run the store holds as a symbolic link: D says so at once and asks nothing.
    app.picker
        .past
        .iter_mut()
        .find(|p| p.dir.ends_with("20250101-000000-quick"))
        .unwrap()
        .link = true;
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('D'))));
    assert_eq!(app.confirm, None);
    let said = &app.message.as_ref().unwrap().1;
    assert!(
        said.contains("is a symbolic link") && said.contains("will not be deleted"),
        "{said}"
    );
}

/// The preset detail is a table with headers; a long preset ends in "… N more" instead of
/// being cut; the estimate says where its speed comes from.
#[test]
fn the_preset_detail_is_a_table_with_headers_and_says_how_many_more() {
    let mut app = App::new(vec![PickerEntry {
        label: "<embedded>/placement-grid.ron".into(),
        preset: preset::load("placement-grid").map_err(|e| e.to_string()),
    }]);
    app.update(Msg::PastRuns(Vec::new()));
    let n = app.picker.entries[0].preset.as_ref().unwrap().units.len();
    for (w, h) in [(80, 24), (120, 40), (160, 48)] {
        let s = draw(&app, w, h);
        // The unit column always; more columns as they fit whole.
        let header = s
            .iter()
            .position(|l| l.contains("│unit ") && (w < 120 || l.contains("arch")))
            .unwrap_or_else(|| panic!("{w}x{h}: {s:#?}"));
        let (more_row, more) = s
            .iter()
            .enumerate()
            .find_map(|(y, l)| {
                let at = l.find("… ")?;
                let rest = &l[at + "… ".len()..];
                Some((y, rest.split(' ').next()?.parse::<usize>().ok()?))
            })
            .unwrap_or_else(|| panic!("{w}x{h}: no '… N more': {s:#?}"));
        // The rows between the header and the "… N more" line, plus N, make every unit.
        assert_eq!(more_row - header - 1 + more, n, "{w}x{h}: {s:#?}");
        assert!(contains(&s, "assumed"), "{w}x{h}: {s:#?}");
    }
}

/// Estimates use the speed this machine's past runs measured (their FLOPs over their
/// seconds); runs of another CPU are left out; with none, the assumed speed, said so.
#[test]
fn estimates_use_the_speed_past_runs_measured_on_this_cpu() {
    use mnist_lab::tui::state::{DataSizes, Rate, ASSUMED_FLOPS};
    let p = preset::load("quick").unwrap();
    let mut here = RunRecord::new(&p, Environment::detect("t"));
    here.environment.cpu_model = Some("cpu A".into());
    let mut flops = 0.0;
    for u in &mut here.units {
        let (train, test) = u.spec.images(60_000, 10_000);
        flops += u
            .spec
            .arch
            .epoch_flops(mnist_lab::spec::Io::MNIST, train, test);
        // Trained two at a time (`--jobs 2`): each on half the cores.
        u.history.push(mnist_lab::spec::EpochMetrics {
            epoch: 1,
            seconds: 2.0,
            threads: Some(1),
            ..Default::default()
        });
    }
    here.environment.threads = 2;
    let seconds = 1.0 * here.units.len() as f64;
    let mut elsewhere = here.clone();
    elsewhere.environment.cpu_model = Some("cpu B".into());
    for u in &mut elsewhere.units {
        u.history[0].seconds = 1000.0;
    }
    // Epochs that do not say their threads (older runs) are left out.
    let mut older = here.clone();
    for u in &mut older.units {
        u.history[0].threads = None;
        u.history[0].seconds = 1000.0;
    }
    // A run the dfdx engine trained (slower) says nothing of the fast path's speed.
    let mut on_dfdx = here.clone();
    on_dfdx.engine = mnist_lab::spec::Engine::Dfdx;
    for u in &mut on_dfdx.units {
        u.history[0].seconds = 1000.0;
    }
    let rate = Rate::measured(
        [&here, &elsewhere, &older, &on_dfdx].into_iter(),
        Some("cpu A"),
    );
    assert!(
        (rate.flops - flops / seconds).abs() / rate.flops < 1e-9,
        "{rate:?}"
    );
    assert_eq!(rate.epochs, here.units.len());
    assert!(rate.source().contains("past epochs here"));
    // Each network at its own speed: quick's two architectures, each measured.
    assert_eq!(rate.by_arch.len(), 2, "{rate:?}");
    let none = Rate::measured([&elsewhere].into_iter(), Some("cpu A"));
    assert_eq!(none.flops, ASSUMED_FLOPS);
    assert!(none.source().contains("assumed"));
    // The picker's estimate follows the rate: twice the speed, half the time.
    let entry = PickerEntry {
        label: "quick".into(),
        preset: Ok(p),
    };
    let slow = entry
        .estimate_seconds_for(DataSizes::default(), &rate)
        .unwrap();
    let doubled = Rate {
        flops: 2.0 * rate.flops,
        epochs: 1,
        by_arch: rate
            .by_arch
            .iter()
            .map(|(a, f)| (a.clone(), 2.0 * f))
            .collect(),
        model: mnist_lab::estimate::TimeModel {
            per_image: rate.model.per_image / 2.0,
            per_first: rate.model.per_first / 2.0,
            per_rest: rate.model.per_rest / 2.0,
            fitted: rate.model.fitted,
        },
    };
    let fast = entry
        .estimate_seconds_for(DataSizes::default(), &doubled)
        .unwrap();
    assert!((slow / fast - 2.0).abs() < 1e-9);
    // A network measured slower than the mean is estimated at its own speed.
    let mut one_slow = rate.clone();
    one_slow.by_arch[0].1 /= 10.0;
    let arch = one_slow.by_arch[0].0.clone();
    assert!((one_slow.for_arch(&arch) - rate.for_arch(&arch) / 10.0).abs() < 1e-6);
    assert_eq!(one_slow.for_arch("1024-1024"), rate.flops);
    assert!(
        entry
            .estimate_seconds_for(DataSizes::default(), &one_slow)
            .unwrap()
            > slow
    );
}

/// WCAG contrast ratio of two sRGB colours.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let lum = |(r, g, b): (u8, u8, u8)| {
        let ch = |v: u8| {
            let c = v as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
    };
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// `--theme light`: every colour drawn on every view reads on white (contrast ≥ 3:1, the
/// WCAG level for graphics and large text), and none of the dark theme's named colours (a
/// yellow that vanishes on white) is left.
#[test]
fn the_light_theme_draws_only_colours_that_read_on_white() {
    use mnist_lab::tui::app::View;
    use ratatui::style::Color;
    let mut app = paper_app();
    app.light = true;
    for (w, h) in [(80, 24), (160, 48)] {
        for view in View::all() {
            app.view = view;
            let buf = common::screen::buffer(&app, w, h);
            // Digit images are drawn in greys on greys (foreground and background): pictures,
            // not text.
            for cell in buf.content().iter().filter(|c| c.bg == Color::Reset) {
                match cell.fg {
                    Color::Reset => {}
                    Color::Rgb(r, g, b) => assert!(
                        contrast((r, g, b), (255, 255, 255)) >= 3.0,
                        "{view:?} {w}x{h}: {:?} on white, at {:?}",
                        cell.fg,
                        cell.symbol()
                    ),
                    other => {
                        panic!("{view:?} {w}x{h}: a named colour {other:?} in the light theme")
                    }
                }
            }
        }
    }
    // The theme flag parses: COLORFGBG "0;15" (black on white) is light, "15;0" dark.
    use mnist_lab::cli::ThemeChoice;
    assert!(ThemeChoice::Auto.light(Some("0;15")));
    assert!(ThemeChoice::Auto.light(Some("0;default;7")));
    assert!(!ThemeChoice::Auto.light(Some("15;0")));
    assert!(!ThemeChoice::Auto.light(None));
    assert!(ThemeChoice::Light.light(None) && !ThemeChoice::Dark.light(Some("0;15")));
}

/// Each role has its own colour: validation, warnings and the early-stop line are no longer
/// one yellow, and the smoothed batch loss is not dark blue on black.
#[test]
fn roles_have_their_own_colours_in_both_themes() {
    use mnist_lab::tui::theme::Theme;
    use ratatui::style::Color;
    for light in [false, true] {
        let t = Theme { color: true, light };
        let fgs = [
            t.val().fg,
            t.warn().fg,
            t.marker().fg,
            t.train().fg,
            t.test().fg,
            t.smooth().fg,
        ];
        let distinct: std::collections::BTreeSet<String> =
            fgs.iter().map(|c| format!("{c:?}")).collect();
        assert_eq!(distinct.len(), fgs.len(), "light {light}: {fgs:?}");
        assert_ne!(t.smooth().fg, Some(Color::Blue));
    }
    // Without colour: no colour at all.
    let plain = Theme {
        color: false,
        light: true,
    };
    assert_eq!(plain.val().fg, None);
}

/// After `s`, the header and the picker's runs table count the same: finished units, the
/// skipped one said beside the header's count (once 6/6 there against 5/6 in the picker).
#[test]
fn the_header_and_the_runs_table_count_the_same_units() {
    let mut app = paper_app();
    app.update(Msg::Engine(Event::UnitSkipped { index: 1 }));
    let s = draw(&app, 160, 48);
    assert!(
        s[0].contains("1/15 done (1 skipped or failed)"),
        "{:?}",
        s[0]
    );
    let record = app.run.as_ref().unwrap().record.clone();
    let mut picker = picker_app();
    picker.update(Msg::PastRuns(vec![mnist_lab::tui::app::PastEntry {
        dir: "runs/20260101-000000-paper-2019".into(),
        record: Ok(record),
        title: None,
        link: false,
    }]));
    let s = draw(&picker, 160, 48);
    assert!(contains(&s, " 1/15 r "), "{s:#?}");
}

/// A past run's detail says what it trained with (the overrides: epochs, seeds, subsets);
/// the filter's typing hint goes when the typing ends.
#[test]
fn past_runs_show_what_they_trained_with_and_the_filter_hint_goes() {
    let mut app = picker_app();
    let p = preset::load("quick").unwrap();
    let p = mnist_lab::session::apply_overrides(
        p,
        &mnist_lab::session::Overrides {
            epochs: Some(7),
            seeds: Some(2),
            train_subset: Some(3000),
            ..Default::default()
        },
    )
    .unwrap();
    app.update(Msg::PastRuns(vec![mnist_lab::tui::app::PastEntry {
        dir: "runs/20250101-000000-quick".into(),
        record: Ok(RunRecord::new(&p, Environment::detect("t"))),
        title: None,
        link: false,
    }]));
    app.picker.selected = 2;
    let s = draw(&app, 160, 48);
    assert!(
        contains(
            &s,
            "epochs 7 · seeds 2 · 3000 training images · all test images"
        ),
        "{s:#?}"
    );
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('/'))));
    assert!(app.message.as_ref().unwrap().1.contains("type to filter"));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('2'))));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
    assert_eq!(app.message, None);
    assert_eq!(app.picker.past.len(), 1);
}

/// A watched run says who writes it now: once its writers are gone (or it is complete), the
/// header and space no longer speak of "2 writing now".
#[test]
fn a_watch_that_ended_no_longer_counts_writers() {
    let p = preset::load("quick").unwrap();
    let mut record = RunRecord::new(&p, Environment::detect("t"));
    record.layout = Some(2);
    let dir = std::path::PathBuf::from("/nonexistent/run");
    let snap = |record: &RunRecord, writers: &[&str]| mnist_lab::runs::watch::Snapshot {
        dir: dir.clone(),
        record: Ok(record.clone()),
        writers: writers.iter().map(|w| w.to_string()).collect(),
    };
    let space = || Msg::Key(KeyEvent::from(KeyCode::Char(' ')));
    let mut app = picker_app();
    app.update(Msg::OpenWatched(snap(&record, &["h-1", "h-2"])));
    app.update(Msg::Watched(snap(&record, &["h-1", "h-2"])));
    assert!(draw(&app, 120, 40)[0].contains("watching (2 writers)"));
    app.update(space());
    assert!(app.message.as_ref().unwrap().1.contains("2 writing now"));
    // The writers died (their locks are free): nobody writes it now.
    app.update(Msg::Watched(snap(&record, &[])));
    let s = draw(&app, 120, 40);
    assert!(s[0].contains("watching (0 writers)"), "{:?}", s[0]);
    app.update(space());
    let said = &app.message.as_ref().unwrap().1;
    assert!(
        said.contains("not training") && !said.contains("writing now"),
        "{said}"
    );
    // Complete, with the last writers still holding their locks as they save: DONE.
    for v in &mut record.units {
        v.status = mnist_lab::runs::UnitStatus::Finished;
    }
    record.complete = true;
    app.update(Msg::Watched(snap(&record, &["h-1", "h-2"])));
    let s = draw(&app, 120, 40);
    assert!(
        s[0].contains("DONE") && !s[0].contains("writers"),
        "{:?}",
        s[0]
    );
    app.update(space());
    assert!(app.message.as_ref().unwrap().1.contains("not training"));
}

/// The live batch line's EMA follows the batches it smooths (issue "The dashboard shows only
/// what is true", 1): fed every batch's loss through progress events of a few batches each,
/// from batch 50 on its last point stays within 20% of the mean of the last 20 batch losses,
/// also after the points were merged to stay bounded; and the weight is in the legend.
#[test]
fn the_batch_ema_stays_with_the_last_batches() {
    use mnist_lab::tui::state::RunView;
    use mnist_lab::tui::widgets::chart::{loss_series_with, Extras};
    let p = preset::load("quick").unwrap();
    let mut run = RunView::new(RunRecord::new(&p, Environment::detect("t")), None);
    let batches = 500;
    let epochs = 3;
    run.on_event(Event::UnitStarted {
        index: 0,
        name: run.record.units[0].spec.name.clone(),
        epochs,
        batches_per_epoch: batches,
    });
    // A loss falling from 2.3 to about 0.1 with ±30% batch-to-batch noise (deterministic).
    let loss_at = |i: usize| {
        let level = 0.1 + 2.2 * (-(i as f64) / 150.0).exp();
        let noise = ((i * 7919 % 101) as f64 / 100.0 - 0.5) * 0.6;
        (level * (1.0 + noise)) as f32
    };
    let mut all = Vec::new();
    let mut checked = 0;
    for epoch in 1..=epochs {
        let mut b = 0;
        while b < batches {
            let n = 7.min(batches - b);
            let losses: Vec<f32> = (0..n)
                .map(|k| loss_at((epoch - 1) * batches + b + k))
                .collect();
            all.extend(losses.iter().map(|&l| l as f64));
            b += n;
            run.on_event(Event::Progress {
                index: 0,
                epoch,
                batch: b,
                batches,
                running_loss: 1.0,
                batch_loss: *losses.last().unwrap(),
                batch_losses: losses,
                samples_per_sec: 1000.0,
            });
            if all.len() < 50 {
                continue;
            }
            let weight = 0.9;
            let s = loss_series_with(
                &run.record.units[0],
                &run.record.units[0].batches.xy(),
                false,
                Some(Extras {
                    smooth: true,
                    patience: 3,
                    weight,
                    weight_per_point: run.record.units[0].batches.weight_per_point(weight),
                }),
            );
            let drawn = s.smooth.last().unwrap().1;
            let last20 = all[all.len() - 20..].iter().sum::<f64>() / 20.0;
            assert!(
                (drawn - last20).abs() <= 0.2 * last20,
                "batch {}: EMA {drawn:.4}, mean of the last 20 {last20:.4}",
                all.len()
            );
            assert_eq!(s.smooth_name, "batch EMA 0.90");
            checked += 1;
        }
    }
    assert!(
        run.record.units[0].batches.span > 1,
        "the points were merged at least once"
    );
    assert!(checked > 200, "{checked}");
}

/// Without colour the live view's raw batch losses are dots under the braille EMA, so the two
/// can be told apart (with colour, a fainter colour does it).
#[test]
fn without_colour_raw_batch_losses_are_dots_under_the_ema() {
    let mut app = paper_app();
    let running = app
        .run
        .as_ref()
        .unwrap()
        .running
        .expect("a unit is running");
    app.selected = running;
    app.update(Msg::Engine(Event::Progress {
        index: running,
        epoch: 2,
        batch: 40,
        batches: 40,
        running_loss: 0.3,
        batch_loss: 0.25,
        batch_losses: (0..40).map(|b| 0.4 - b as f32 * 0.004).collect(),
        samples_per_sec: 1000.0,
    }));
    app.no_color = true;
    let s = draw(&app, 120, 36);
    assert!(s.iter().any(|l| l.contains('•')), "{s:#?}");
    app.no_color = false;
    let s = draw(&app, 120, 36);
    assert!(!s.iter().any(|l| l.contains('•')), "{s:#?}");
}

/// A `seeds: Until` preset is estimated as a range, from the seeds listed to the most its
/// rounds may reach (issue "The dashboard shows only what is true", 10), in the picker and
/// in `list`.
#[test]
fn an_until_preset_is_estimated_as_a_range() {
    use mnist_lab::estimate::{range_text, DataSizes, Rate};
    let p = preset::parse(
        "<t>",
        r#"(name: "u", defaults: (arch: "128-64", epochs: 2,
            seeds: Until(min: 2, max: 6, half_width: 0.01)),
            variants: [(name: "a"), (name: "b")])"#,
    )
    .unwrap();
    let rate = Rate::default();
    let (lo, hi) = rate.preset_range(&p, DataSizes::default());
    assert!(
        (hi / lo - 3.0).abs() < 1e-9,
        "6 seeds at most over 2 listed: {lo} {hi}"
    );
    assert!(range_text((lo, hi)).contains('–'));
    let mut app = App::new(vec![PickerEntry {
        label: "u.ron".into(),
        preset: Ok(p),
    }]);
    app.update(Msg::PastRuns(Vec::new()));
    let s = draw(&app, 160, 48);
    assert!(
        contains(&s, &format!("estimated {}", range_text((lo, hi)))),
        "{s:#?}"
    );
}

/// The runs table says what each run trained with (issue "The dashboard shows only what is
/// true", 8 and 11): its key settings as a column, an interrupted run's time from its epochs
/// (it was "0m00s"), and a long data folder's name shortened, not the column dropped.
#[test]
fn the_runs_table_shows_key_settings_real_times_and_keeps_its_data_column() {
    let mut done = past_run("20250101-000000-quick", "quick", 0.1);
    let mut cut = past_run("20250102-000000-quick", "quick", 0.2);
    if let Ok(r) = &mut cut.record {
        r.overrides = vec!["--arch".into(), "1000-300".into()];
        r.environment.data_dir = "/data/a-very-long-data-set-folder-name".into();
        for u in &mut r.units {
            u.status = mnist_lab::runs::UnitStatus::Interrupted;
            u.seconds = None;
            u.history[0].seconds = 7.0;
        }
    }
    if let Ok(r) = &mut done.record {
        r.environment.data_dir = "data/mnist".into();
    }
    let mut app = App::new(vec![PickerEntry {
        label: "quick".into(),
        preset: Ok(preset::load("quick").unwrap()),
    }]);
    app.update(Msg::PastRuns(vec![done, cut]));
    let s = draw(&app, 250, 40);
    assert!(contains(&s, "settings"), "{s:#?}");
    assert!(contains(&s, "fast 3ep ×1 --arch 1000-300"), "{s:#?}");
    // 3 units × 7 s of epochs.
    assert!(contains(&s, "0m21s"), "{s:#?}");
    assert!(contains(&s, "a-very-long…"), "{s:#?}");
    assert!(contains(&s, "mnist"), "{s:#?}");
}

/// The picker's estimates after any mix of earlier runs are within ±25% of the measured time
/// (issue 40, 8): the epoch times of `quick`, `paper-2019` and `width-depth` measured on a
/// 2-core AMD EPYC (tests/fixtures/epoch-times-amd.csv, each run alone: 0.8 s, 222 s and
/// 314 s) make the history, every non-empty mix of them in turn.
#[test]
fn estimates_after_any_mix_of_past_runs_are_within_a_quarter_of_the_measured_time() {
    use mnist_lab::estimate::{DataSizes, Rate};
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/epoch-times-amd.csv"),
    )
    .unwrap();
    let names = ["quick", "paper-2019", "width-depth"];
    let measured = [0.8, 222.0, 314.0];
    let runs: Vec<RunRecord> = names
        .iter()
        .map(|name| {
            let p = preset::load(name).unwrap();
            let mut r = RunRecord::new(&p, Environment::detect("t"));
            r.environment.cpu_model = Some("ref".into());
            r.environment.threads = 2;
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let f: Vec<&str> = line.split(',').collect();
                if f[0] != *name {
                    continue;
                }
                let unit: usize = f[1].parse().unwrap();
                r.units[unit].history.push(EpochMetrics {
                    epoch: f[2].parse().unwrap(),
                    seconds: f[3].parse().unwrap(),
                    threads: Some(f[4].parse().unwrap()),
                    ..Default::default()
                });
            }
            assert!(r.units.iter().all(|u| !u.history.is_empty()), "{name}");
            r
        })
        .collect();
    let presets: Vec<_> = names.iter().map(|n| preset::load(n).unwrap()).collect();
    for mix in 1..8usize {
        let past: Vec<&RunRecord> = (0..3)
            .filter(|k| mix & (1 << k) != 0)
            .map(|k| &runs[k])
            .collect();
        let rate = Rate::measured(past.into_iter(), Some("ref"));
        for (k, p) in presets.iter().enumerate() {
            let est = rate.preset_seconds(p, DataSizes::default());
            let err = est / measured[k] - 1.0;
            let history: Vec<&str> = (0..3)
                .filter(|j| mix & (1 << j) != 0)
                .map(|j| names[j])
                .collect();
            eprintln!(
                "after {history:?}: {} ≈ {est:.1} s against {} s ({:+.0}%)",
                names[k],
                measured[k],
                err * 100.0
            );
            assert!(
                err.abs() <= 0.25,
                "after {history:?}: {} estimated {est:.1} s, measured {} s",
                names[k],
                measured[k]
            );
        }
    }
}
