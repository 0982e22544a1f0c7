//! Preset parsing: the shipped files, and every validation error.

use mnist_lab::preset;
use mnist_lab::spec::{Activation, OptimizerSpec, Placement};

fn err(text: &str) -> String {
    preset::parse("bad.ron", text)
        .expect_err("should be rejected")
        .to_string()
}

const OK_VARIANT: &str = r#"(name: "a", arch: "512-128")"#;

fn with_defaults(defaults: &str) -> String {
    format!("(name: \"p\", defaults: ({defaults}), variants: [{OK_VARIANT}])")
}

#[test]
fn shipped_presets_all_parse() {
    for (file, _) in preset::EMBEDDED {
        let path = format!("{}/presets/{file}", env!("CARGO_MANIFEST_DIR"));
        let p = preset::load_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!p.units.is_empty(), "{file}");
    }
}

#[test]
fn paper_2019_has_the_studys_15_rows() {
    let p = preset::load("paper-2019").unwrap();
    assert_eq!(p.units.len(), 15);
    for v in &p.units {
        assert_eq!((v.epochs, v.batch_size), (20, 128));
        assert!(
            v.reference.is_some(),
            "{} lacks the study's numbers",
            v.name
        );
    }
    let count = |layers: usize, placement: Placement, adadelta: bool| {
        p.units
            .iter()
            .filter(|v| {
                v.hidden_layers() == layers
                    && v.placement == placement
                    && matches!(v.optimizer, OptimizerSpec::Adadelta { .. }) == adadelta
            })
            .count()
    };
    for layers in [2, 3, 5] {
        assert_eq!(count(layers, Placement::Every, false), 1);
        assert_eq!(count(layers, Placement::Every, true), 1);
        assert_eq!(count(layers, Placement::None, false), 1);
        assert_eq!(count(layers, Placement::First, false), 1);
        assert_eq!(count(layers, Placement::Last, false), 1);
    }
    let adadelta = p
        .units
        .iter()
        .find(|v| v.name == "2L adadelta every")
        .unwrap();
    assert_eq!(adadelta.dropout, 0.2);
    assert_eq!(
        adadelta.optimizer,
        OptimizerSpec::Adadelta {
            lr: 1.0,
            rho: 0.95,
            eps: 1e-7
        }
    );
}

#[test]
fn defaults_apply_and_variants_override() {
    let p = preset::parse(
        "x.ron",
        r#"(name: "p", defaults: (arch: "256", epochs: 4, dropout: 0.3, activation: Tanh),
            variants: [(name: "a"), (name: "b", epochs: 2, activation: LeakyReLU(alpha: 0.1),
                        placement: None, optimizer: Sgd(lr: 0.5, momentum: 0.9, nesterov: true))])"#,
    )
    .unwrap();
    let (a, b) = (&p.units[0], &p.units[1]);
    assert_eq!((a.arch.as_str(), a.epochs, a.dropout), ("256", 4, 0.3));
    assert_eq!(a.activation, Activation::Tanh);
    assert_eq!(a.placement, Placement::Every);
    assert_eq!(b.epochs, 2);
    assert_eq!(b.placement, Placement::None);
    assert_eq!(b.activation, Activation::LeakyReLU { alpha: 0.1 });
    assert_eq!(b.optimizer.label(), "SGD+Nesterov");
}

#[test]
fn syntax_errors_give_line_and_column() {
    let e = err("(name: \"p\",\n variants: [\n (name: \"a\" arch: \"512-128\")])");
    assert!(e.starts_with("bad.ron:3:"), "{e}");
}

#[test]
fn a_bad_architecture_names_the_variant_the_reason_and_the_form() {
    let e = err(r#"(name: "p", variants: [(name: "a", arch: "5000-1")])"#);
    assert!(e.contains("variant \"a\""), "{e}");
    assert!(
        e.contains("architecture \"5000-1\": a layer of width 5000 is wider than 4096"),
        "{e}"
    );
    assert!(
        e.contains("\"1024-512-256\"") && e.contains("[1024, 512, 256]"),
        "{e}"
    );
    let e = err(r#"(name: "p", variants: [(name: "a", arch: [])])"#);
    assert!(e.contains("no hidden layer given"), "{e}");
}

/// Widths as a string or a list, in variants, defaults and grids, outside the dfdx menu too.
#[test]
fn architectures_are_any_widths_as_a_string_or_a_list() {
    let p = preset::parse(
        "p.ron",
        r#"(name: "p", defaults: (arch: [1000, 300]),
            grid: (arch: ["64", [256, 256], "1024-1024"], placement: [Every, None]),
            variants: [(name: "d", placement: None), (name: "l", arch: [64], placement: None)])"#,
    )
    .unwrap();
    let archs: Vec<String> = p.units.iter().map(|u| u.arch.name()).collect();
    for a in ["1000-300", "64", "256-256", "1024-1024"] {
        assert!(archs.contains(&a.to_string()), "{a}: {archs:?}");
    }
    assert!(
        p.units.iter().any(|u| u.name == "256-256 · Every"),
        "grid names use the widths"
    );
    assert_eq!(p.units.len(), 3 * 2 + 2);
}

#[test]
fn unknown_fields_and_wrong_types_are_rejected() {
    let e = err(r#"(name: "p", variants: [(name: "a", arch: "256", colour: 3)])"#);
    assert!(e.contains("colour"), "{e}");
    let e = err(r#"(name: "p", variants: [(name: "a", arch: "256", epochs: "ten")])"#);
    assert!(e.starts_with("bad.ron:1:"), "{e}");
}

#[test]
fn out_of_range_values() {
    let cases = [
        ("dropout: 1.0", "dropout must be in [0, 1)"),
        ("dropout: -0.1", "dropout must be in [0, 1)"),
        ("epochs: 0", "epochs must be"),
        ("batch_size: 0", "batch_size must be"),
        ("train_subset: 0", "train_subset"),
        ("optimizer: Adam(lr: -1.0)", "lr must be a positive number"),
        ("optimizer: Adam(beta1: 1.0)", "beta1 must be in [0, 1)"),
        ("optimizer: Adadelta(rho: 1.5)", "rho must be in [0, 1)"),
        (
            "optimizer: Sgd(momentum: 1.0)",
            "momentum must be in [0, 1)",
        ),
        (
            "activation: ELU(alpha: 0.0)",
            "alpha must be a positive number",
        ),
    ];
    for (defaults, expected) in cases {
        let e = err(&with_defaults(defaults));
        assert!(e.contains(expected), "{defaults}: {e}");
        assert!(e.starts_with("bad.ron: variant \"a\""), "{e}");
    }
}

#[test]
fn duplicate_empty_and_missing() {
    let e = err(r#"(name: "p", variants: [(name: "a", arch: "256"), (name: "a", arch: "256")])"#);
    assert!(e.contains("duplicate variant name"), "{e}");
    let e = err(r#"(name: "p", variants: [])"#);
    assert!(e.contains("no variants"), "{e}");
    let e = err(r#"(name: "p", variants: [(name: "a")])"#);
    assert!(e.contains("no arch given"), "{e}");
    let e = err(r#"(name: "", variants: [(name: "a", arch: "256")])"#);
    assert!(e.contains("name is empty"), "{e}");
}

#[test]
fn too_many_variants() {
    let variants: Vec<String> = (0..10_000)
        .map(|i| format!("(name: \"v{i}\", arch: \"256\")"))
        .collect();
    let e = err(&format!(
        "(name: \"p\", variants: [{}])",
        variants.join(",")
    ));
    assert!(e.contains("10000 variants"), "{e}");
}

#[test]
fn missing_preset_file_is_a_clear_error() {
    let e = preset::load("no/such/file.ron").unwrap_err().to_string();
    assert!(
        e.contains("no/such/file.ron") && e.contains("built-in"),
        "{e}"
    );
}

#[test]
fn a_grid_expands_to_the_cartesian_product_with_generated_names() {
    let p = preset::parse(
        "<t>",
        r#"(name: "g", defaults: (arch: "128-64", epochs: 1),
            grid: (arch: ["512-128", "512-256-128"], placement: [Every, None],
                   optimizer: [Adam(lr: 0.001)], dropout: [0.2, 0.5]),
            variants: [(name: "extra", placement: First)])"#,
    )
    .unwrap();
    // 2 × 2 × 1 × 2 grid variants plus the explicit one, one seed each.
    assert_eq!(p.units.len(), 9);
    assert_eq!(p.units[0].name, "512-128 · Every · Adam · 0.2");
    assert_eq!(p.units[1].name, "512-128 · Every · Adam · 0.5");
    assert_eq!(p.units[2].name, "512-128 · None · Adam · 0.2");
    assert_eq!(p.units[7].name, "512-256-128 · None · Adam · 0.5");
    assert_eq!(p.units[7].arch, "512-256-128");
    assert_eq!(p.units[7].placement, Placement::None);
    assert_eq!(p.units[7].dropout, 0.5);
    assert_eq!(p.units[8].name, "extra");
    assert_eq!(
        p.units[8].arch, "128-64",
        "explicit variants take the defaults"
    );
    assert_eq!(p.variant_names().len(), 9);
}

#[test]
fn seeds_repeat_every_variant_and_count_toward_the_unit_limit() {
    let p = preset::parse(
        "<t>",
        r#"(name: "s", defaults: (arch: "128-64", seed: 10, seeds: 3),
            variants: [(name: "a"), (name: "b", seeds: [1, 7])])"#,
    )
    .unwrap();
    let names: Vec<&str> = p.units.iter().map(|u| u.name.as_str()).collect();
    // Seed-major: every variant's first seed before any variant's second.
    assert_eq!(names, ["a · s10", "b · s1", "a · s11", "b · s7", "a · s12"]);
    assert_eq!(p.units[3].seed, 7);
    assert_eq!(p.variant_names(), ["a", "b"]);
    // --seeds replaces the preset's repeats, from each variant's first seed.
    let o = mnist_lab::session::apply_overrides(
        p,
        &mnist_lab::session::Overrides {
            seeds: Some(2),
            only: vec!["b".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let names: Vec<&str> = o.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["b · s1", "b · s2"]);
}

#[test]
fn nonsense_grids_and_seeds_are_refused_with_the_reason() {
    let err = |text: &str| preset::parse("<t>", text).unwrap_err().to_string();
    let e = err(r#"(name: "g", defaults: (arch: "128-64"), grid: (placement: []))"#);
    assert!(e.contains("grid factor placement has no levels"), "{e}");
    let e = err(r#"(name: "g", defaults: (arch: "128-64"), grid: (colour: [1]))"#);
    assert!(e.contains("colour"), "{e}");
    let e = err(r#"(name: "g", defaults: (arch: "128-64"), grid: ())"#);
    assert!(e.contains("grid names no factor"), "{e}");
    // 10 × 10 × 10 variants × 6 seeds = 6,000 units > 5,000.
    let e = err(r#"(name: "g", defaults: (arch: "128-64", seeds: 6), grid: (
            dropout: [0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19],
            lr: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
            batch_size: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))"#);
    assert!(e.contains("5000"), "{e}");
    let e =
        err(r#"(name: "s", defaults: (arch: "128-64", seeds: [3, 3]), variants: [(name: "a")])"#);
    assert!(e.contains("seed twice"), "{e}");
    let e = err(r#"(name: "s", defaults: (arch: "128-64", seeds: 0), variants: [(name: "a")])"#);
    assert!(e.contains("at least one seed"), "{e}");
    let e = err(
        r#"(name: "s", defaults: (arch: "128-64", train_subset: 1000, validation: Holdout(1000)), variants: [(name: "a")])"#,
    );
    // The one holdout message, the same as a run on a smaller data set gets.
    assert!(
        e.contains("Holdout(1000) needs at least 1 image and fewer than the 1000 training images"),
        "{e}"
    );
    let e = err(
        r#"(name: "s", defaults: (arch: "128-64", schedule: ReduceOnPlateau(patience: 2, factor: 1.5)), variants: [(name: "a")])"#,
    );
    assert!(e.contains("factor must be in (0, 1)"), "{e}");
    let e = err(
        r#"(name: "s", defaults: (arch: "128-64", early_stopping: (patience: 0)), variants: [(name: "a")])"#,
    );
    assert!(e.contains("patience must be at least 1"), "{e}");
}

#[test]
fn the_study_presets_expand_as_documented() {
    let seeds = preset::load("paper-2019-seeds").unwrap();
    assert_eq!(seeds.units.len(), 75);
    assert_eq!(seeds.variant_names().len(), 15);
    assert!(seeds
        .units
        .iter()
        .all(|u| u.validation == mnist_lab::spec::Validation::Test));
    let grid = preset::load("placement-grid").unwrap();
    assert_eq!(grid.units.len(), 3 * 4 * 2 * 3);
    assert!(grid
        .units
        .iter()
        .all(|u| u.validation == mnist_lab::spec::Validation::Holdout(5000)));
    // A twelfth of the full training set is 5,000 images; of quick's 20,000, 1,666.
    let full = preset::parse(
        "<t>",
        r#"(name: "a", defaults: (arch: "256"), variants: [(name: "a")])"#,
    )
    .unwrap();
    assert_eq!(full.units[0].train_plan(60_000).unwrap().train, 55_000);
    let quick = preset::load("quick").unwrap();
    assert_eq!(
        quick.units[0].train_plan(60_000).unwrap().holdout,
        Some(18_334..20_000)
    );
    assert_eq!(
        quick.units[0].validation,
        mnist_lab::spec::Validation::Auto,
        "new presets hold out a twelfth by default"
    );
}

#[test]
fn an_absurd_seed_count_is_refused_before_anything_is_allocated() {
    let e = preset::parse(
        "<t>",
        r#"(name: "s", defaults: (arch: "128-64", seeds: 18446744073709551615), variants: [(name: "a")])"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("at most 5000 units"), "{e}");
}
