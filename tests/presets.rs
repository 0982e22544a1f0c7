//! Preset parsing: the shipped files, and every validation error.

use mnist_lab::preset::{self, Activation, OptimizerSpec, Placement};

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
        assert!(!p.variants.is_empty(), "{file}");
    }
}

#[test]
fn paper_2019_has_the_studys_15_rows() {
    let p = preset::load("paper-2019").unwrap();
    assert_eq!(p.variants.len(), 15);
    for v in &p.variants {
        assert_eq!((v.epochs, v.batch_size), (20, 128));
        assert!(
            v.reference.is_some(),
            "{} lacks the study's numbers",
            v.name
        );
    }
    let count = |layers: usize, placement: Placement, adadelta: bool| {
        p.variants
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
        .variants
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
    let (a, b) = (&p.variants[0], &p.variants[1]);
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
fn unknown_architecture_lists_the_supported_ones() {
    let e = err(r#"(name: "p", variants: [(name: "a", arch: "999-1")])"#);
    assert!(e.contains("unknown architecture \"999-1\""), "{e}");
    assert!(e.contains("512-256-128-64-32"), "{e}");
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
