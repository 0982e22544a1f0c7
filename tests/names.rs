//! Names that follow the network (issue "The dashboard shows only what is true", 3): after
//! `--arch`, a variant's name says the architecture that trained, and a run's record keeps the
//! overrides it was started with, which its detail and the runs table show.

use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord};
use mnist_lab::session::{apply_overrides, Overrides};

fn with_arch(preset_name: &str, arch: &str) -> preset::Preset {
    let o = Overrides {
        arch: Some(arch.into()),
        epochs: Some(5),
        ..Default::default()
    };
    apply_overrides(preset::load(preset_name).unwrap(), &o).unwrap()
}

fn variant_names(p: &preset::Preset) -> Vec<String> {
    p.variant_names().into_iter().map(str::to_string).collect()
}

#[test]
fn a_name_that_says_its_architecture_says_the_new_one() {
    let p = with_arch("quick", "1000-300");
    assert_eq!(
        variant_names(&p),
        ["1000-300 every", "1000-300 none", "1000-300 sgd"]
    );
    assert!(p.units.iter().all(|u| u.arch.name() == "1000-300"));
    assert_eq!(p.overrides, ["--arch 1000-300", "--epochs 5"]);
}

#[test]
fn other_names_get_the_architecture_appended_and_stay_distinct() {
    // The study's names do not say their widths: the new one is appended.
    let p = with_arch("paper-2019", "64");
    assert!(
        variant_names(&p).iter().all(|n| n.ends_with(" · 64")),
        "{:?}",
        variant_names(&p)
    );
    // Grid names start with their widths; three of them would become one: all get it appended.
    let p = with_arch("placement-grid", "64");
    let names = variant_names(&p);
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(" · 64")), "{names:?}");
    // Unit names (a variant and its seed) follow their variant.
    for u in &p.units {
        assert!(
            u.name.starts_with(u.variant_name()),
            "{} / {}",
            u.name,
            u.variant_name()
        );
    }
    // The preset's own architecture is no override: names stay.
    let p = with_arch("quick", "256");
    assert!(variant_names(&p).contains(&"256 sgd".to_string()));
}

#[test]
fn the_runs_detail_shows_the_overrides_it_was_started_with() {
    let p = with_arch("quick", "1000-300");
    let r = RunRecord::new(&p, Environment::detect("t"));
    assert_eq!(r.overrides, ["--arch 1000-300", "--epochs 5"]);
    let detail = mnist_lab::tui::views::picker::trained_with(&r);
    assert!(
        detail.contains("started with --arch 1000-300 --epochs 5"),
        "{detail}"
    );
    // Kept through run.json.
    let json = serde_json::to_string(&r).unwrap();
    let back: RunRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back.overrides, r.overrides);
}
