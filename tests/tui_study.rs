//! Render tests of the study features: seed bands in the grid, CIs in the table, the pairwise
//! view, the ANOVA table of a balanced grid, validation and learning rate in the live view.

mod common;

use crossterm::event::{KeyCode, KeyEvent};
use mnist_lab::engine::Event;
use mnist_lab::spec::EpochMetrics;
use mnist_lab::tui::app::{App, Msg, View};

use common::fixtures::{finished, with_digits};
use common::screen::{buffer, cut_words, draw};

fn contains(screen: &[String], needle: &str) -> bool {
    screen.iter().any(|l| l.contains(needle))
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::from(KeyCode::Char(c)))
}

const TWO: &str = r#"(name: "t", defaults: (arch: "128-64", seeds: 3, epochs: 4),
    variants: [(name: "good", placement: Every), (name: "bad", placement: None)])"#;

/// "good" ends near 0.05 and "bad" near 0.10, with seed noise of ±0.004 (±0.006 for bad: the
/// same seed pushes both the same way, not by the same amount).
fn two_app() -> App {
    finished(TWO, 4, |g, k, e| {
        let end = if g == 0 { 0.05 } else { 0.10 };
        end * 4.0 / e as f32 + (k as f32 - 1.0) * 0.004 * (1.0 + g as f32 * 0.5)
    })
}

#[test]
fn grid_cells_draw_the_mean_with_the_seed_band() {
    let mut app = two_app();
    let groups = mnist_lab::insight::stats::variant_groups(&app.run.as_ref().unwrap().record);
    app.selected = groups[0][1];
    app.update(key('2'));
    assert_eq!(app.view, View::Grid);
    let s = draw(&app, 120, 30);
    // One cell per variant (not per unit), mean ± sd and n on its summary line.
    assert!(contains(&s, " good "), "{s:#?}");
    assert!(!contains(&s, "good · s"), "units are not cells: {s:#?}");
    assert!(contains(&s, "L 0.0500±0.0040 n3/3"), "{s:#?}");
    assert!(contains(&s, "band min–max"), "the band says what it is");
    // The band is drawn: the cell's chart has more braille cells than the mean line alone.
    let mut single = finished(TWO, 4, |g, _, e| {
        let end = if g == 0 { 0.05 } else { 0.10 };
        end * 4.0 / e as f32
    });
    single.update(key('2'));
    let braille = |s: &[String]| {
        s.iter()
            .flat_map(|l| l.chars())
            .filter(|c| ('\u{2801}'..='\u{28ff}').contains(c))
            .count()
    };
    assert!(
        braille(&s) > braille(&draw(&single, 120, 30)),
        "no band drawn"
    );
    // ↓ moves to the next variant, not the next seed.
    app.update(Msg::Key(KeyEvent::from(KeyCode::Down)));
    assert_eq!(app.selected, groups[1][0]);
}

#[test]
fn the_table_shows_confidence_intervals_and_a_significant_best() {
    let mut app = two_app();
    app.update(key('3'));
    let s = draw(&app, 160, 24);
    assert!(contains(&s, "95% CI"), "{s:#?}");
    assert!(contains(&s, "0.0500 ± 0.0040"), "{s:#?}");
    // t(2) quantile 4.303 × 0.004/√3 = 0.0099: CI [0.0401, 0.0599].
    assert!(contains(&s, "[0.0401, 0.0599]"), "{s:#?}");
    assert!(
        contains(
            &s,
            "best on validation loss: good; no other variant could be better"
        ),
        "{s:#?}"
    );
}

#[test]
fn overlapping_variants_are_tied_not_best() {
    let mut app = finished(TWO, 4, |g, k, _| {
        0.05 + g as f32 * 0.001 + ((k * (g + 1)) % 3) as f32 * 0.01
    });
    app.update(key('3'));
    let s = draw(&app, 160, 24);
    assert!(contains(&s, "could be best on validation loss"), "{s:#?}");
    assert!(
        contains(&s, "★ good") && contains(&s, "★ bad"),
        "both in the set: {s:#?}"
    );
}

#[test]
fn the_pairwise_view_gives_the_difference_its_ci_and_p() {
    let mut app = two_app();
    app.selected = 0;
    app.update(key('6'));
    assert_eq!(app.view, View::Pairs);
    let s = draw(&app, 140, 24);
    assert!(contains(&s, "A  good"), "{s:#?}");
    assert!(contains(&s, "B  bad"), "{s:#?}");
    // good − bad = −0.05 on average, paired seed by seed.
    assert!(
        contains(&s, "test loss: -0.0500 (A − B), 95% CI [-0.0"),
        "{s:#?}"
    );
    // One pair's raw p is not called "a real difference" (issue "Conclusions that survive a
    // referee, round two", 8): it says what it is, and the test it rests on.
    assert!(contains(&s, "under 0.05 for this pair alone"), "{s:#?}");
    assert!(!contains(&s, "a real difference"), "{s:#?}");
    assert!(contains(&s, "3 seeds, paired t-test only"), "{s:#?}");
    assert!(contains(&s, "Holm over 1"), "{s:#?}");
    // ] picks the other variant; with two variants it stays "bad".
    app.update(key(']'));
    let s = draw(&app, 140, 24);
    assert!(contains(&s, "B  bad"), "{s:#?}");
}

#[test]
fn a_balanced_grid_gets_an_anova_table_in_the_factor_view() {
    let text = r#"(name: "g", defaults: (seeds: 2, epochs: 2),
        grid: (arch: ["512-128", "512-256-128"], placement: [Every, None]))"#;
    // Placement matters (0.05), depth a little (0.01), plus seed noise.
    let mut app = finished(text, 2, |g, k, _| {
        let (depth, placement) = (g / 2, g % 2);
        0.05 + depth as f32 * 0.01 + placement as f32 * 0.05 + k as f32 * 0.003 * (1 + g) as f32
    });
    app.update(key('4'));
    let s = draw(&app, 160, 50);
    assert!(contains(&s, "ANOVA (test loss)"), "{s:#?}");
    // Every seed trained every cell: each term has its own seed × term error, "df/err".
    assert!(contains(&s, "own seed error (G-G)"), "{s:#?}");
    assert!(
        contains(&s, "depth × BN+Dropout "),
        "no term cut short: {s:#?}"
    );
    assert!(contains(&s, "1/1"), "{s:#?}");
    assert!(contains(&s, "[0."), "main effects carry CIs: {s:#?}");
}

#[test]
fn the_live_view_shows_validation_and_the_learning_rate() {
    let text = r#"(name: "s", defaults: (arch: "128-64", epochs: 4,
        schedule: Step(every: 2, gamma: 0.5), optimizer: Adam(lr: 0.01)), variants: [(name: "a")])"#;
    let mut app = finished(text, 4, |_, _, e| 0.1 / e as f32);
    app.update(key('1'));
    let s = draw(&app, 140, 40);
    assert!(contains(&s, "val   loss"), "{s:#?}");
    // Epoch 4 of Step(every 2, ×0.5) from 0.01: epochs 3 and 4 train at 0.005.
    assert!(contains(&s, "lr 5.00e-3 (step ×0.5/2)"), "{s:#?}");
}

const BARS: &str = "▁▂▃▄▅▆▇█";

fn is_bar(s: &[String], x: usize, y: usize) -> bool {
    s[y].chars().nth(x).is_some_and(|c| BARS.contains(c))
}

/// The title names the bars' scale only where a cell has room to draw them: at 80×24 a
/// grid of three seeds per cell gives each unit one line and no bar.
#[test]
fn the_factor_title_names_bars_only_where_they_are_drawn() {
    let text = r#"(name: "g", defaults: (epochs: 4, seeds: 3),
        grid: (arch: ["256", "512-128", "512-256-128"], placement: [Every, None, First]))"#;
    let mut app = finished(text, 4, |_, _, e| 0.1 * (5 - e) as f32);
    app.update(key('4'));
    let small = draw(&app, 80, 24);
    assert!(
        !(0..small.len()).any(|y| (0..80).any(|x| is_bar(&small, x, y))),
        "no bars at 80x24: {small:#?}"
    );
    assert!(!contains(&small, "bars:"), "{small:#?}");
    let large = draw(&app, 160, 50);
    assert!(
        (0..large.len()).any(|y| (0..160).any(|x| is_bar(&large, x, y))),
        "bars at 160x50: {large:#?}"
    );
    assert!(
        contains(&large, "bars: test loss per epoch, 0–0.40"),
        "{large:#?}"
    );
}

#[test]
fn factor_sparklines_draw_the_loss_as_loss_and_depth_labels_agree_in_number() {
    let text = r#"(name: "g", defaults: (epochs: 4),
        grid: (arch: ["256", "512-128"], placement: [Every, None]))"#;
    // Every variant's loss falls: 0.4, 0.3, 0.2, 0.1.
    let mut app = finished(text, 4, |_, _, e| 0.1 * (5 - e) as f32);
    app.update(key('4'));
    let s = draw(&app, 160, 50);
    assert!(contains(&s, "1 layer "), "{s:#?}");
    assert!(!contains(&s, "1 layers"), "{s:#?}");
    assert!(contains(&s, "bars: test loss per epoch, 0–0.40"), "{s:#?}");
    // The tallest bar is the first epoch's (the highest loss): the top-most bar of a
    // sparkline sits in its first column, so nothing of it lies to its left further down.
    let top = (0..s.len())
        .find(|&y| (0..160).any(|x| is_bar(&s, x, y)))
        .expect("sparklines drawn");
    let x0 = (0..160).find(|&x| is_bar(&s, x, top)).unwrap();
    let bottom = (top..s.len())
        .take_while(|&y| is_bar(&s, x0, y))
        .last()
        .unwrap();
    assert!(bottom > top, "a full-height first bar spans rows: {s:#?}");
    assert!(
        !is_bar(&s, x0 - 1, bottom),
        "the tallest bar is the first: {s:#?}"
    );
    // Each epoch's bar is as wide as the column allows (the bars fill the cell): the last
    // epoch's starts 3 bar widths on.
    let per = (x0..160).take_while(|&x| is_bar(&s, x, top)).count();
    assert!(per > 1, "bars wider than a column: {s:#?}");
    assert!(
        is_bar(&s, x0 + 3 * per, bottom),
        "later epochs still have (lower) bars: {s:#?}"
    );
    assert!(
        !is_bar(&s, x0 + 3 * per, top),
        "the last epoch's bar is lower: {s:#?}"
    );
}

/// The style of the first cell of the first occurrence of `needle` on screen.
fn style_at(app: &App, w: u16, h: u16, needle: &str) -> ratatui::style::Style {
    let buf = buffer(app, w, h);
    let s = draw(app, w, h);
    for (y, line) in s.iter().enumerate() {
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return buf[(x as u16, y as u16)].style();
        }
    }
    panic!("{needle:?} not on screen: {s:#?}");
}

#[test]
fn the_overlay_draws_every_variant_pins_fade_the_rest_and_hidden_ones_leave_the_scale() {
    use ratatui::style::{Color, Modifier};
    let mut app = two_app();
    app.update(key('7'));
    app.selected = 0; // "good", seed 1 (units run seed-major)
    let s = draw(&app, 160, 48);
    assert!(contains(&s, "7 overlay"), "{s:#?}");
    assert!(contains(&s, "test loss of every variant"), "{s:#?}");
    // Legend: both variants with their final mean test loss over 3 seeds.
    assert!(contains(&s, "■ good  0.0500 n3"), "{s:#?}");
    assert!(contains(&s, "■ bad  0.1000 n3"), "{s:#?}");
    let bad_colour = style_at(&app, 160, 48, "■ bad").fg;
    assert!(bad_colour.is_some() && bad_colour != Some(Color::DarkGray));

    // Pin "good" (selected): it turns bold, "bad" fades.
    app.update(key('p'));
    let pinned = style_at(&app, 160, 48, "◆ good");
    assert!(pinned.add_modifier.contains(Modifier::BOLD), "{pinned:?}");
    assert_eq!(style_at(&app, 160, 48, "■ bad").fg, Some(Color::DarkGray));
    // p again unpins.
    app.update(key('p'));
    assert!(contains(&draw(&app, 160, 48), "■ good"));

    // The y-axis follows the visible curves: "bad" reaches 0.4 at epoch 1, "good" 0.2.
    let top_label = |s: &[String]| contains(s, "0.4");
    assert!(top_label(&draw(&app, 160, 48)));
    app.update(key('j')); // select "bad"
    app.update(key('x'));
    let s = draw(&app, 160, 48);
    assert!(contains(&s, "■ bad  hidden"), "{s:#?}");
    assert!(
        !top_label(&s),
        "with bad hidden the axis ends near good's 0.2: {s:#?}"
    );

    // m cycles the metric.
    app.update(key('m'));
    assert!(contains(
        &draw(&app, 160, 48),
        "test accuracy of every variant"
    ));
}

#[test]
fn grid_cells_fill_the_screen_and_page_only_when_they_must() {
    use mnist_lab::tui::views::grid::{layout, CELL_HEIGHT, CELL_WIDTH};
    // 3 variants in a 160×38 grid area: three side by side, each a third of the width and
    // the full height.
    let g = layout(160, 38, 3, 0);
    assert_eq!((g.cols, g.rows), (3, 1));
    assert_eq!((g.cell_w, g.cell_h), (53, 38));
    // 15 variants: every one visible, cells as large as that allows.
    let g = layout(160, 38, 15, 0);
    assert!(g.cols * g.rows >= 15, "{g:?}");
    assert_eq!(g.first_row, 0);
    assert!(g.cell_w >= CELL_WIDTH && g.cell_h >= CELL_HEIGHT, "{g:?}");
    assert!(g.cell_w as usize * g.cols <= 160 && g.cell_h as usize * g.rows <= 38);
    assert!(
        g.cell_w as usize * g.cols > 160 - g.cols,
        "the width is used: {g:?}"
    );
    // 200 variants cannot all fit: pages of minimum-size cells, scrolled to the selection.
    let g = layout(160, 38, 200, 199);
    assert_eq!((g.cols, g.rows), (6, 5));
    assert_eq!(g.first_row, 199 / 6 - 4);
}

/// The text at the top-left of every grid cell's chart area (its y-axis maximum).
fn cell_top_labels(s: &[String]) -> Vec<String> {
    // The first chart row is the line under the cell titles; labels are "0.xx".
    let title_row = s
        .iter()
        .position(|l| (l.contains("┌") || l.contains("┏")) && l.contains(" a "))
        .unwrap();
    let row = &s[title_row + 1];
    // The selected cell's border is thick (┃).
    row.split(['│', '┃'])
        .filter_map(|part| part.trim_start().get(..4).map(str::to_string))
        .filter(|t| t.starts_with("0."))
        .collect()
}

#[test]
fn grid_cells_share_one_y_scale_and_mark_the_best() {
    let text = r#"(name: "t", defaults: (arch: "128-64", epochs: 2),
        variants: [(name: "a"), (name: "b")])"#;
    // a falls 0.4 → 0.2, b 0.2 → 0.1: on one scale both cells span 0 to a's 0.4.
    let mut app = finished(text, 2, |g, _, e| {
        let start = if g == 0 { 0.4 } else { 0.2 };
        start / e as f32
    });
    app.update(key('2'));
    let s = draw(&app, 160, 48);
    let labels = cell_top_labels(&s);
    assert_eq!(labels.len(), 2, "{s:#?}");
    assert_eq!(labels[0], labels[1], "one scale: {s:#?}");
    assert!(contains(&s, "one y-scale"), "{s:#?}");
    assert!(contains(&s, " b ★"), "b ends lowest: {s:#?}");
    app.update(key('v'));
    let s = draw(&app, 160, 48);
    let labels = cell_top_labels(&s);
    assert_ne!(labels[0], labels[1], "per-cell scales differ: {s:#?}");
}

#[test]
fn every_view_the_help_and_the_footer_fit_80_by_24_without_cutting_words() {
    let text = r#"(name: "g", defaults: (epochs: 3),
        grid: (arch: ["128-64", "512-128"], placement: [Every, None]))"#;
    let mut app = finished(text, 3, |g, _, e| 0.05 * (g + 1) as f32 + 0.3 / e as f32);
    let views = [
        ('1', "1 live"),
        ('2', "2 grid"),
        ('3', "3 table"),
        ('4', "4 factors"),
        ('6', "6 pairs"),
        ('7', "7 overlay"),
    ];
    let footer = mnist_lab::tui::keys::footer(mnist_lab::tui::keys::Scope::Run, None);
    for (k, label) in views {
        app.update(key(k));
        let s = draw(&app, 80, 24);
        assert!(
            s[0].contains(label),
            "header names the view {label}: {s:#?}"
        );
        let last = &s[23];
        // The footer holds whole bindings only, help and quit always.
        for (keys, what) in &footer {
            let whole = format!("{keys} {what}");
            assert!(
                last.contains(&whole) || !last.contains(&format!(" {keys} ")),
                "footer cuts {whole:?}: {last:?}"
            );
        }
        assert!(
            last.contains("? help") && last.contains("q quit"),
            "{last:?}"
        );
    }
    app.update(key('7'));
    assert!(contains(&draw(&app, 80, 24), " test loss of every variant"));
    app.update(key('4'));
    assert!(contains(&draw(&app, 80, 24), "bars: test loss 0–0.50 "));

    // Help: one column of whole lines that scrolls, and says so.
    app.update(key('?'));
    // Every key that works here (help lists no others).
    let bindings = mnist_lab::tui::keys::bindings_in(app.scope(), app.shown_view());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..bindings.len() {
        let s = draw(&app, 80, 24);
        // Scrolls (and says so) only when it does not fit.
        assert_eq!(contains(&s, "↑↓ scroll"), bindings.len() + 2 > 24, "{s:#?}");
        for b in &bindings {
            if contains(&s, &format!(" {:<10} ", b.keys)) {
                assert!(contains(&s, b.help), "help cut: {:?} {s:#?}", b.help);
                seen.insert(b.help);
            }
        }
        app.update(Msg::Key(KeyEvent::from(KeyCode::Down)));
    }
    assert_eq!(seen.len(), bindings.len(), "scrolling reaches every key");
}

fn click(app: &mut App, column: u16, row: u16, w: u16, h: u16) {
    let msg = common::screen::click(app, w, h, column, row);
    app.update(msg);
}

/// Column of the first character of `needle` on line `row`.
fn column_of(s: &[String], row: usize, needle: &str) -> u16 {
    let byte = s[row]
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?}: {s:#?}"));
    s[row][..byte].chars().count() as u16
}

#[test]
fn clicks_pick_views_from_the_header_and_variants_from_grid_cells_and_the_legend() {
    let text = r#"(name: "t", defaults: (arch: "128-64", epochs: 2),
        variants: [(name: "a"), (name: "b"), (name: "c")])"#;
    let mut app = finished(text, 2, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    let (w, h) = (160, 48);
    // A header tab, at both sizes (abbreviated tabs at 80 columns).
    let s = draw(&app, w, h);
    click(&mut app, column_of(&s, 0, "2 grid") + 2, 0, w, h);
    assert_eq!(app.view, View::Grid);
    let s = draw(&app, 80, 24);
    let seven = s[0].rfind(" 7").unwrap();
    click(
        &mut app,
        s[0][..seven].chars().count() as u16 + 1,
        0,
        80,
        24,
    );
    assert_eq!(app.view, View::Overlay);

    // A grid cell: the cell titled " c " selects c (unit 2).
    click(&mut app, column_of(&s, 0, " 2") + 1, 0, 80, 24);
    assert_eq!(app.view, View::Grid);
    app.selected = 0;
    let s = draw(&app, w, h);
    let row = s.iter().position(|l| l.contains(" c ")).unwrap();
    click(
        &mut app,
        column_of(&s, row, " c ") + 1,
        row as u16 + 3,
        w,
        h,
    );
    assert_eq!(app.selected, 2, "{s:#?}");
    // The wheel steps the selection; a click on the table below the cells selects nothing.
    app.update(Msg::Wheel(true));
    assert_eq!(app.selected, 1);
    click(&mut app, 5, h - 3, w, h);
    assert_eq!(app.selected, 1);

    // The overlay's legend: clicking "■ a" selects a.
    app.update(key('7'));
    let s = draw(&app, w, h);
    let row = s.iter().position(|l| l.contains("■ a ")).unwrap();
    click(&mut app, column_of(&s, row, "■ a ") + 2, row as u16, w, h);
    assert_eq!(app.selected, 0);

    // A click anywhere closes the help.
    app.update(key('?'));
    assert!(app.help);
    click(&mut app, 1, 1, w, h);
    assert!(!app.help);
    // M turns the mouse capture off (and says how to get it back).
    let effects = app.update(key('M'));
    assert!(!app.mouse);
    assert_eq!(effects, vec![mnist_lab::tui::app::Effect::Mouse(false)]);
}

#[test]
fn clicks_select_variants_in_the_live_list_and_the_table() {
    let text = r#"(name: "t", defaults: (arch: "128-64", epochs: 2),
        variants: [(name: "first"), (name: "second"), (name: "third")])"#;
    let mut app = finished(text, 2, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    let (w, h) = (160, 48);
    app.update(key('1'));
    for name in ["second", "first", "third"] {
        let s = draw(&app, w, h);
        let row = s
            .iter()
            .position(|l| l.contains(&format!(" {name} ")))
            .unwrap();
        click(&mut app, column_of(&s, row, name), row as u16, w, h);
        assert_eq!(app.unit_name_selected(), name, "live list: {s:#?}");
    }
    app.update(key('3'));
    for name in ["first", "third"] {
        let s = draw(&app, w, h);
        let row = s
            .iter()
            .position(|l| l.starts_with(&format!("│{name} ")))
            .unwrap();
        click(&mut app, 3, row as u16, w, h);
        assert_eq!(app.unit_name_selected(), name, "table: {s:#?}");
    }
}

#[test]
fn no_view_cuts_a_word_at_80_by_24() {
    for name in ["paper-2019", "paper-2019-seeds", "placement-grid"] {
        let text = std::fs::read_to_string(format!("presets/{name}.ron")).unwrap();
        let mut app = finished(&text, 3, |g, k, e| {
            0.05 * (g + 1) as f32 + 0.3 / e as f32 + 0.004 * k as f32
        });
        for k in ['1', '2', '3', '4', '6', '7'] {
            app.update(key(k));
            let cut = cut_words(&app);
            assert!(
                cut.is_empty(),
                "{name}, view {k}: cut {cut:?} in {:#?}",
                draw(&app, 80, 24)
            );
        }
    }
}

/// Fifteen variants get fifteen colours; without colour, neighbouring curves get different
/// marks, and the legend shows each curve's mark.
#[test]
fn overlay_curves_can_be_told_apart_in_colour_and_without() {
    let text = r#"(name: "t", defaults: (arch: "128-64", epochs: 3, validation: Test),
        grid: (dropout: [0.1, 0.2, 0.3, 0.4], lr: [0.001, 0.01, 0.1, 0.2]))"#;
    let mut app = finished(text, 3, |g, _, e| 0.05 + 0.01 * g as f32 + 0.1 / e as f32);
    app.update(key('7'));
    let s = draw(&app, 160, 48);
    let legend_rows: Vec<usize> = (0..s.len()).filter(|&y| s[y].contains("■")).collect();
    assert!(legend_rows.len() >= 16, "{s:#?}");
    let buf = buffer(&app, 160, 48);
    let mut colours = std::collections::HashSet::new();
    for y in &legend_rows {
        let x = s[*y].find('■').map(|b| s[*y][..b].chars().count()).unwrap();
        colours.insert(format!("{:?}", buf[(x as u16, *y as u16)].style().fg));
    }
    assert_eq!(colours.len(), 16, "{colours:?}");
    // NO_COLOR (issue "The dashboard shows only what is true", acceptance): at least 8 marks
    // in the legend before any repeats, and with more curves than marks each curve's end
    // carries its letter, which its legend line begins with.
    app.no_color = true;
    for (w, h) in [(160, 48), (120, 40), (80, 24)] {
        let s = draw(&app, w, h);
        let legend: Vec<(char, char)> = s
            .iter()
            .filter_map(|l| {
                // The legend is right of the chart's border: "││".
                let mut c = l[l.find("││")? + "││".len()..].chars();
                Some((c.next()?, c.next()?)).filter(|(a, _)| a.is_ascii_alphabetic())
            })
            .collect();
        let marks: std::collections::BTreeSet<char> = legend.iter().map(|p| p.1).collect();
        assert!(
            marks.len() >= 8.min(legend.len()),
            "{w}x{h}: {marks:?} {s:#?}"
        );
        assert!(
            legend.len() >= 10.min(h as usize - 6),
            "{w}x{h}: {legend:?}"
        );
        // Each curve's letter is drawn inside the plot (left of the legend, below the
        // title, above the x-axis).
        let plot: String = s[2..s.len() - 5]
            .iter()
            .map(|l| l.split("││").next().unwrap_or(""))
            .collect();
        // At 80×24 the plot has fewer rows than curves: as many letters as rows.
        let drawn = legend.iter().filter(|(l, _)| plot.contains(*l)).count();
        assert!(
            drawn >= legend.len().min(h as usize - 10),
            "{w}x{h}: {drawn} letters: {s:#?}"
        );
    }
    let s = draw(&app, 160, 48);
    let plot: String = s[2..s.len() - 5]
        .iter()
        .map(|l| l.split("││").next().unwrap_or(""))
        .collect();
    for letter in 'A'..='P' {
        assert!(plot.contains(letter), "{letter}: {s:#?}");
    }
}

/// `E` in the overlay exports the overlay as drawn (issue "The dashboard shows only what is
/// true", 6): both runs' curves, smoothed as on screen, without the hidden ones, and not the
/// run's generic curves.svg.
#[test]
fn the_overlay_exports_what_it_draws_with_the_compared_run() {
    let short = r#"(name: "s", defaults: (arch: "128-64", epochs: 3),
        variants: [(name: "a"), (name: "b")])"#;
    let past = finished(short, 3, |g, _, e| 0.2 * (g + 1) as f32 / e as f32);
    let mut app = finished(short, 3, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    app.compare
        .push(("past".into(), past.run.as_ref().unwrap().record.clone()));
    app.update(key('7'));
    app.update(key('t'));
    app.overlay.hidden.insert("b".into());
    let fig = mnist_lab::tui::ui::figure(&app, View::Overlay).expect("a figure");
    let svg = fig.svg().unwrap();
    for name in ["a [past]", "b [past]", "a"] {
        assert!(svg.contains(name), "{name}");
    }
    let csv = fig.csv();
    assert!(csv.contains(",a [past],line,3,"), "{csv}");
    assert!(
        !csv.contains(",b,line,"),
        "a hidden curve is not exported: {csv}"
    );
    // Smoothed as drawn: the line's last value is the EMA, the raw one the epoch's loss.
    assert!(csv.contains(",a (raw),raw,3,0.0333"), "{csv}");
    let tmp = tempfile::tempdir().unwrap();
    mnist_lab::export::plot::write_svg(tmp.path(), &app.run.as_ref().unwrap().record).unwrap();
    let generic = std::fs::read_to_string(tmp.path().join("curves.svg")).unwrap();
    assert_ne!(svg, generic);
    let written = fig.write(tmp.path(), "view-overlay").unwrap();
    assert_eq!(written.len(), 3);
    assert!(std::fs::read(tmp.path().join("view-overlay.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));
    // The grid and the factor-less live view export figures too.
    assert!(mnist_lab::tui::ui::figure(&app, View::Grid).is_some());
    assert!(mnist_lab::tui::ui::figure(&app, View::Live).is_some());
}

/// `/` finds a variant by part of its name in the views that list variants; enter keeps the
/// selection, esc returns to where it was.
#[test]
fn slash_finds_a_variant_by_name() {
    let text = r#"(name: "t", defaults: (arch: "128-64", epochs: 2),
        variants: [(name: "first"), (name: "second"), (name: "third")])"#;
    let mut app = finished(text, 2, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    for view in ['1', '2', '3', '7'] {
        app.update(key(view));
        app.selected = 0;
        app.update(key('/'));
        for c in "hir".chars() {
            app.update(key(c));
        }
        assert_eq!(app.unit_name_selected(), "third");
        assert!(contains(&draw(&app, 120, 40), "find: hir█"));
        app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
        assert_eq!(app.unit_name_selected(), "first", "esc returns");
        app.update(key('/'));
        app.update(key('s'));
        app.update(key('e'));
        app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
        assert_eq!(app.unit_name_selected(), "second", "enter keeps");
        // Keys act as keys again: 7 switches view, not the search.
        assert!(app.search.is_none());
    }
    // Nothing matches: said, and the selection stays.
    app.update(key('/'));
    app.update(key('z'));
    assert_eq!(app.unit_name_selected(), "second");
    assert!(contains(&draw(&app, 120, 40), "no variant holds it"));
}

/// The factor view draws the analysis `update` made when the run last changed; drawing
/// computes nothing (a state no update saw shows "computing…").
#[test]
fn the_factor_view_draws_the_analysis_made_on_update_not_per_frame() {
    let mut app = finished(TWO, 4, |g, k, e| {
        0.05 * (g + 1) as f32 * 4.0 / e as f32 + 0.004 * k as f32
    });
    app.view = View::Factors;
    let s = draw(&app, 120, 40);
    assert!(contains(&s, "computing…"), "{s:#?}");
    app.update(Msg::Resize(40));
    let s = draw(&app, 120, 40);
    assert!(
        !contains(&s, "computing…") && contains(&s, "main effects"),
        "{s:#?}"
    );
    // The run changes (a unit's result): the analysis is made again on that update.
    let before = app.factors.analysis(app.run.as_ref().unwrap()).cloned();
    app.update(Msg::Engine(Event::EpochEnd {
        index: 0,
        metrics: EpochMetrics {
            epoch: 5,
            train_loss: 0.9,
            train_acc: 0.1,
            test_loss: 0.9,
            test_acc: 0.1,
            val_loss: None,
            val_acc: None,
            lr: None,
            seconds: 1.0,
            samples_per_sec: 1e4,
            threads: None,
        },
    }));
    let after = app.factors.analysis(app.run.as_ref().unwrap()).cloned();
    assert!(after.is_some() && after != before);
}

/// One outlier does not paint every other factor cell the same colour: cells are coloured
/// by rank.
#[test]
fn factor_cells_are_coloured_by_rank_not_by_distance_to_an_outlier() {
    let text = r#"(name: "t", defaults: (arch: "128-64", epochs: 2),
        grid: (placement: [Every, None], dropout: [0.2, 0.5]))"#;
    // Three close losses and one far outlier.
    let mut app = finished(text, 2, |g, _, _| [0.10, 0.11, 0.12, 5.0][g]);
    app.update(key('4'));
    let colours: std::collections::BTreeSet<String> = ["0.1000", "0.1100", "0.1200"]
        .iter()
        .map(|n| format!("{:?}", style_at(&app, 160, 48, n).fg))
        .collect();
    assert_eq!(colours.len(), 3, "three distinct colours: {colours:?}");
}

/// A run compared with a longer past run: both grids share the longer epoch axis, each cell
/// saying its own last epoch; in the
/// overlay the past run's curves take the focus (keys and clicks), and can be hidden and
/// pinned; `b` in the run clears the comparison and says so.
#[test]
fn compared_runs_share_the_epoch_axis_and_their_curves_take_focus() {
    use mnist_lab::tui::hits::Target;
    let short = r#"(name: "s", defaults: (arch: "128-64", epochs: 3),
        variants: [(name: "a"), (name: "b")])"#;
    let long = r#"(name: "l", defaults: (arch: "128-64", epochs: 10),
        variants: [(name: "a"), (name: "b")])"#;
    let past = finished(long, 10, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    let mut app = finished(short, 3, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    let record = past.run.as_ref().unwrap().record.clone();
    app.compare.push(("long-run".into(), record));
    app.update(key('2'));
    let s = draw(&app, 160, 48);
    // One epoch axis, and each cell says its own last epoch (issue "The dashboard shows only
    // what is true", 4): this run's cells end at 3 on an axis that runs to 10.
    let count = |t: &str| -> usize { s.iter().map(|l| l.matches(t).count()).sum() };
    assert_eq!(count("ep 10"), 2, "the compared run's two cells: {s:#?}");
    assert_eq!(
        count("ep 3│") + count("ep 3┃"),
        2,
        "this run's two cells: {s:#?}"
    );

    // The overlay: ↓ past this run's two curves reaches the compared run's.
    app.update(key('7'));
    app.selected = 0;
    app.update(Msg::Key(KeyEvent::from(KeyCode::Down)));
    assert_eq!(app.unit_name_selected(), "b");
    app.update(Msg::Key(KeyEvent::from(KeyCode::Down)));
    assert_eq!(app.overlay.focus.as_deref(), Some("a [long-run]"));
    app.update(key('x'));
    assert!(app.overlay.hidden.contains("a [long-run]"));
    let s = draw(&app, 160, 48);
    let row = s.iter().find(|l| l.contains("a [long-run]")).unwrap();
    assert!(row.contains("hidden"), "{row:?}");
    // A click on the other past curve's legend line focuses it; p pins it.
    let (_, hits) = common::screen::drawn(&app, 160, 48);
    let at = hits
        .find(Target::Curve(3))
        .expect("the 4th legend line is clickable");
    app.update(common::screen::click(&app, 160, 48, at.x + 1, at.y));
    assert_eq!(app.overlay.focus.as_deref(), Some("b [long-run]"));
    app.update(key('p'));
    assert!(app.overlay.pinned.contains("b [long-run]"));
    // A click on this run's curve selects its variant again.
    let at = hits.find(Target::Curve(0)).unwrap();
    app.update(common::screen::click(&app, 160, 48, at.x + 1, at.y));
    assert_eq!(app.overlay.focus, None);
    assert_eq!(app.unit_name_selected(), "a");

    // b in the run clears the comparison, and says so.
    app.update(key('b'));
    assert!(app.compare.is_empty());
    assert!(app
        .message
        .as_ref()
        .unwrap()
        .1
        .contains("comparison cleared"));
}

/// The overlay's smoothing has a strength (TensorBoard's 0–0.99), set with [ and ], said in
/// the title; the smoothed curve is TensorBoard's debiased EMA.
#[test]
fn overlay_smoothing_has_a_strength_said_in_the_title() {
    use mnist_lab::tui::views::overlay::smoothed;
    let mut app = two_app();
    app.update(key('7'));
    app.update(key('t'));
    assert!(contains(&draw(&app, 160, 48), "smoothed 0.60 over raw"));
    app.update(key(']'));
    app.update(key(']'));
    assert!(contains(&draw(&app, 160, 48), "smoothed 0.80 over raw"));
    for _ in 0..5 {
        app.update(key(']'));
    }
    assert_eq!(app.overlay.strength, 0.99);
    for _ in 0..20 {
        app.update(key('['));
    }
    assert_eq!(app.overlay.strength, 0.0);
    // Debiased EMA: weight 0 is the raw curve; the first point is never pulled to zero.
    let pts = [(1.0, 1.0), (2.0, 0.0), (3.0, 1.0)];
    assert_eq!(smoothed(&pts, 0.0), pts);
    let s = smoothed(&pts, 0.5);
    assert_eq!(s[0], (1.0, 1.0));
    // (0.5·0.5 + 0.5·0) / (1 − 0.25) = 1/3.
    assert!((s[1].1 - 1.0 / 3.0).abs() < 1e-12, "{s:?}");
}

/// The selected grid cell is marked inside its own rectangle (a thick border, a reversed
/// title): nothing reversed outside it, at the screen's edge neither.
#[test]
fn the_selected_grid_cell_is_marked_inside_its_own_cell() {
    use mnist_lab::tui::hits::Target;
    use ratatui::style::Modifier;
    for (text, epochs) in [
        (TWO, 4),
        (
            r#"(name: "t", defaults: (arch: "128-64", epochs: 2),
            variants: [(name: "a"), (name: "b"), (name: "c"), (name: "d")])"#,
            2,
        ),
    ] {
        let mut app = finished(text, epochs, |g, k, e| {
            0.1 * (g + 1) as f32 / e as f32 + 0.001 * k as f32
        });
        app.update(key('2'));
        for (w, h) in [(80, 24), (120, 40), (160, 48)] {
            for _ in 0..3 {
                app.update(Msg::Key(KeyEvent::from(KeyCode::Right)));
                let (buf, hits) = common::screen::drawn(&app, w, h);
                let cell = hits
                    .find(Target::Unit(app.selected))
                    .unwrap_or_else(|| panic!("the selected cell is drawn at {w}x{h}"));
                assert_eq!(buf[(cell.x, cell.y)].symbol(), "┏", "{w}x{h}");
                // The rows of the cells (the table below them may highlight its own row).
                for y in 1..cell.bottom() {
                    for x in 0..w {
                        if buf[(x, y)].modifier.contains(Modifier::REVERSED) {
                            assert!(
                                cell.contains((x, y).into()),
                                "reversed at ({x},{y}) outside the selected cell {cell:?} at {w}x{h}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Every view at 80×24, 120×40 and 160×48, in colour and under NO_COLOR, for a run training
/// now, a finished run with seeds, and a run compared with another: no word cut (the status
/// line and a long message included), nothing coloured under NO_COLOR, and each view's own
/// header tab underlined.
#[test]
fn every_view_at_every_size_in_colour_and_without_cuts_no_word() {
    use ratatui::style::Color;
    let paper = std::fs::read_to_string("presets/paper-2019.ron").unwrap();
    let seeds = std::fs::read_to_string("presets/paper-2019-seeds.ron").unwrap();
    // A finished run with seeds.
    let finished_seeds = finished(&seeds, 3, |g, k, e| {
        0.05 * (g + 1) as f32 + 0.3 / e as f32 + 0.004 * k as f32
    });
    // A pair: the finished run, and a shorter one compared beside it.
    let mut pair = finished(&paper, 4, |g, _, e| 0.04 * (g + 1) as f32 + 0.2 / e as f32);
    let other = finished(&paper, 2, |g, _, e| 0.05 * (g + 1) as f32 + 0.2 / e as f32);
    pair.compare.push((
        "20261130-101010-paper-2019".into(),
        other.run.unwrap().record,
    ));
    // A run training now: half-way through, a unit running.
    let mut live = finished(&paper, 3, |g, _, e| 0.05 * (g + 1) as f32 + 0.3 / e as f32);
    {
        let run = live.run.as_mut().unwrap();
        run.finished = false;
        for u in run.record.units.iter_mut().skip(7) {
            u.status = mnist_lab::runs::UnitStatus::Queued;
            u.history.clear();
        }
        run.record.units[7].status = mnist_lab::runs::UnitStatus::Running;
    }
    live.update(Msg::Engine(mnist_lab::engine::Event::Progress {
        index: 7,
        epoch: 1,
        batch: 100,
        batches: 469,
        running_loss: 0.4,
        batch_loss: 0.38,
        batch_losses: vec![],
        samples_per_sec: 20000.0,
    }));
    for (what, mut app) in [("live", live), ("seeds", finished_seeds), ("pair", pair)] {
        with_digits(&mut app);
        for no_color in [false, true] {
            app.no_color = no_color;
            for (k, view) in [
                ('1', View::Live),
                ('2', View::Grid),
                ('3', View::Table),
                ('4', View::Factors),
                ('5', View::Digits),
                ('6', View::Pairs),
                ('7', View::Overlay),
            ] {
                app.update(key(k));
                assert_eq!(app.view, view, "{what}: {k}");
                app.update(Msg::Info(
                    "exported the view to runs/20261201-120000-paper-2019/view-grid: \
                     summary.csv, curves.svg"
                        .into(),
                ));
                for (w, h) in [(80, 24), (120, 40), (160, 48)] {
                    // The digits view abbreviates on purpose when small ("t\\p"): only words
                    // cut short count there.
                    let cut = if view == View::Digits {
                        common::screen::cut_prefixes_at(&app, w, h)
                    } else {
                        common::screen::cut_words_at(&app, w, h)
                    };
                    assert!(
                        cut.is_empty(),
                        "{what} {view:?} {w}x{h} cuts {cut:?}: {:#?}",
                        draw(&app, w, h)
                    );
                    let buf = buffer(&app, w, h);
                    if no_color {
                        assert!(
                            buf.content().iter().all(|c| matches!(c.fg, Color::Reset)
                                && matches!(c.bg, Color::Reset)
                                || view == View::Digits),
                            "{what} {view:?} {w}x{h}: a colour under NO_COLOR"
                        );
                    }
                    let s = draw(&app, w, h);
                    if view == View::Digits && (w, h) == (120, 40) {
                        // At least four digits a page: 32 mistakes in at most 8 pages.
                        let pages: usize = s
                            .iter()
                            .find_map(|l| {
                                let at = l.find("page 1/")?;
                                l[at + 7..]
                                    .split(|c: char| !c.is_ascii_digit())
                                    .next()?
                                    .parse()
                                    .ok()
                            })
                            .unwrap_or_else(|| panic!("{s:#?}"));
                        assert!(pages <= 8, "{pages} pages of 32 mistakes at 120x40: {s:#?}");
                    }
                    assert!(
                        s[0].contains(view.label()) || s[0].contains(&view.label()[..1]),
                        "{what} {view:?} {w}x{h}: {:?}",
                        s[0]
                    );
                }
            }
        }
    }
}

/// The table and pairs views draw the statistics `update` made when the run last changed:
/// a state no update saw draws "computing…", so drawing itself computes nothing.
#[test]
fn statistics_are_made_on_update_not_per_frame() {
    let mut app = two_app();
    for k in ['3', '6'] {
        app.update(key(k));
        assert!(!contains(&draw(&app, 120, 40), "computing…"));
        // A change no update saw (as if a frame came between the change and its update).
        app.run.as_mut().unwrap().record.units[0].history.pop();
        let s = draw(&app, 120, 40);
        assert!(contains(&s, "computing…"), "{k}: {s:#?}");
        app.update(Msg::Resize(40));
        let s = draw(&app, 120, 40);
        assert!(!contains(&s, "computing…"), "{k}: {s:#?}");
    }
}

/// Raw curves under smoothed ones are drawn in a visibly fainter colour of the curve's own,
/// computed (issue "The dashboard shows only what is true", 2: the DIM modifier never reached
/// the terminal, so raw and smoothed looked the same); without colour the raw line is dotted.
#[test]
fn overlay_raw_curves_under_smoothing_are_a_fainter_colour() {
    use mnist_lab::tui::theme::Theme;
    use mnist_lab::tui::views::overlay::PALETTE;
    let mut app = two_app();
    app.update(key('7'));
    let fgs = |app: &mnist_lab::tui::app::App| {
        let buf = common::screen::buffer(app, 160, 48);
        let mut set = std::collections::HashSet::new();
        for y in 0..48 {
            for x in 0..160 {
                set.insert(format!("{:?}", buf[(x, y)].fg));
            }
        }
        set
    };
    let theme = Theme {
        color: true,
        light: false,
    };
    let own = format!("{:?}", theme.readable(PALETTE[0]));
    let faint = format!("{:?}", theme.faint(theme.readable(PALETTE[0])));
    assert_ne!(own, faint);
    let raw_only = fgs(&app);
    assert!(raw_only.contains(&own) && !raw_only.contains(&faint));
    app.update(key('t'));
    let smoothed = fgs(&app);
    assert!(smoothed.contains(&own), "{smoothed:?}");
    assert!(smoothed.contains(&faint), "{smoothed:?}");
    // Without colour a shadow could not be told from a curve whose mark it shares: none is
    // drawn, and the title says so.
    app.no_color = true;
    let s = draw(&app, 160, 48);
    assert!(contains(&s, "raw not drawn without colour"), "{s:#?}");
}

/// Curves that share cells say so (issue "The dashboard shows only what is true", 5): the
/// test loss is drawn last in the live chart and a validation curve ending under it says
/// "≈ under test"; in the overlay the curve in focus is drawn last, and one whose end lies
/// under it is marked "≈" in the legend.
#[test]
fn curves_drawn_over_others_are_last_and_the_hidden_ends_are_marked() {
    // Validation equal to test: its curve lies wholly under the test curve.
    let mut app = finished(TWO, 4, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    for u in &mut app.run.as_mut().unwrap().record.units {
        for m in &mut u.history {
            m.val_loss = Some(m.test_loss);
        }
    }
    app.update(key('1'));
    let s = draw(&app, 160, 48);
    // (Train equals test here too: both lie under a curve drawn later.)
    assert!(contains(&s, "validation ≈ under train"), "{s:#?}");
    assert!(contains(&s, "train ≈ under test"), "{s:#?}");
    // At 80×24 the legend does not fit: its key is in the chart's title, with the marks
    // when there is no colour.
    app.no_color = true;
    let s = draw(&app, 80, 24);
    assert!(contains(&s, "x test") && contains(&s, "+ train"), "{s:#?}");
    // The key says what the legend would have: validation ends under another curve.
    assert!(contains(&s, "o val≈"), "{s:#?}");

    // The overlay: two variants ending on the same value; the selected one is drawn last.
    let mut app = finished(TWO, 4, |_, _, e| 0.1 / e as f32);
    app.update(key('7'));
    let ctx_app = &app;
    let run = ctx_app.run.as_ref().unwrap();
    let ctx = mnist_lab::tui::views::Ctx {
        run,
        selected: 0,
        compare: &[],
        charts: ctx_app.charts,
        theme: ctx_app.theme(),
    };
    let all = mnist_lab::tui::views::overlay::curves(&app.overlay, &ctx);
    let plan = mnist_lab::tui::views::overlay::plan(&app.overlay, &ctx, &all, 20);
    let last = plan.drawn.last().unwrap();
    assert_eq!(all[last.k].key, run.record.units[0].spec.variant_name());
    assert!(last.bold);
    assert_eq!(plan.under.len(), 1, "the other curve's end lies under it");
    let s = draw(&app, 160, 48);
    assert!(contains(&s, "good  0.0250 n3 ≈"), "{s:#?}");
}

/// A rival whose seeds are still queued is "still training", not "too few seeds; use
/// --seeds" (issue "The dashboard shows only what is true", 11).
#[test]
fn a_rival_with_seeds_still_queued_is_not_told_to_add_seeds() {
    let mut app = finished(TWO, 4, |g, k, e| {
        0.1 * (g + 1) as f32 / e as f32 + 0.01 * k as f32
    });
    let record = &mut app.run.as_mut().unwrap().record;
    let first_seed = record.units[0].spec.seed;
    for u in record
        .units
        .iter_mut()
        .filter(|u| u.spec.seed != first_seed)
    {
        u.status = mnist_lab::runs::UnitStatus::Queued;
        u.history.clear();
    }
    let stats = mnist_lab::insight::stats::per_variant(record);
    let best = mnist_lab::insight::stats::best_set(&stats, mnist_lab::spec::Metric::TestLoss)
        .expect("a best");
    let text = best.sentence();
    assert!(text.contains("still training"), "{text}");
    assert!(!text.contains("use --seeds"), "{text}");
}

/// In the digits view ↓ selects the next unit and loads its digits (the footer says
/// "select"; it once changed nothing on screen).
#[test]
fn arrows_in_the_digits_view_load_the_next_units_digits() {
    use mnist_lab::tui::state::Effect;
    let mut app = finished(TWO, 2, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    for u in &mut app.run.as_mut().unwrap().record.units {
        u.weights = Some("w.safetensors".into());
    }
    app.selected = 0;
    with_digits(&mut app);
    app.update(key('5'));
    let effects = app.update(Msg::Key(KeyEvent::from(KeyCode::Down)));
    assert_eq!(app.selected, 1);
    assert!(effects.contains(&Effect::LoadDigits(1)), "{effects:?}");
}

/// The epoch cursor (issue "The dashboard shows only what is true", 8): ←/→ in the live
/// view and the overlay read out every curve at one epoch; → past the last hides it.
#[test]
fn the_epoch_cursor_reads_every_curve_at_its_epoch() {
    let mut app = finished(TWO, 4, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    app.selected = 0;
    app.update(key('1'));
    let left = || Msg::Key(KeyEvent::from(KeyCode::Left));
    let right = || Msg::Key(KeyEvent::from(KeyCode::Right));
    app.update(left());
    app.update(left());
    assert_eq!(
        app.charts.cursor,
        Some(3),
        "starts at the last epoch, then one back"
    );
    assert_eq!(app.selected, 0, "←/→ leave the selection alone here");
    let s = draw(&app, 160, 48);
    // Epoch 3 of "good": 0.1 / 3.
    assert!(contains(&s, "▏epoch 3: train 0.0333 test 0.0333"), "{s:#?}");
    // High in the numbers panel: a small screen shows it too.
    let small = draw(&app, 80, 24);
    assert!(contains(&small, "▏epoch 3: train 0.0333"), "{small:#?}");
    assert!(contains(&s, "epoch 3"), "{s:#?}");
    // The overlay reads the same epoch: its legend gives each curve's value there.
    app.update(key('7'));
    let s = draw(&app, 160, 48);
    assert!(contains(&s, "at epoch 3"), "{s:#?}");
    assert!(contains(&s, "good  0.0333"), "{s:#?}");
    assert!(contains(&s, "bad  0.0667"), "{s:#?}");
    app.update(right());
    app.update(right());
    assert_eq!(app.charts.cursor, None, "→ past the last epoch hides it");
    let s = draw(&app, 160, 48);
    assert!(contains(&s, "final"), "{s:#?}");
}

/// A compared run's column in the grid says what it differs in from this run (issue "The
/// dashboard shows only what is true", 8: a config diff of the compared runs).
#[test]
fn a_compared_run_says_which_settings_differ() {
    let short = r#"(name: "s", defaults: (arch: "128-64", epochs: 3),
        variants: [(name: "a"), (name: "b")])"#;
    let long = r#"(name: "s", defaults: (arch: "256", epochs: 10),
        variants: [(name: "a"), (name: "b")])"#;
    let past = finished(long, 10, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    let mut app = finished(short, 3, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    let record = past.run.as_ref().unwrap().record.clone();
    let diff = mnist_lab::report::settings_diff(&app.run.as_ref().unwrap().record, &record);
    let fields: Vec<&str> = diff.iter().map(|d| d.0).collect();
    assert_eq!(fields, ["epochs", "arch"], "{diff:?}");
    app.compare.push(("long-run".into(), record));
    app.update(key('2'));
    let s = draw(&app, 200, 48);
    // Wrapped in the compared run's column: both fields, whole.
    assert!(contains(&s, "epochs 10 (here 3)"), "{s:#?}");
    assert!(contains(&s, "arch 256 (here 128-64)"), "{s:#?}");
}

/// The digits view names classes by `classes.txt` where the data set has one: the confusion
/// matrix's rows and the gallery's filters (issue "The dashboard shows only what is true", 11).
#[test]
fn the_digits_view_uses_the_class_names() {
    use mnist_lab::data::{Dataset, Split};
    let mut app = finished(TWO, 2, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    let n = 40;
    let split = Split {
        images: (0..n * 784).map(|i| (i % 251) as u8).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        pixels: 784,
    };
    let mut data = Dataset::in_memory("t".as_ref(), split.clone(), split, (28, 28), 10);
    data.classes.names = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ]
    .map(String::from)
    .to_vec();
    app.update(Msg::DigitsLoaded(mnist_lab::tui::views::digits::Digits {
        variant: 0,
        name: "a".into(),
        data: std::sync::Arc::new(data),
        predictions: (0..n).map(|i| ((i * 3) % 10) as u8).collect(),
        confidence: vec![0.7; n],
        true_filter: None,
        pred_filter: None,
        page: 0,
    }));
    app.update(key('5'));
    app.update(key('u'));
    let s = draw(&app, 160, 48);
    assert!(
        contains(&s, "    seven"),
        "a row named by its class: {s:#?}"
    );
    assert!(contains(&s, "true zero (u)"), "the filter by name: {s:#?}");
}

/// `a` in the live view shows the selected unit's epochs as `run` prints them, scrolled with
/// PgUp/PgDn (issue "The dashboard shows only what is true", 8: a per-epoch log).
#[test]
fn the_live_view_shows_the_units_epoch_log_and_scrolls_it() {
    let one = r#"(name: "s", defaults: (arch: "128-64", epochs: 30), variants: [(name: "a")])"#;
    let mut app = finished(one, 30, |_, _, e| 1.0 / e as f32);
    app.update(key('1'));
    app.update(key('a'));
    let s = draw(&app, 120, 30);
    // The latest lines at the bottom: the last epoch and how the unit ended.
    assert!(contains(&s, "epoch  30/30  train loss 0.0333"), "{s:#?}");
    assert!(contains(&s, "done in 1.0s"), "{s:#?}");
    assert!(!contains(&s, "epoch   1/30 "), "{s:#?}");
    app.update(Msg::Key(KeyEvent::from(KeyCode::PageUp)));
    app.update(Msg::Key(KeyEvent::from(KeyCode::PageUp)));
    app.update(Msg::Key(KeyEvent::from(KeyCode::PageUp)));
    let s = draw(&app, 120, 30);
    assert!(contains(&s, "epoch   1/30  train loss 1.0000"), "{s:#?}");
    assert!(contains(&s, "lines 1-"), "{s:#?}");
    // `run` prints the same text after the unit's name.
    let unit = &app.run.as_ref().unwrap().record.units[0];
    assert_eq!(
        mnist_lab::report::epoch_log(unit)[0],
        mnist_lab::report::epoch_text(&unit.spec, &unit.history[0])
    );
    app.update(key('a'));
    assert!(!contains(&draw(&app, 120, 30), "lines 1-"));
}

/// The seed band is a fill, not two more lines like the mean's (issue "The dashboard shows
/// only what is true", 7): in some column of a cell, band-coloured dots fill several rows.
#[test]
fn the_seed_band_is_drawn_as_a_fill() {
    // Seeds far apart: a band a third of the scale wide.
    let app = finished(TWO, 4, |g, k, e| {
        0.1 * (g + 1) as f32 / e as f32 + 0.05 * k as f32
    });
    let mut app = app;
    app.update(key('2'));
    let band = app.theme().band().fg;
    let buf = buffer(&app, 120, 30);
    let tallest = (0..120u16)
        .map(|x| {
            (0..30u16)
                .filter(|&y| {
                    let c = &buf[(x, y)];
                    c.style().fg == band
                        && c.symbol()
                            .chars()
                            .all(|ch| ('\u{2800}'..='\u{28FF}').contains(&ch))
                })
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(tallest >= 4, "a column of band fill {tallest} rows tall");
}

/// The live list and a narrow grid cell never cut a unit's state to a false word
/// ("interru" after a cancel: issue "The dashboard shows only what is true", 8).
#[test]
fn a_narrow_cell_never_cuts_a_units_state_to_a_false_word() {
    let variants: Vec<String> = (0..12).map(|i| format!("(name: \"v{i}\")")).collect();
    let text = format!(
        "(name: \"t\", defaults: (arch: \"128-64\", epochs: 2), variants: [{}])",
        variants.join(", ")
    );
    let mut app = finished(&text, 2, |g, _, e| 0.01 * (g + 1) as f32 / e as f32);
    for u in &mut app.run.as_mut().unwrap().record.units[6..] {
        u.status = mnist_lab::runs::UnitStatus::Interrupted;
        u.history.clear();
    }
    for (view, (w, h)) in [('1', (80, 24)), ('2', (80, 24)), ('2', (120, 40))] {
        app.update(key(view));
        let s = draw(&app, w, h);
        let words = common::screen::words(&s);
        let cut: Vec<&String> = words
            .iter()
            .filter(|w| w.starts_with("inter") && *w != "interrupted" && !w.ends_with('…'))
            .collect();
        assert!(cut.is_empty(), "{w}x{h}: {cut:?} {s:#?}");
        assert!(words.iter().any(|w| w.starts_with("inter")), "{s:#?}");
    }
}

/// A click under a chart's x-axis puts the epoch cursor on the epoch there (issue "The
/// dashboard shows only what is true", 8: "←/→ or a click on the x-axis"), in the live view
/// and the overlay.
#[test]
fn a_click_on_the_x_axis_moves_the_epoch_cursor() {
    use mnist_lab::tui::hits::Target;
    let mut app = finished(TWO, 4, |g, _, e| 0.1 * (g + 1) as f32 / e as f32);
    for view in ['1', '7'] {
        app.update(key(view));
        let (w, h) = (160u16, 48u16);
        let hits = common::screen::drawn(&app, w, h).1;
        let epochs: Vec<(u16, u16, usize)> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter_map(|(x, y)| match hits.at(x, y) {
                Some(Target::Epoch(e)) => Some((x, y, e)),
                _ => None,
            })
            .collect();
        let first = epochs.iter().min_by_key(|p| p.0).expect("epoch targets");
        let last = epochs.iter().max_by_key(|p| p.0).unwrap();
        assert_eq!((first.2, last.2), (1, 4), "{view}");
        app.update(common::screen::click(&app, w, h, last.0, last.1));
        assert_eq!(app.charts.cursor, Some(4), "{view}");
        app.update(common::screen::click(&app, w, h, first.0, first.1));
        assert_eq!(app.charts.cursor, Some(1), "{view}");
        let s = draw(&app, w, h);
        assert!(contains(&s, "epoch 1"), "{view}: {s:#?}");
    }
}

/// At 80×24 the factor view's effects and ANOVA scroll with PgUp/PgDn, and the title says
/// where (issue "The dashboard shows only what is true", 8: the ANOVA rows vanished).
#[test]
fn the_factor_views_anova_scrolls_into_view_at_80_by_24() {
    let text = r#"(name: "g", defaults: (seeds: 2, epochs: 2),
        grid: (arch: ["512-128", "512-256-128"], placement: [Every, None]))"#;
    let mut app = finished(text, 2, |g, k, _| {
        0.05 + (g / 2) as f32 * 0.01 + (g % 2) as f32 * 0.05 + k as f32 * 0.003 * (1 + g) as f32
    });
    app.update(key('4'));
    let s = draw(&app, 80, 24);
    // The ANOVA's interaction row (the title names the grid's factors too).
    let row = |s: &[String]| s.iter().any(|l| l.contains("│  depth × BN+Dropout"));
    assert!(!row(&s), "hidden at first: {s:#?}");
    assert!(contains(&s, "from row 1 of"), "{s:#?}");
    let selected = app.selected;
    for _ in 0..3 {
        app.update(Msg::Key(KeyEvent::from(KeyCode::PageDown)));
    }
    let s = draw(&app, 80, 24);
    assert!(row(&s), "scrolled into view: {s:#?}");
    assert_eq!(
        app.selected, selected,
        "PgDn scrolled the panel, not the selection"
    );
    // Far past the end, the panel stays full (its last page, not one row and blanks), and
    // PgUp brings it back within two presses (20 PgDn used to need 20 PgUp). The panel's
    // height is known only when drawn, so the key clamps to its last line.
    for _ in 0..20 {
        app.update(Msg::Key(KeyEvent::from(KeyCode::PageDown)));
    }
    let bottom = draw(&app, 80, 24);
    let blank = |s: &[String]| {
        s.iter()
            .filter(|l| l.trim_matches(['│', ' ']).is_empty())
            .count()
    };
    assert!(
        blank(&bottom) <= blank(&s),
        "the last page is full: {bottom:#?}"
    );
    app.update(Msg::Key(KeyEvent::from(KeyCode::PageUp)));
    app.update(Msg::Key(KeyEvent::from(KeyCode::PageUp)));
    let up = draw(&app, 80, 24);
    assert_ne!(
        bottom, up,
        "two PgUp after overshooting move the panel: {up:#?}"
    );
}

/// A failed unit in a complete grid: the factor view's ANOVA keeps each term's own error and
/// says which seed the strata left out (issue 41, 6).
#[test]
fn the_factor_view_names_the_seed_a_failed_unit_left_out_of_the_strata() {
    let text = r#"(name: "g", defaults: (seeds: 3, epochs: 2),
        grid: (arch: ["512-128", "512-256-128"], placement: [Every, First]))"#;
    let mut app = finished(text, 2, |g, k, _| {
        0.05 + (g / 2) as f32 * 0.01 + (g % 2) as f32 * 0.02 + k as f32 * 0.003 * (1 + g) as f32
    });
    let run = app.run.as_mut().unwrap();
    let last = run.record.units.iter().map(|v| v.spec.seed).max().unwrap();
    let v = run
        .record
        .units
        .iter_mut()
        .find(|v| v.spec.seed == last)
        .unwrap();
    v.status = mnist_lab::runs::UnitStatus::Failed;
    v.history.clear();
    app.update(key('4'));
    let s = draw(&app, 160, 50);
    assert!(contains(&s, "own seed error (G-G)"), "{s:#?}");
    assert!(
        contains(&s, &format!("seed {last} left out: a unit failed")),
        "{s:#?}"
    );
}

/// At 80×24 the pairs view's A-vs-B box is as tall as its sentences: the verdict's end is on
/// screen, not cut after "→ under" at the box's edge.
#[test]
fn the_pairs_verdict_is_whole_at_80_by_24() {
    let mut app = two_app();
    app.update(key('6'));
    let s = draw(&app, 80, 24);
    let text = s.join(" ");
    assert!(
        text.contains("corrects for") || text.contains("less often"),
        "{s:#?}"
    );
    assert!(
        contains(&s, "test acc"),
        "the accuracy sentence too: {s:#?}"
    );
}

/// A cell that never trained (every seed of one variant failed): the cells are no complete
/// grid, and the factor view says its ANOVA is the REML mixed model's, with Satterthwaite's
/// df beside each term's (issue 41, 1).
#[test]
fn the_factor_view_names_the_mixed_model_where_the_grid_is_incomplete() {
    let text = r#"(name: "g", defaults: (seeds: 3, epochs: 2),
        grid: (arch: ["512-128", "512-256-128"], placement: [Every, First]))"#;
    let mut app = finished(text, 2, |g, k, _| {
        0.05 + (g / 2) as f32 * 0.01
            + (g % 2) as f32 * 0.02
            + k as f32 * 0.003 * (1 + g) as f32
            + ((g * 7 + k * 3) % 5) as f32 * 0.001
    });
    let run = app.run.as_mut().unwrap();
    let gone = run.record.units[run.record.units.len() - 1]
        .spec
        .variant
        .clone();
    for v in run
        .record
        .units
        .iter_mut()
        .filter(|v| v.spec.variant == gone)
    {
        v.status = mnist_lab::runs::UnitStatus::Failed;
        v.history.clear();
    }
    app.update(key('4'));
    let s = draw(&app, 160, 90);
    assert!(contains(&s, "REML mixed, Satterthwaite"), "{s:#?}");
    assert!(!contains(&s, "NaN"), "{s:#?}");
    assert!(
        !contains(&s, "  residual"),
        "no pooled residual row: {s:#?}"
    );
    // Its variance components, each named, the residual's among them.
    assert!(contains(&s, "σ² seed"), "{s:#?}");
    assert!(contains(&s, "σ² residual"), "{s:#?}");
    // E's figure notes: the same table, no empty partial-η² field at each line's end.
    let run = app.run.as_ref().unwrap();
    let analysis = app.factors.analysis(run).unwrap();
    let lines = mnist_lab::tui::views::factors::effect_lines(analysis, app.factors.metric);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("variance components (REML)")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().all(|l| !l.trim_end().ends_with('·')),
        "{lines:#?}"
    );
}
