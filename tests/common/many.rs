//! An app with `n` variants of which the first half finished `epochs` epochs: for rendering
//! at size extremes (tests) and frame-time measurement (benches).

use mnist_lab::engine::Event;
use mnist_lab::runs::{record::Environment, RunRecord};
use mnist_lab::spec::EpochMetrics;
use mnist_lab::tui::app::{App, Msg, PickerEntry};

pub fn app_with_variants(n: usize, epochs: usize) -> App {
    let variants: Vec<String> = (0..n)
        .map(|i| format!("(name: \"variant number {i} with a long name\", arch: \"256\")"))
        .collect();
    let p = mnist_lab::preset::parse(
        "many.ron",
        &format!("(name: \"many\", variants: [{}])", variants.join(",")),
    )
    .expect("the fixture preset parses");
    let mut app = App::new(vec![PickerEntry {
        label: "many.ron".into(),
        preset: Ok(p.clone()),
    }]);
    app.update(Msg::Started(
        RunRecord::new(&p, Environment::detect("")),
        None,
    ));
    for i in 0..n / 2 {
        app.update(Msg::Engine(Event::UnitStarted {
            index: i,
            name: String::new(),
            epochs: 20,
            batches_per_epoch: 10,
        }));
        for e in 1..=epochs {
            let metrics = EpochMetrics {
                epoch: e,
                train_loss: 0.5 / e as f32,
                train_acc: 0.9,
                test_loss: 0.4 / e as f32,
                test_acc: 0.95,
                seconds: 1.0,
                samples_per_sec: 1e4,
                ..Default::default()
            };
            app.update(Msg::Engine(Event::EpochEnd { index: i, metrics }));
        }
        app.update(Msg::Engine(Event::UnitFinished {
            index: i,
            seconds: 3.0,
            weights: None,
        }));
    }
    app
}
