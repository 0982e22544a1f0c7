//! The TUI's state reducer, `App::update`, for every key and every engine event.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mnist_lab::engine::{Command, Event};
use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord, UnitStatus};
use mnist_lab::spec::{EpochMetrics, FailKind};
use mnist_lab::tui::app::{App, Confirm, Effect, Msg, PickerEntry, Screen, SortKey, View};

/// Saving is the Recorder's job on the engine thread (durable before the next unit starts),
/// so the reducer asks for no save effect when a unit ends; at the end of the run it asks the
/// runtime to finish the record (`Effect::FinishRun`).
const NO_EFFECTS: Vec<Effect> = Vec::new();

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::from(KeyCode::Char(c)))
}
fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::from(c))
}

fn picker() -> Vec<PickerEntry> {
    vec![
        PickerEntry {
            label: "quick.ron".into(),
            preset: preset::load("quick").map_err(|e| e.to_string()),
        },
        PickerEntry {
            label: "broken.ron".into(),
            preset: Err("broken.ron:1:2: expected a struct".into()),
        },
    ]
}

/// An app on the run screen with the quick preset's record (3 variants), nothing run yet.
fn running_app() -> App {
    let mut app = App::new(picker());
    let p = preset::load("quick").unwrap();
    app.update(Msg::Started(
        RunRecord::new(&p, Environment::detect("t")),
        None,
    ));
    app
}

fn metrics(epoch: usize, loss: f32) -> EpochMetrics {
    EpochMetrics {
        epoch,
        train_loss: loss,
        train_acc: 0.9,
        test_loss: loss * 0.9,
        test_acc: 0.95,
        seconds: 2.0,
        samples_per_sec: 10_000.0,
        ..Default::default()
    }
}

#[test]
fn picker_moves_wraps_and_starts_only_good_presets() {
    let mut app = App::new(picker());
    assert_eq!(app.screen, Screen::Picker);
    app.update(code(KeyCode::Down));
    assert_eq!(app.picker.selected, 1);
    app.update(key('j'));
    assert_eq!(app.picker.selected, 0, "wraps around");
    app.update(key('k'));
    assert_eq!(app.picker.selected, 1);
    // The broken preset shows its error instead of starting.
    assert!(app.update(code(KeyCode::Enter)).is_empty());
    assert!(app
        .message
        .as_ref()
        .unwrap()
        .1
        .contains("expected a struct"));
    app.update(code(KeyCode::Up));
    assert_eq!(app.update(code(KeyCode::Enter)), vec![Effect::Start(0)]);
}

#[test]
fn started_switches_to_the_live_view() {
    let app = running_app();
    assert_eq!(app.screen, Screen::Run);
    assert_eq!(app.view, View::Live);
    assert!(app.training());
}

#[test]
fn space_pauses_and_resumes_through_engine_events() {
    let mut app = running_app();
    assert_eq!(app.update(key(' ')), vec![Effect::Engine(Command::Pause)]);
    app.update(Msg::Engine(Event::Paused));
    assert!(app.run.as_ref().unwrap().paused);
    assert_eq!(app.update(key(' ')), vec![Effect::Engine(Command::Resume)]);
    app.update(Msg::Engine(Event::Resumed));
    assert!(!app.run.as_ref().unwrap().paused);
}

#[test]
fn skip_and_cancel_with_confirmation() {
    let mut app = running_app();
    assert_eq!(app.update(key('s')), vec![Effect::Engine(Command::Skip)]);
    assert!(app.update(key('c')).is_empty());
    assert_eq!(app.confirm, Some(Confirm::Cancel));
    assert!(app.update(key('n')).is_empty());
    assert_eq!(app.confirm, None);
    app.update(key('c'));
    assert_eq!(app.update(key('y')), vec![Effect::Engine(Command::Cancel)]);
    assert_eq!(app.confirm, None);
    // esc also dismisses a confirmation
    app.update(key('c'));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.confirm, None);
}

#[test]
fn quit_asks_while_training_and_not_after() {
    let mut app = running_app();
    assert!(app.update(key('q')).is_empty());
    assert_eq!(app.confirm, Some(Confirm::Quit));
    assert_eq!(app.update(key('y')), vec![Effect::Quit]);
    assert!(app.quitting);

    let mut app = running_app();
    app.update(Msg::Engine(Event::RunFinished { cancelled: false }));
    assert_eq!(app.update(key('q')), vec![Effect::Quit]);
}

#[test]
fn ctrl_c_quits_at_once_even_from_a_popup() {
    let mut app = running_app();
    app.update(key('?'));
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), vec![Effect::Quit]);
}

#[test]
fn views_switch_with_tab_and_digits_and_enter_focuses_live() {
    let mut app = running_app();
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Grid);
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Table);
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Factors);
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Pairs);
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Overlay);
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Live);
    app.update(key('7'));
    assert_eq!(app.view, View::Overlay);
    app.update(key('3'));
    assert_eq!(app.view, View::Table);
    app.update(key('2'));
    assert_eq!(app.view, View::Grid);
    app.update(key('1'));
    assert_eq!(app.view, View::Live);
    app.update(key('2'));
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Enter));
    assert_eq!((app.view, app.selected), (View::Live, 1));
}

#[test]
fn selection_moves_stops_following_and_f_follows_again() {
    let mut app = running_app();
    app.update(Msg::Engine(Event::UnitStarted {
        index: 1,
        name: "b".into(),
        epochs: 3,
        batches_per_epoch: 10,
    }));
    assert_eq!(app.selected, 1, "follows the running variant");
    app.update(key('k'));
    assert_eq!(app.selected, 0);
    assert!(!app.follow);
    app.update(code(KeyCode::Up));
    assert_eq!(app.selected, 2, "wraps");
    // In the live view ←/→ (h/l) move the epoch cursor, not the selection.
    app.update(key('l'));
    app.update(key('h'));
    assert_eq!(app.selected, 2);
    app.update(key('j'));
    assert_eq!(app.selected, 0);
    app.update(key('f'));
    assert_eq!((app.selected, app.follow), (1, true));
}

#[test]
fn help_opens_and_swallows_other_keys_until_closed() {
    let mut app = running_app();
    app.update(key('?'));
    assert!(app.help);
    assert!(
        app.update(key('s')).is_empty(),
        "keys do nothing under help"
    );
    app.update(code(KeyCode::Esc));
    assert!(!app.help);
    app.update(key('?'));
    app.update(key('?'));
    assert!(!app.help);
}

#[test]
fn log_scale_sort_and_export_keys() {
    let mut app = running_app();
    app.update(key('L'));
    assert!(app.charts.log_scale);
    app.update(key('L'));
    assert!(!app.charts.log_scale);
    // g and G go to the first and last unit, as Home and End do.
    app.update(key('G'));
    assert_eq!(app.selected, app.unit_count() - 1);
    app.update(key('g'));
    assert_eq!(app.selected, 0);
    // o sorts the table (and the grid's table); the live view has no order to change.
    app.update(key('o'));
    assert_eq!(app.table.sort, SortKey::Order);
    app.update(key('3'));
    use mnist_lab::spec::Metric;
    // Every result metric of the one list, in its order; the learning rate is not one.
    for expected in [
        SortKey::By(Metric::TestLoss),
        SortKey::By(Metric::TestAcc),
        SortKey::By(Metric::TrainLoss),
        SortKey::By(Metric::TrainAcc),
        SortKey::By(Metric::ValLoss),
        SortKey::By(Metric::ValAcc),
        SortKey::Name,
        SortKey::Order,
    ] {
        app.update(key('o'));
        assert_eq!(app.table.sort, expected);
    }
    assert_eq!(app.update(key('e')), vec![Effect::Export]);
}

#[test]
fn engine_events_fill_the_record_and_ask_for_saves() {
    let mut app = running_app();
    assert!(app
        .update(Msg::Engine(Event::RunStarted {
            preset: "quick".into(),
            variants: 3
        }))
        .is_empty());
    app.update(Msg::Engine(Event::UnitStarted {
        index: 0,
        name: "a".into(),
        epochs: 3,
        batches_per_epoch: 10,
    }));
    let run = app.run.as_ref().unwrap();
    assert_eq!(run.running, Some(0));
    assert_eq!(run.record.units[0].status, UnitStatus::Running);
    app.update(Msg::Engine(Event::Progress {
        index: 0,
        epoch: 1,
        batch: 5,
        batches: 10,
        running_loss: 0.8,
        batch_loss: 0.7,
        batch_losses: vec![],
        samples_per_sec: 1000.0,
    }));
    let run = app.run.as_ref().unwrap();
    assert_eq!(run.progress[0].unwrap().batch, 5);
    // The batch's own loss, not the epoch's running mean (an event without the list, as
    // older writers send, books its last batch).
    assert_eq!(run.record.units[0].batches.points, vec![(0.5f32, 0.7f32)]);
    assert!(run.eta_variant().unwrap() > 0.0);
    app.update(Msg::Engine(Event::EpochEnd {
        index: 0,
        metrics: metrics(1, 0.5),
    }));
    assert_eq!(app.run.as_ref().unwrap().record.units[0].history.len(), 1);
    assert_eq!(
        app.update(Msg::Engine(Event::UnitFinished {
            index: 0,
            seconds: 3.0,
            weights: None
        })),
        NO_EFFECTS
    );
    assert_eq!(app.run.as_ref().unwrap().running, None);
    app.update(Msg::Engine(Event::UnitStarted {
        index: 1,
        name: "b".into(),
        epochs: 3,
        batches_per_epoch: 10,
    }));
    let failed = Event::UnitFailed {
        index: 1,
        kind: FailKind::Diverged,
        epoch: Some(1),
        message: "loss became NaN".into(),
    };
    assert_eq!(app.update(Msg::Engine(failed)), NO_EFFECTS);
    assert_eq!(
        app.run.as_ref().unwrap().record.units[1].status,
        UnitStatus::Failed
    );
    assert_eq!(
        app.update(Msg::Engine(Event::UnitSkipped { index: 2 })),
        NO_EFFECTS
    );
    assert_eq!(app.run.as_ref().unwrap().best_unit(), Some(0));
    assert_eq!(
        app.update(Msg::Engine(Event::RunFinished { cancelled: false })),
        vec![Effect::FinishRun]
    );
    let run = app.run.as_ref().unwrap();
    assert!(run.finished && !app.training());
    assert!(app.message.as_ref().unwrap().1.contains("Run complete"));
    // After the run, esc goes back to the picker, and esc there returns to the run.
    app.update(code(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Picker);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Run);
}

#[test]
fn batch_loss_history_stays_bounded() {
    let mut app = running_app();
    app.update(Msg::Engine(Event::UnitStarted {
        index: 0,
        name: "a".into(),
        epochs: 3,
        batches_per_epoch: 10,
    }));
    for b in 0..5000 {
        app.update(Msg::Engine(Event::Progress {
            index: 0,
            epoch: 1,
            batch: b,
            batches: 5000,
            running_loss: 1.0,
            batch_loss: 1.0,
            batch_losses: vec![],
            samples_per_sec: 1.0,
        }));
    }
    let n = app.run.as_ref().unwrap().record.units[0]
        .batches
        .points
        .len();
    assert!(n <= mnist_lab::runs::batches::MAX_POINTS && n > 100, "{n}");
}

#[test]
fn sorting_orders_by_final_numbers() {
    let mut app = running_app();
    for (i, loss) in [(0, 0.3f32), (1, 0.1), (2, 0.2)] {
        app.update(Msg::Engine(Event::EpochEnd {
            index: i,
            metrics: metrics(1, loss),
        }));
        app.update(Msg::Engine(Event::UnitFinished {
            index: i,
            seconds: 1.0,
            weights: None,
        }));
    }
    assert_eq!(
        app.table.sorted_indices(&app.run.as_ref().unwrap().record),
        vec![0, 1, 2]
    );
    app.update(key('3'));
    app.update(key('o'));
    assert_eq!(
        app.table.sorted_indices(&app.run.as_ref().unwrap().record),
        vec![1, 2, 0]
    );
    // On through the other metrics (accuracy: all equal, stable) to the name.
    for _ in 0..10 {
        if app.table.sort == SortKey::Name {
            break;
        }
        app.update(key('o'));
    }
    assert_eq!(app.table.sort, SortKey::Name);
    let names: Vec<String> = app
        .table
        .sorted_indices(&app.run.as_ref().unwrap().record)
        .iter()
        .map(|&i| app.run.as_ref().unwrap().record.units[i].spec.name.clone())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn keys_without_meaning_do_nothing() {
    let mut app = running_app();
    let before = app.clone();
    assert!(app.update(key('z')).is_empty());
    assert_eq!(app, before);
    // After the run, pause / skip / cancel are inert.
    app.update(Msg::Engine(Event::RunFinished { cancelled: true }));
    assert!(app.update(key(' ')).is_empty());
    assert!(app.update(key('s')).is_empty());
    assert!(app.update(key('c')).is_empty());
    assert_eq!(app.confirm, None);
}

fn past_entries() -> Vec<mnist_lab::tui::app::PastEntry> {
    let p = preset::load("quick").unwrap();
    let mut done = RunRecord::new(&p, Environment::detect("t"));
    for v in &mut done.units {
        v.status = UnitStatus::Finished;
        v.history.push(metrics(1, 0.2));
    }
    let interrupted = RunRecord::new(&p, Environment::detect("t"));
    vec![
        mnist_lab::tui::app::PastEntry {
            dir: "runs/20260101-000000-quick".into(),
            record: Ok(done),
            title: None,
            link: false,
        },
        mnist_lab::tui::app::PastEntry {
            dir: "runs/20250101-000000-quick".into(),
            record: Ok(interrupted),
            title: None,
            link: false,
        },
        mnist_lab::tui::app::PastEntry {
            dir: "runs/broken".into(),
            record: Err("runs/broken/run.json: not a valid run file".into()),
            title: None,
            link: false,
        },
    ]
}

#[test]
fn past_runs_open_resume_and_compare_from_the_picker() {
    let mut app = App::new(picker());
    app.update(Msg::PastRuns(past_entries()));
    // Cursor moves from the presets into the past runs.
    app.update(key('j'));
    app.update(key('j'));
    assert_eq!(app.picker.selected_past(), Some(0));
    // A finished run cannot be resumed, an interrupted one can.
    assert!(app.update(key('r')).is_empty());
    assert!(app.message.as_ref().unwrap().1.contains("nothing left"));
    app.update(key('j'));
    assert_eq!(app.update(key('r')), vec![Effect::Resume(1)]);
    // A broken run shows its error when opened.
    app.update(key('j'));
    app.update(code(KeyCode::Enter));
    assert!(app
        .message
        .as_ref()
        .unwrap()
        .1
        .contains("not a valid run file"));
    // b marks a run for comparison, enter opens one read-only in the grid.
    app.update(key('k'));
    app.update(key('k'));
    app.update(key('b'));
    assert_eq!(app.compare[0].0, "20260101-000000-quick");
    app.update(code(KeyCode::Enter));
    assert_eq!((app.screen, app.view), (Screen::Run, View::Grid));
    assert!(!app.training());
    assert_eq!(app.run.as_ref().unwrap().done_count(), 3);
    // b in the run screen clears the comparison; esc goes back and asks for a fresh listing.
    app.update(key('b'));
    assert!(app.compare.is_empty());
    assert_eq!(app.update(code(KeyCode::Esc)), vec![Effect::RefreshRuns]);
    assert_eq!(app.screen, Screen::Picker);
}

#[test]
fn past_runs_cannot_replace_a_training_run() {
    let mut app = running_app();
    app.update(Msg::PastRuns(past_entries()));
    app.screen = Screen::Picker;
    app.picker.selected = app.picker.entries.len() + 1;
    assert!(app.update(code(KeyCode::Enter)).is_empty());
    assert!(app.message.as_ref().unwrap().1.contains("training"));
    assert!(app.update(key('r')).is_empty());
    assert!(app.training());
}

#[test]
fn every_action_has_a_key_in_the_one_table() {
    use mnist_lab::tui::keys::{action_for, Action, BINDINGS};
    let reachable: Vec<Action> = BINDINGS
        .iter()
        .flat_map(|b| b.map.iter().map(|m| m.1))
        .collect();
    let all = [
        Action::Quit,
        Action::Help,
        Action::TogglePause,
        Action::Skip,
        Action::Cancel,
        Action::Export,
        Action::NextView,
        Action::Show(View::Live),
        Action::Show(View::Grid),
        Action::Show(View::Table),
        Action::Up,
        Action::Down,
        Action::Left,
        Action::Right,
        Action::Enter,
        Action::Follow,
        Action::ToggleLog,
        Action::Sort,
        Action::Back,
        Action::Resume,
        Action::Compare,
        Action::Show(View::Factors),
        Action::Show(View::Digits),
        Action::Less,
        Action::More,
        Action::Metric,
        Action::PatienceUp,
        Action::PatienceDown,
        Action::Smooth,
        Action::FilterTrue,
        Action::FilterPredicted,
        Action::Yes,
        Action::No,
        Action::Rename,
        Action::Delete,
        Action::ExportView,
        Action::Filter,
    ];
    for a in all {
        assert!(reachable.contains(&a), "{a:?} has no key in BINDINGS");
    }
    // Each key of the table maps to its own action; a key listed in two places (help
    // says what it does in each view) means one action in both.
    let mut seen: Vec<(KeyCode, Action)> = Vec::new();
    for b in BINDINGS {
        for (code, action) in b.map {
            assert_eq!(
                action_for(KeyEvent::from(*code)),
                Some(*action),
                "{}",
                b.keys
            );
            if let Some((_, other)) = seen.iter().find(|(c, _)| c == code) {
                assert_eq!(other, action, "{code:?} bound to two actions");
            }
            seen.push((*code, *action));
        }
    }
}

#[test]
fn tab_cycles_the_views_in_header_order_and_passes_digits_by() {
    assert_eq!(View::Live.next_tab(), View::Grid);
    assert_eq!(View::Grid.next_tab(), View::Table);
    assert_eq!(View::Table.next_tab(), View::Factors);
    assert_eq!(View::Factors.next_tab(), View::Pairs);
    assert_eq!(View::Digits.next_tab(), View::Pairs);
    assert_eq!(View::Pairs.next_tab(), View::Overlay);
    assert_eq!(View::Overlay.next_tab(), View::Live);
    assert_eq!(View::all().map(View::label).next(), Some("1 live"));
}

/// The overlay draws raw curves unless asked (a curve then ends at the value its legend
/// gives); `t` there smooths the overlay only, and elsewhere the batch loss only.
#[test]
fn the_overlay_is_raw_by_default_and_t_smooths_only_the_view_it_is_pressed_in() {
    let mut app = running_app();
    assert!(!app.overlay.smooth);
    let batch_smoothing = app.charts.smooth;
    app.update(key('7'));
    app.update(key('t'));
    assert!(app.overlay.smooth);
    assert_eq!(
        app.charts.smooth, batch_smoothing,
        "the live chart's smoothing is untouched"
    );
    app.update(key('1'));
    app.update(key('t'));
    assert_eq!(app.charts.smooth, !batch_smoothing);
    assert!(app.overlay.smooth, "the overlay's smoothing is untouched");
}

/// A chart's legend goes to the right corner its curves' ends are far from.
#[test]
fn legends_go_where_the_curves_do_not_end() {
    use mnist_lab::tui::widgets::chart::{emptiest_corner, Series};
    use ratatui::widgets::LegendPosition;
    let accuracy = Series {
        test: vec![(1.0, 0.80), (2.0, 0.95), (3.0, 0.97)],
        x_max: 3.0,
        y: (0.0, 1.0),
        ..Default::default()
    };
    assert_eq!(
        emptiest_corner(&accuracy, (12, 4)),
        LegendPosition::BottomRight
    );
    let loss = Series {
        test: vec![(1.0, 0.9), (2.0, 0.3), (3.0, 0.1)],
        x_max: 3.0,
        y: (0.0, 1.0),
        ..Default::default()
    };
    assert_eq!(emptiest_corner(&loss, (12, 4)), LegendPosition::TopRight);
    // With the plot's size known, the corner covering fewest curve cells: here both right
    // corners hold a curve's end (the train end the legend once covered), the left ones none.
    let sized = Series {
        train: vec![(1.0, 0.5), (4.0, 0.5), (5.0, 0.95)],
        test: vec![(1.0, 0.5), (4.0, 0.5), (5.0, 0.05)],
        x_max: 5.0,
        y: (0.0, 1.0),
        rows: 20,
        cols: 60,
        ..Default::default()
    };
    assert_eq!(emptiest_corner(&sized, (14, 5)), LegendPosition::TopLeft);
    // Unsized, it would have covered the train curve's end.
    assert_eq!(
        emptiest_corner(
            &Series {
                rows: 0,
                cols: 0,
                ..sized
            },
            (14, 5)
        ),
        LegendPosition::TopRight
    );
}

/// Epoch axes start at the first epoch (at 0 only under a batch-loss line) and their ticks
/// sit on whole epochs: epochs 1–4 get 1 and 4, not a "2" at 2.5.
#[test]
fn epoch_axes_start_at_the_first_epoch_with_whole_ticks() {
    use mnist_lab::tui::widgets::chart::{epoch_labels, x_range, Series};
    let text = |a: f64, b: f64| -> Vec<String> {
        epoch_labels(a, b)
            .iter()
            .map(|s| s.content.to_string())
            .collect()
    };
    assert_eq!(text(1.0, 3.0), ["1", "2", "3"]);
    assert_eq!(text(1.0, 4.0), ["1", "4"]);
    assert_eq!(text(0.0, 3.0), ["0", "3"]);
    assert_eq!(text(0.5, 1.5), ["", "1", ""]);
    let finished = Series {
        test: vec![(1.0, 0.5), (2.0, 0.4), (3.0, 0.3)],
        x_max: 3.0,
        ..Default::default()
    };
    assert_eq!(x_range(&finished), (1.0, 3.0));
    let live = Series {
        batch: vec![(0.5, 1.0)],
        x_max: 3.0,
        ..Default::default()
    };
    assert_eq!(x_range(&live), (0.0, 3.0));
    let one = Series {
        x_max: 1.0,
        ..Default::default()
    };
    assert_eq!(x_range(&one), (0.5, 1.5));
}

/// "training started" goes at the first epoch; a refusal goes when the view changes.
#[test]
fn passing_notes_do_not_stay() {
    use mnist_lab::tui::app::{Level, TRAINING_STARTED};
    let mut app = running_app();
    app.update(Msg::Info(TRAINING_STARTED.into()));
    app.update(Msg::Engine(Event::EpochEnd {
        index: 0,
        metrics: metrics(1, 0.3),
    }));
    assert_eq!(app.message, None);
    app.update(Msg::Error("no weights for the digits view".into()));
    app.update(key('3'));
    assert_eq!(app.message, None);
    // Other notes stay until replaced.
    app.update(Msg::Info("exported".into()));
    app.update(key('2'));
    assert_eq!(app.message, Some((Level::Info, "exported".into())));
}

/// `tui quick` starts the picker's own quick line; it is not listed twice.
#[test]
fn a_preset_named_on_the_command_line_is_listed_once() {
    let (all, start) = mnist_lab::tui::runtime::picker_entries(None);
    assert_eq!(start, None);
    let (entries, start) = mnist_lab::tui::runtime::picker_entries(Some("quick"));
    assert_eq!(entries.len(), all.len(), "no second quick");
    let i = start.expect("quick is started");
    assert_eq!(entries[i].preset.as_ref().unwrap().name, "quick");
}

/// Home, End, PgUp and PgDn move in the picker and in a run's lists; M works in the picker.
#[test]
fn home_end_and_pages_move_in_lists_and_m_works_in_the_picker() {
    let mut app = running_app();
    let n = app.unit_count();
    app.update(code(KeyCode::End));
    assert_eq!(app.selected, n - 1);
    app.update(code(KeyCode::Home));
    assert_eq!(app.selected, 0);
    app.update(code(KeyCode::PageDown));
    assert_eq!(app.selected, (n - 1).min(10));
    app.update(code(KeyCode::PageUp));
    assert_eq!(app.selected, 0);

    let mut picker = App::new(mnist_lab::tui::runtime::picker_entries(None).0);
    let entries = picker.picker.entries.len();
    picker.update(code(KeyCode::End));
    assert_eq!(picker.picker.selected, entries - 1);
    picker.update(code(KeyCode::Home));
    assert_eq!(picker.picker.selected, 0);
    assert_eq!(picker.update(key('M')), vec![Effect::Mouse(false)]);
}

/// The live view and the grid answer their own keys; a key pressed where it does not work
/// changes nothing (help does not list it there either).
#[test]
fn view_keys_act_only_in_their_views() {
    let mut app = running_app();
    let p = app.charts.patience;
    app.update(key('+'));
    assert_eq!(app.charts.patience, p + 1, "live: + raises the patience");
    app.update(key('3'));
    app.update(key('+'));
    assert_eq!(app.charts.patience, p + 1, "the table has no patience");
    let shared = app.charts.shared_y;
    app.update(key('v'));
    assert_eq!(app.charts.shared_y, shared, "the table has no y-scale");
    app.update(key('2'));
    app.update(key('v'));
    assert_eq!(app.charts.shared_y, !shared, "grid: v toggles the scale");
    app.update(key('-'));
    app.update(key('-'));
    assert_eq!(app.charts.patience, p - 1, "grid: - lowers the patience");
    // o sorts the grid's table too.
    app.update(key('o'));
    assert_ne!(app.table.sort, SortKey::Order);
}

/// `d` in the picker: the selected preset trains on the other engine, and the detail says
/// which; a broken preset or a past run keeps what it has.
#[test]
fn d_in_the_picker_switches_the_engine_the_next_preset_trains_on() {
    use mnist_lab::spec::Engine;
    let mut app = App::new(picker());
    assert_eq!(app.picker.engine, None);
    let quick = app.picker.entries[0].preset.clone().unwrap();
    assert_eq!(app.picker.engine_for(&quick), Engine::Fast);
    assert_eq!(app.update(key('d')), NO_EFFECTS);
    assert_eq!(app.picker.engine, Some(Engine::Dfdx));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| {
            mnist_lab::tui::ui::render(&app, f);
        })
        .unwrap();
    let buf = terminal.backend().buffer().clone();
    let screen: Vec<String> = (0..40)
        .map(|y| (0..120).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect();
    assert!(
        screen.iter().any(|l| l.contains("engine: dfdx")),
        "{screen:#?}"
    );
    app.update(key('d'));
    assert_eq!(app.picker.engine, Some(Engine::Fast));
    // On the broken preset nothing changes.
    app.picker.selected = 1;
    app.update(key('d'));
    assert_eq!(app.picker.engine, Some(Engine::Fast));
}

/// What was said of a run is not carried into the picker (issue "The dashboard shows only what
/// is true", 11: "Run cancelled … e exports" stayed after esc, where `e` exports nothing).
#[test]
fn esc_to_the_picker_leaves_the_runs_message_behind() {
    let mut app = running_app();
    app.update(Msg::Engine(Event::RunFinished { cancelled: true }));
    let said = app
        .message
        .as_ref()
        .map(|m| m.1.clone())
        .unwrap_or_default();
    assert!(said.contains("e exports"), "{said}");
    assert_eq!(app.update(code(KeyCode::Esc)), vec![Effect::RefreshRuns]);
    assert_eq!(app.screen, Screen::Picker);
    assert_eq!(app.message, None);
}

/// A unit started again (resumed, retried) begins a new batch curve: the shared fold resets
/// it, for the saved record and the one shown alike.
#[test]
fn a_unit_started_again_starts_a_new_batch_curve() {
    use mnist_lab::session::Fold;
    let p = mnist_lab::preset::load("quick").unwrap();
    let mut record = RunRecord::new(&p, mnist_lab::runs::record::Environment::detect(""));
    let started = Event::UnitStarted {
        index: 0,
        name: "a".into(),
        epochs: 1,
        batches_per_epoch: 10,
    };
    record.apply(&started);
    record.apply(&Event::Progress {
        index: 0,
        epoch: 1,
        batch: 3,
        batches: 10,
        running_loss: 0.5,
        batch_loss: 0.4,
        batch_losses: vec![0.6, 0.5, 0.4],
        samples_per_sec: 1.0,
    });
    assert_eq!(record.units[0].batches.points.len(), 3);
    record.apply(&started);
    assert!(record.units[0].batches.is_empty());
}
