//! Apps in known states, for drawing: a run with every unit finished, and digits loaded.

use mnist_lab::engine::Event;
use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord};
use mnist_lab::spec::EpochMetrics;
use mnist_lab::tui::app::{App, Msg, PickerEntry};

/// An app that ran `text` with every unit finished: `loss(variant, seed index, epoch)`.
pub fn finished(text: &str, epochs: usize, loss: impl Fn(usize, usize, usize) -> f32) -> App {
    let p = preset::parse("<t>", text).unwrap();
    let mut app = App::new(vec![PickerEntry {
        label: "t.ron".into(),
        preset: Ok(p.clone()),
    }]);
    let record = RunRecord::new(&p, Environment::detect("t"));
    let groups = mnist_lab::insight::stats::variant_groups(&record);
    app.update(Msg::Started(record, None));
    for (g, units) in groups.iter().enumerate() {
        for (k, &i) in units.iter().enumerate() {
            app.update(Msg::Engine(Event::UnitStarted {
                index: i,
                name: String::new(),
                epochs,
                batches_per_epoch: 10,
            }));
            for e in 1..=epochs {
                let l = loss(g, k, e);
                app.update(Msg::Engine(Event::EpochEnd {
                    index: i,
                    metrics: EpochMetrics {
                        epoch: e,
                        train_loss: l,
                        train_acc: 1.0 - l,
                        test_loss: l,
                        test_acc: 1.0 - l,
                        val_loss: Some(l * 1.1),
                        val_acc: Some(1.0 - l * 1.1),
                        lr: Some(0.001),
                        seconds: 1.0,
                        samples_per_sec: 1e4,
                        threads: None,
                    },
                }));
            }
            app.update(Msg::Engine(Event::UnitFinished {
                index: i,
                seconds: 1.0,
                weights: None,
            }));
        }
    }
    app.update(Msg::Engine(Event::RunFinished { cancelled: false }));
    app
}

/// A finished variant's digits, for the digits view: a few synthetic test images.
pub fn with_digits(app: &mut App) {
    use mnist_lab::data::{Dataset, Split};
    const PIXELS: usize = 784;
    let n = 40;
    let mut images = vec![0u8; n * PIXELS];
    for (i, px) in images.iter_mut().enumerate() {
        *px = ((i * 37) % 251) as u8;
    }
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let split = Split {
        images,
        labels,
        pixels: PIXELS,
    };
    let data = std::sync::Arc::new(Dataset::in_memory(
        "t".as_ref(),
        split.clone(),
        split,
        (28, 28),
        10,
    ));
    let name = app.unit_name_selected();
    app.update(Msg::DigitsLoaded(mnist_lab::tui::views::digits::Digits {
        variant: app.selected,
        name,
        data,
        predictions: (0..n).map(|i| ((i * 3) % 10) as u8).collect(),
        confidence: vec![0.7; n],
        true_filter: None,
        pred_filter: None,
        page: 0,
    }));
}
