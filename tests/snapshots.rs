//! Snapshots of what a person sees (issue "The dashboard shows only what is true", 9): the
//! picker and all seven run views at 80×24, 120×40 and 160×48, in colour and without. A
//! colour snapshot is the screen's text and, under it, a map of each cell's style (one letter
//! per distinct style, the letters' styles listed), so a colour that changes shows in a diff.
//!
//! After a deliberate change: `INSTA_UPDATE=always cargo test --release --test snapshots`,
//! then read the diff of `tests/snapshots/` before committing it.

mod common;

use crossterm::event::{KeyCode, KeyEvent};
use mnist_lab::tui::app::{App, Msg};

use common::fixtures::{finished, with_digits};
use common::screen::buffer;

/// A 2×2 grid over three seeds: every view has something to draw (effects, pairs, bands).
const GRID: &str = r#"(name: "snap", defaults: (arch: "128-64", seeds: 3, epochs: 5),
    grid: (placement: [Every, First], dropout: [0.2, 0.5]))"#;

fn app() -> App {
    let mut app = finished(GRID, 5, |g, k, e| {
        0.04 + 0.01 * g as f32 + 0.3 / e as f32 + 0.002 * k as f32 * (g % 2) as f32
    });
    // What a machine would change: the host, its CPU and the time.
    if let Some(run) = app.run.as_mut() {
        run.record.environment = mnist_lab::runs::record::Environment {
            crate_version: "0.0.0".into(),
            git_revision: None,
            cpu_model: Some("a CPU".into()),
            threads: 2,
            data_dir: "data/mnist".into(),
            kernels: "AVX2+FMA".into(),
        };
        run.record.created = 1_764_590_400;
    }
    with_digits(&mut app);
    app
}

/// The screen's text, then (in colour) the style of every cell.
fn snapshot(app: &App, w: u16, h: u16) -> String {
    let buf = buffer(app, w, h);
    let mut text = String::new();
    for y in 0..h {
        let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        text.push_str(row.trim_end());
        text.push('\n');
    }
    if app.no_color {
        return text;
    }
    let mut styles: Vec<String> = Vec::new();
    text.push_str("-- styles --\n");
    for y in 0..h {
        let row: String = (0..w)
            .map(|x| {
                let s = buf[(x, y)].style();
                let key = format!("{:?} {:?} {:?}", s.fg, s.bg, s.add_modifier);
                let i = styles.iter().position(|k| *k == key).unwrap_or_else(|| {
                    styles.push(key);
                    styles.len() - 1
                });
                char::from_u32(0x30 + i as u32).unwrap_or('?')
            })
            .collect();
        text.push_str(&row);
        text.push('\n');
    }
    for (i, k) in styles.iter().enumerate() {
        text.push_str(&format!(
            "{} {k}\n",
            char::from_u32(0x30 + i as u32).unwrap_or('?')
        ));
    }
    text
}

#[test]
fn every_screen_at_three_sizes_in_colour_and_without() {
    let screens: [(&str, Option<char>); 8] = [
        ("picker", None),
        ("live", Some('1')),
        ("grid", Some('2')),
        ("table", Some('3')),
        ("factors", Some('4')),
        ("digits", Some('5')),
        ("pairs", Some('6')),
        ("overlay", Some('7')),
    ];
    let mut taken = 0;
    for (name, key) in screens {
        let mut app = app();
        match key {
            Some(k) => {
                app.update(Msg::Key(KeyEvent::from(KeyCode::Char(k))));
            }
            None => {
                app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
            }
        }
        for no_color in [false, true] {
            app.no_color = no_color;
            for (w, h) in [(80, 24), (120, 40), (160, 48)] {
                let mode = if no_color { "plain" } else { "colour" };
                insta::assert_snapshot!(format!("{name}-{w}x{h}-{mode}"), snapshot(&app, w, h));
                taken += 1;
            }
        }
    }
    assert_eq!(taken, 8 * 3 * 2);
}
