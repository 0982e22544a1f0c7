//! Presets: RON files with `defaults` and per-variant overrides, resolved into `VariantSpec`s.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::ARCHITECTURES;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    ReLU,
    Sigmoid,
    Tanh,
    LeakyReLU {
        #[serde(default = "default_leaky_alpha")]
        alpha: f32,
    },
    ELU {
        #[serde(default = "one")]
        alpha: f32,
    },
}

fn default_leaky_alpha() -> f32 {
    0.3
}
fn one() -> f32 {
    1.0
}

impl Activation {
    pub fn label(&self) -> String {
        match self {
            Activation::ReLU => "ReLU".into(),
            Activation::Sigmoid => "Sigmoid".into(),
            Activation::Tanh => "Tanh".into(),
            Activation::LeakyReLU { alpha } => format!("LeakyReLU({alpha})"),
            Activation::ELU { alpha } => format!("ELU({alpha})"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Init {
    HeNormal,
    GlorotUniform,
    LecunUniform,
}

/// Where BatchNorm + Dropout go among the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    Every,
    First,
    Last,
    None,
}

impl Placement {
    /// Whether hidden layer `layer` (0-based) of `hidden` gets BN + Dropout.
    pub fn applies(self, layer: usize, hidden: usize) -> bool {
        match self {
            Placement::Every => true,
            Placement::First => layer == 0,
            Placement::Last => layer + 1 == hidden,
            Placement::None => false,
        }
    }
}

/// `placement: None` must mean `Placement::None`, not a missing value: RON's implicit `Some`
/// would read a bare `None` as `Option::None`, so the field is read as a plain `Placement`.
fn placement_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Placement>, D::Error> {
    Placement::deserialize(d).map(Some)
}

/// Optimisers with Keras's hyperparameter names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum OptimizerSpec {
    Sgd {
        #[serde(default = "lr_01")]
        lr: f32,
        #[serde(default)]
        momentum: f32,
        #[serde(default)]
        nesterov: bool,
    },
    Adam {
        #[serde(default = "lr_0001")]
        lr: f32,
        #[serde(default = "beta1")]
        beta1: f32,
        #[serde(default = "beta2")]
        beta2: f32,
        #[serde(default = "eps")]
        eps: f32,
    },
    RMSprop {
        #[serde(default = "lr_0001")]
        lr: f32,
        #[serde(default = "rho_09")]
        rho: f32,
        #[serde(default = "eps")]
        eps: f32,
    },
    Adagrad {
        #[serde(default = "lr_001")]
        lr: f32,
        #[serde(default = "acc_01")]
        initial_accumulator: f32,
        #[serde(default = "eps")]
        eps: f32,
    },
    Adadelta {
        #[serde(default = "one")]
        lr: f32,
        #[serde(default = "rho_095")]
        rho: f32,
        #[serde(default = "eps")]
        eps: f32,
    },
}

fn lr_01() -> f32 {
    0.01
}
fn lr_001() -> f32 {
    0.01
}
fn lr_0001() -> f32 {
    0.001
}
fn beta1() -> f32 {
    0.9
}
fn beta2() -> f32 {
    0.999
}
fn eps() -> f32 {
    1e-7
}
fn rho_09() -> f32 {
    0.9
}
fn rho_095() -> f32 {
    0.95
}
fn acc_01() -> f32 {
    0.1
}

impl OptimizerSpec {
    pub fn label(&self) -> String {
        match self {
            OptimizerSpec::Sgd {
                momentum, nesterov, ..
            } if *momentum > 0.0 => {
                if *nesterov {
                    "SGD+Nesterov".into()
                } else {
                    "SGD+momentum".into()
                }
            }
            OptimizerSpec::Sgd { .. } => "SGD".into(),
            OptimizerSpec::Adam { .. } => "Adam".into(),
            OptimizerSpec::RMSprop { .. } => "RMSprop".into(),
            OptimizerSpec::Adagrad { .. } => "Adagrad".into(),
            OptimizerSpec::Adadelta { .. } => "Adadelta".into(),
        }
    }

    pub fn lr(&self) -> f32 {
        match *self {
            OptimizerSpec::Sgd { lr, .. }
            | OptimizerSpec::Adam { lr, .. }
            | OptimizerSpec::RMSprop { lr, .. }
            | OptimizerSpec::Adagrad { lr, .. }
            | OptimizerSpec::Adadelta { lr, .. } => lr,
        }
    }
}

/// The study's reported numbers for a variant, shown beside ours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub test_loss: f32,
    pub test_acc: f32,
}

/// Settings shared by `defaults` and each variant; every field optional so variants override.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub activation: Option<Activation>,
    #[serde(default)]
    pub init: Option<Init>,
    #[serde(default)]
    pub optimizer: Option<OptimizerSpec>,
    #[serde(default)]
    pub dropout: Option<f32>,
    #[serde(default, deserialize_with = "placement_field")]
    pub placement: Option<Placement>,
    #[serde(default)]
    pub epochs: Option<usize>,
    #[serde(default)]
    pub batch_size: Option<usize>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub train_subset: Option<usize>,
    #[serde(default)]
    pub test_subset: Option<usize>,
}

/// One entry of `variants: [...]`: a name, its overrides, and optionally the study's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantEntry {
    pub name: String,
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub activation: Option<Activation>,
    #[serde(default)]
    pub init: Option<Init>,
    #[serde(default)]
    pub optimizer: Option<OptimizerSpec>,
    #[serde(default)]
    pub dropout: Option<f32>,
    #[serde(default, deserialize_with = "placement_field")]
    pub placement: Option<Placement>,
    #[serde(default)]
    pub epochs: Option<usize>,
    #[serde(default)]
    pub batch_size: Option<usize>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub train_subset: Option<usize>,
    #[serde(default)]
    pub test_subset: Option<usize>,
    #[serde(default)]
    pub reference: Option<Reference>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub defaults: Settings,
    pub variants: Vec<VariantEntry>,
}

/// A fully resolved variant: what the engine trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantSpec {
    pub name: String,
    pub arch: String,
    pub activation: Activation,
    pub init: Init,
    pub optimizer: OptimizerSpec,
    pub dropout: f32,
    pub placement: Placement,
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    pub train_subset: Option<usize>,
    pub test_subset: Option<usize>,
    pub reference: Option<Reference>,
}

impl VariantSpec {
    /// Number of hidden layers of the architecture ("512-128" → 2).
    pub fn hidden_layers(&self) -> usize {
        self.arch.split('-').count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    pub name: String,
    pub description: String,
    /// Where it was read from ("<embedded>/quick.ron" for the built-in copies).
    pub source: String,
    pub variants: Vec<VariantSpec>,
}

/// Limits that keep a preset sane; beyond them it is almost certainly a typo.
pub const MAX_VARIANTS: usize = 1000;
pub const MAX_EPOCHS: usize = 10_000;
pub const MAX_BATCH: usize = 60_000;

#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        path: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Presets compiled into the binary, so the app works from any folder, offline.
pub const EMBEDDED: [(&str, &str); 4] = [
    ("quick.ron", include_str!("../presets/quick.ron")),
    ("paper-2019.ron", include_str!("../presets/paper-2019.ron")),
    (
        "activations.ron",
        include_str!("../presets/activations.ron"),
    ),
    ("optimizers.ron", include_str!("../presets/optimizers.ron")),
];

fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// Parses and validates preset text; `path` is only used in messages.
pub fn parse(path: &str, text: &str) -> Result<Preset, PresetError> {
    let file: PresetFile = ron_options()
        .from_str(text)
        .map_err(|e| PresetError::Syntax {
            path: path.to_string(),
            line: e.span.start.line,
            col: e.span.start.col,
            message: e.code.to_string(),
        })?;
    resolve(path, file)
}

fn invalid(path: &str, message: String) -> PresetError {
    PresetError::Invalid {
        path: path.to_string(),
        message,
    }
}

/// Applies defaults to every variant and checks every value.
pub fn resolve(path: &str, file: PresetFile) -> Result<Preset, PresetError> {
    if file.name.trim().is_empty() {
        return Err(invalid(path, "preset name is empty".into()));
    }
    if file.variants.is_empty() {
        return Err(invalid(path, "preset has no variants".into()));
    }
    if file.variants.len() > MAX_VARIANTS {
        return Err(invalid(
            path,
            format!(
                "preset has {} variants; at most {MAX_VARIANTS} are supported",
                file.variants.len()
            ),
        ));
    }
    let d = &file.defaults;
    let mut seen = std::collections::HashSet::new();
    let mut variants = Vec::with_capacity(file.variants.len());
    for v in &file.variants {
        let name = v.name.trim().to_string();
        let at = |msg: String| invalid(path, format!("variant {name:?}: {msg}"));
        if name.is_empty() {
            return Err(invalid(path, "a variant has an empty name".into()));
        }
        if !seen.insert(name.clone()) {
            return Err(at("duplicate variant name".into()));
        }
        let arch = v
            .arch
            .clone()
            .or_else(|| d.arch.clone())
            .ok_or_else(|| at("no arch given (set it in the variant or in defaults)".into()))?;
        if !ARCHITECTURES.contains(&arch.as_str()) {
            return Err(at(format!(
                "unknown architecture {arch:?}; supported: {}. To add one, add a line to the \
                 architectures! macro in src/model/mod.rs",
                ARCHITECTURES.join(", ")
            )));
        }
        let spec = VariantSpec {
            name: name.clone(),
            arch,
            activation: v.activation.or(d.activation).unwrap_or(Activation::ReLU),
            init: v.init.or(d.init).unwrap_or(Init::HeNormal),
            optimizer: v.optimizer.or(d.optimizer).unwrap_or(OptimizerSpec::Adam {
                lr: 0.001,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-7,
            }),
            dropout: v.dropout.or(d.dropout).unwrap_or(0.5),
            placement: v.placement.or(d.placement).unwrap_or(Placement::Every),
            epochs: v.epochs.or(d.epochs).unwrap_or(20),
            batch_size: v.batch_size.or(d.batch_size).unwrap_or(128),
            seed: v.seed.or(d.seed).unwrap_or(0),
            train_subset: v.train_subset.or(d.train_subset),
            test_subset: v.test_subset.or(d.test_subset),
            reference: v.reference,
        };
        validate(&spec).map_err(at)?;
        variants.push(spec);
    }
    Ok(Preset {
        name: file.name.trim().to_string(),
        description: file.description,
        source: path.to_string(),
        variants,
    })
}

fn finite_positive(what: &str, x: f32) -> Result<(), String> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(format!("{what} must be a positive number, got {x}"))
    }
}

fn in_unit(what: &str, x: f32) -> Result<(), String> {
    if x.is_finite() && (0.0..1.0).contains(&x) {
        Ok(())
    } else {
        Err(format!("{what} must be in [0, 1), got {x}"))
    }
}

fn validate(s: &VariantSpec) -> Result<(), String> {
    in_unit("dropout", s.dropout)?;
    if s.epochs == 0 || s.epochs > MAX_EPOCHS {
        return Err(format!("epochs must be 1..={MAX_EPOCHS}, got {}", s.epochs));
    }
    if s.batch_size == 0 || s.batch_size > MAX_BATCH {
        return Err(format!(
            "batch_size must be 1..={MAX_BATCH}, got {}",
            s.batch_size
        ));
    }
    if s.train_subset == Some(0) || s.test_subset == Some(0) {
        return Err("train_subset and test_subset must be at least 1".into());
    }
    match s.activation {
        Activation::LeakyReLU { alpha } | Activation::ELU { alpha } => {
            finite_positive("activation alpha", alpha)?
        }
        _ => {}
    }
    match s.optimizer {
        OptimizerSpec::Sgd { lr, momentum, .. } => {
            finite_positive("lr", lr)?;
            in_unit("momentum", momentum)?;
        }
        OptimizerSpec::Adam {
            lr,
            beta1,
            beta2,
            eps,
        } => {
            finite_positive("lr", lr)?;
            in_unit("beta1", beta1)?;
            in_unit("beta2", beta2)?;
            finite_positive("eps", eps)?;
        }
        OptimizerSpec::RMSprop { lr, rho, eps } | OptimizerSpec::Adadelta { lr, rho, eps } => {
            finite_positive("lr", lr)?;
            in_unit("rho", rho)?;
            finite_positive("eps", eps)?;
        }
        OptimizerSpec::Adagrad {
            lr,
            initial_accumulator,
            eps,
        } => {
            finite_positive("lr", lr)?;
            if !(initial_accumulator.is_finite() && initial_accumulator >= 0.0) {
                return Err(format!(
                    "initial_accumulator must be >= 0, got {initial_accumulator}"
                ));
            }
            finite_positive("eps", eps)?;
        }
    }
    Ok(())
}

/// Loads a preset from a path, or from the embedded copies when `name` is e.g. "quick" and no
/// such file exists.
pub fn load(name_or_path: &str) -> Result<Preset, PresetError> {
    let path = PathBuf::from(name_or_path);
    if path.is_file() {
        return load_file(&path);
    }
    if path.is_dir() {
        return Err(PresetError::Io {
            path: name_or_path.to_string(),
            source: std::io::Error::other("is a directory, expected a .ron preset"),
        });
    }
    let stem = path
        .file_name()
        .and_then(|s| s.to_str())
        .map(|s| s.trim_end_matches(".ron").to_string())
        .unwrap_or_default();
    if let Some((file, text)) = EMBEDDED
        .iter()
        .find(|(f, _)| f.trim_end_matches(".ron") == stem)
    {
        let local = Path::new("presets").join(file);
        if local.is_file() {
            return load_file(&local);
        }
        return parse(&format!("<embedded>/{file}"), text);
    }
    Err(PresetError::Io {
        path: name_or_path.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "no such file, and no built-in preset of that name (built-in: {})",
                EMBEDDED
                    .iter()
                    .map(|(f, _)| f.trim_end_matches(".ron"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    })
}

pub fn load_file(path: &Path) -> Result<Preset, PresetError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io {
        path: shown.clone(),
        source,
    })?;
    parse(&shown, &text)
}

/// Every preset the user can pick: `presets/*.ron` in the working folder, then the embedded
/// ones not shadowed by a file of the same name. Broken files are returned as errors.
pub fn discover(dir: &Path) -> Vec<(String, Result<Preset, PresetError>)> {
    let mut out = Vec::new();
    let mut names = std::collections::HashSet::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ron"))
            .collect();
        paths.sort();
        for p in paths {
            if let Some(f) = p.file_name().and_then(|f| f.to_str()) {
                names.insert(f.to_string());
            }
            out.push((p.display().to_string(), load_file(&p)));
        }
    }
    for (file, text) in EMBEDDED {
        if !names.contains(file) {
            let label = format!("<embedded>/{file}");
            out.push((label.clone(), parse(&label, text)));
        }
    }
    out
}
