//! Presets: RON files with `defaults` and per-variant overrides, resolved into `VariantSpec`s.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::spec::{
    Activation, Arch, Init, OptimizerSpec, Placement, Reference, VariantSpec, ARCHITECTURES,
};

/// `placement: None` must mean `Placement::None`, not a missing value: RON's implicit `Some`
/// would read a bare `None` as `Option::None`, so the field is read as a plain `Placement`.
fn placement_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Placement>, D::Error> {
    Placement::deserialize(d).map(Some)
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
    #[error("{path}: cannot read: {error}")]
    Io { path: String, error: std::io::Error },
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
    // Editors on Windows save a byte-order mark; it is not part of the RON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
        let arch = Arch::parse(&arch).map_err(|e| at(e.to_string()))?;
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
    if let Some(r) = s.reference {
        if !(r.test_loss.is_finite() && r.test_loss >= 0.0) {
            return Err(format!(
                "reference test_loss must be a finite number >= 0, got {}",
                r.test_loss
            ));
        }
        if !(r.test_acc.is_finite() && (0.0..=1.0).contains(&r.test_acc)) {
            return Err(format!(
                "reference test_acc must be in [0, 1], got {}",
                r.test_acc
            ));
        }
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
    let io = |message: &str| PresetError::Io {
        path: name_or_path.to_string(),
        error: std::io::Error::other(message.to_string()),
    };
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => return load_file(&path),
        Ok(m) if m.is_dir() => return Err(io("is a directory, expected a .ron preset file")),
        Ok(_) => {
            return Err(io(
                "is not a regular file (a device, pipe or socket), expected a .ron preset file",
            ))
        }
        // Not there: perhaps the name of a built-in preset (below).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !is_symlink(&path) => {}
        Err(error) => {
            return Err(PresetError::Io {
                path: name_or_path.to_string(),
                error,
            })
        }
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
        error: std::io::Error::new(
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

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

pub fn load_file(path: &Path) -> Result<Preset, PresetError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| PresetError::Io {
        path: shown.clone(),
        error,
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
