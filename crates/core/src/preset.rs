//! Presets: RON files with `defaults` and per-variant overrides, resolved into `UnitSpec`s.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spec::{
    Activation, Arch, DecisionTest, EarlyStopping, Engine, Init, OptimizerSpec, Placement,
    Reference, Schedule, UnitSpec, Validation,
};

/// `placement: None` must mean `Placement::None`, not a missing value: RON's implicit `Some`
/// would read a bare `None` as `Option::None`, so the field is read as a plain `Placement`.
fn placement_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Placement>, D::Error> {
    Placement::deserialize(d).map(Some)
}

/// Every preset field, declared once: the defaults struct (`Settings`), the per-variant
/// entry (`VariantEntry`: a name, the study's numbers and the same fields), the grid's level
/// lists (`Grid`, for the fields in `grid`, whose order is the order of a generated name's
/// parts, each with how its level is labelled) and the merge of an entry over the defaults.
/// A new field is one line here (and its default where `resolve` builds the unit spec).
macro_rules! preset_fields {
    (
        grid { $( $(#[$gm:meta])* $g:ident : $gt:ty => $label:expr ),* $(,)? }
        other { $( $(#[$om:meta])* $o:ident : $ot:ty ),* $(,)? }
    ) => {
        /// Settings shared by `defaults` and each variant; every field optional so variants
        /// override.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Settings {
            $( $(#[$gm])* #[serde(default)] pub $g: Option<$gt>, )*
            $( $(#[$om])* #[serde(default)] pub $o: Option<$ot>, )*
        }

        /// One entry of `variants: [...]`: a name, its overrides, and optionally the study's
        /// numbers.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct VariantEntry {
            pub name: String,
            #[serde(default)]
            pub reference: Option<Reference>,
            $( $(#[$gm])* #[serde(default)] pub $g: Option<$gt>, )*
            $( $(#[$om])* #[serde(default)] pub $o: Option<$ot>, )*
        }

        impl VariantEntry {
            /// This entry's settings over `defaults`: a field the entry sets wins.
            pub fn over(&self, defaults: &Settings) -> Settings {
                Settings {
                    $( $g: self.$g.clone().or_else(|| defaults.$g.clone()), )*
                    $( $o: self.$o.clone().or_else(|| defaults.$o.clone()), )*
                }
            }
        }

        /// `grid: (factor: [levels...], ...)`: every combination of the levels becomes a
        /// variant, named by its levels in this field order (e.g. "512-128 · Every · Adam ·
        /// 0.5").
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Grid {
            $( #[serde(default)] pub $g: Option<Vec<$gt>>, )*
        }

        impl Grid {
            /// The factors with levels, in name order.
            fn factors(&self) -> Result<Vec<Vec<Level>>, String> {
                let all = [
                    $( levels_of(&self.$g, stringify!($g), $label, |e, v| e.$g = Some(v))?, )*
                ];
                let factors: Vec<Vec<Level>> = all.into_iter().flatten().collect();
                if factors.is_empty() {
                    return Err("grid names no factor (give at least one, e.g. placement: \
                                [Every, None])"
                        .into());
                }
                Ok(factors)
            }
        }
    };
}

preset_fields! {
    grid {
        arch: ArchName => |a: &ArchName| a.0.clone(),
        #[serde(deserialize_with = "placement_field")]
        placement: Placement => |p: &Placement| p.to_string(),
        optimizer: OptimizerSpec => |o: &OptimizerSpec| o.label(),
        dropout: f32 => |d: &f32| d.to_string(),
        activation: Activation => |a: &Activation| a.label(),
        init: Init => |i: &Init| i.to_string(),
        batch_size: usize => |b: &usize| format!("batch {b}"),
        epochs: usize => |n: &usize| format!("{n} epochs"),
        lr: f32 => |l: &f32| format!("lr {l}"),
    }
    other {
        seed: u64,
        train_subset: usize,
        test_subset: usize,
        seeds: Seeds,
        validation: Validation,
        early_stopping: EarlyStopping,
        schedule: Schedule,
        engine: Engine,
        test: DecisionTest,
        margin: f64,
    }
}

/// An architecture as a preset writes it: hidden widths joined by '-' (`"1024-512"`) or as a
/// list (`[1024, 512]`); checked when the preset resolves (`Arch::parse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ArchName(pub String);

impl<'de> Deserialize<'de> for ArchName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ArchName;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("hidden widths as \"1024-512\" or [1024, 512]")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<ArchName, E> {
                Ok(ArchName(s.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, a: A) -> Result<ArchName, A::Error> {
                let widths =
                    Vec::<u64>::deserialize(serde::de::value::SeqAccessDeserializer::new(a))?;
                let parts: Vec<String> = widths.iter().map(u64::to_string).collect();
                Ok(ArchName(parts.join("-")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Repeats of a variant: `seeds: 5` (the variant's seed and the 4 after it), an explicit
/// list `seeds: [1, 2, 3]`, or `seeds: Until(min: 3, max: 20, half_width: 0.002)`: seeds
/// added in rounds until the comparisons with the best are decided (see `Until`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Seeds {
    Count(usize),
    List(Vec<u64>),
    Until(Until),
}

/// By hand: an untagged enum cannot read RON's named struct `Until(…)` (RON hands it over
/// as a map or as an enum variant, depending on how it is asked).
impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Seeds;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a count (5), a list of seeds ([1, 2, 3]) or Until(min: …, max: …, half_width: …)")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Seeds, E> {
                usize::try_from(n)
                    .map(Seeds::Count)
                    .map_err(|_| E::custom(format!("seeds {n} is too large")))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Seeds, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom(format!("seeds must not be negative, got {n}")))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, a: A) -> Result<Seeds, A::Error> {
                Vec::<u64>::deserialize(serde::de::value::SeqAccessDeserializer::new(a))
                    .map(Seeds::List)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<Seeds, A::Error> {
                Until::deserialize(serde::de::value::MapAccessDeserializer::new(a))
                    .map(Seeds::Until)
            }
        }
        d.deserialize_any(V)
    }
}

/// Seeds until decided: every variant starts with `min` seeds; after each round, the variants
/// still not told apart from the best (and the best with them, so that they stay paired) are
/// taken to `step` more seeds, until every such comparison's 95% CI half-width is at most
/// `half_width` (in the unit of the metric the best is chosen on: the validation loss where
/// a holdout exists, else the test loss) or a variant has `max` seeds. Run-wide: set it in
/// `defaults`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Until {
    pub min: usize,
    pub max: usize,
    pub half_width: f64,
    /// Seeds added per round (default: `min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
}

impl Until {
    /// The most seeds a variant of a run with `variants` variants may reach, checked.
    pub fn check(&self, variants: usize) -> Result<(), String> {
        if self.min < 2 {
            return Err(format!(
                "seeds Until needs min >= 2 (a paired test needs two seeds), got {}",
                self.min
            ));
        }
        if self.max < self.min {
            return Err(format!(
                "seeds Until has max {} below min {}",
                self.max, self.min
            ));
        }
        if variants.saturating_mul(self.max) > MAX_UNITS {
            return Err(format!(
                "seeds Until could reach {} units ({variants} variants × max {}); at most \
                 {MAX_UNITS} are supported",
                variants.saturating_mul(self.max),
                self.max
            ));
        }
        if !(self.half_width.is_finite() && self.half_width > 0.0) {
            return Err(format!(
                "seeds Until needs a positive, finite half_width, got {}",
                self.half_width
            ));
        }
        match self.step {
            Some(0) => return Err("seeds Until needs step >= 1".into()),
            Some(step) if step > self.max => {
                return Err(format!(
                    "seeds Until has step {step} above max {}; a round adds at most max seeds",
                    self.max
                ))
            }
            _ => {}
        }
        Ok(())
    }

    pub fn step(&self) -> usize {
        self.step.unwrap_or(self.min).max(1)
    }
}

impl Seeds {
    /// The seeds to train, starting from `base` for a count.
    pub fn resolve(&self, base: u64) -> Result<Vec<u64>, String> {
        let count = match self {
            Seeds::Count(n) => *n,
            Seeds::List(list) => list.len(),
            Seeds::Until(u) => u.min,
        };
        // Checked before anything is allocated: `seeds: 18446744073709551615` is a typo.
        if count > MAX_UNITS {
            return Err(format!(
                "seeds asks for {count} repeats; at most {MAX_UNITS} units are supported"
            ));
        }
        let seeds: Vec<u64> = match self {
            Seeds::Count(n) => (0..*n as u64).map(|k| base.wrapping_add(k)).collect(),
            Seeds::Until(u) => (0..u.min as u64).map(|k| base.wrapping_add(k)).collect(),
            Seeds::List(list) => list.clone(),
        };
        if seeds.is_empty() {
            return Err("seeds must name at least one seed".into());
        }
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != seeds.len() {
            return Err(format!("seeds lists a seed twice: {seeds:?}"));
        }
        Ok(seeds)
    }
}

/// One level of a grid factor: its label in the generated name, and how it sets an entry.
type Level = (String, Box<dyn Fn(&mut VariantEntry)>);

fn levels_of<T: Clone + 'static>(
    values: &Option<Vec<T>>,
    field: &str,
    label: impl Fn(&T) -> String,
    set: fn(&mut VariantEntry, T),
) -> Result<Option<Vec<Level>>, String> {
    let Some(values) = values else {
        return Ok(None);
    };
    if values.is_empty() {
        return Err(format!("grid factor {field} has no levels"));
    }
    Ok(Some(
        values
            .iter()
            .map(|v| {
                let v2 = v.clone();
                (
                    label(v),
                    Box::new(move |e: &mut VariantEntry| set(e, v2.clone())) as Box<_>,
                )
            })
            .collect(),
    ))
}

impl Grid {
    /// How many variants the grid expands to (saturating: a huge grid is refused, not wrapped).
    fn size(factors: &[Vec<Level>]) -> usize {
        factors
            .iter()
            .fold(1usize, |n, f| n.saturating_mul(f.len()))
    }

    /// The cartesian product as variant entries, first factor varying slowest.
    fn expand(&self, limit: usize) -> Result<Vec<VariantEntry>, String> {
        let factors = self.factors()?;
        let size = Grid::size(&factors);
        if size > limit {
            return Err(format!(
                "grid expands to {size} variants; at most {limit} are supported"
            ));
        }
        let mut out = Vec::with_capacity(size);
        for k in 0..size {
            let mut entry = VariantEntry::default();
            let mut names = Vec::with_capacity(factors.len());
            let mut rest = k;
            let mut picks = vec![0; factors.len()];
            for (i, f) in factors.iter().enumerate().rev() {
                picks[i] = rest % f.len();
                rest /= f.len();
            }
            for (f, &p) in factors.iter().zip(&picks) {
                let (label, set) = &f[p];
                names.push(label.clone());
                set(&mut entry);
            }
            entry.name = names.join(" · ");
            out.push(entry);
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub defaults: Settings,
    #[serde(default)]
    pub grid: Option<Grid>,
    #[serde(default)]
    pub variants: Vec<VariantEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    pub name: String,
    pub description: String,
    /// Where it was read from (`<embedded>/quick.ron` for the built-in copies).
    pub source: String,
    /// The units to train: every variant once per seed.
    pub units: Vec<UnitSpec>,
    /// Seeds added in rounds until decided (`seeds: Until(…)` in `defaults`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Until>,
    /// What trains it (`engine: Dfdx` in `defaults`; the fast path when unset).
    #[serde(default)]
    pub engine: Engine,
    /// The test its verdicts rest on (`test: Exact` in `defaults`; the t-test when unset).
    #[serde(default)]
    pub test: DecisionTest,
    /// The equivalence margin of a difference (`margin: 0.005` in `defaults`): pairs not told
    /// apart get an equivalence test (TOST) against ±margin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// The command-line overrides applied to it, as given (`--arch 1000-300`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
}

impl Preset {
    /// "15 variants", or "15 variants × 5 seeds = 75 units" when repeated over seeds.
    pub fn size_label(&self) -> String {
        let variants = self.variant_names().len();
        let units = self.units.len();
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        if units == variants {
            plural(variants, "variant")
        } else if units.is_multiple_of(variants) {
            format!(
                "{} × {} = {}",
                plural(variants, "variant"),
                plural(units / variants, "seed"),
                plural(units, "unit")
            )
        } else {
            format!("{}, {}", plural(variants, "variant"), plural(units, "unit"))
        }
    }

    /// Distinct variants (units of one variant differ only by seed), in unit order.
    pub fn variant_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for u in &self.units {
            if !out.contains(&u.variant_name()) {
                out.push(u.variant_name());
            }
        }
        out
    }
}

/// Limits that keep a preset sane; beyond them it is almost certainly a typo.
pub const MAX_VARIANTS: usize = 1000;
/// At most this many (variant, seed) units: 5,000 is weeks of training on one machine.
pub const MAX_UNITS: usize = 5000;
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
pub const EMBEDDED: [(&str, &str); 7] = [
    ("quick.ron", include_str!("../../../presets/quick.ron")),
    (
        "paper-2019.ron",
        include_str!("../../../presets/paper-2019.ron"),
    ),
    (
        "paper-2019-seeds.ron",
        include_str!("../../../presets/paper-2019-seeds.ron"),
    ),
    (
        "placement-grid.ron",
        include_str!("../../../presets/placement-grid.ron"),
    ),
    (
        "width-depth.ron",
        include_str!("../../../presets/width-depth.ron"),
    ),
    (
        "activations.ron",
        include_str!("../../../presets/activations.ron"),
    ),
    (
        "optimizers.ron",
        include_str!("../../../presets/optimizers.ron"),
    ),
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

/// Applies defaults to every variant (explicit and grid-generated), repeats each once per seed,
/// and checks every value.
pub fn resolve(path: &str, file: PresetFile) -> Result<Preset, PresetError> {
    if file.name.trim().is_empty() {
        return Err(invalid(path, "preset name is empty".into()));
    }
    let mut entries = match &file.grid {
        Some(g) => g.expand(MAX_VARIANTS).map_err(|m| invalid(path, m))?,
        None => Vec::new(),
    };
    entries.extend(file.variants.iter().cloned());
    if entries.is_empty() {
        return Err(invalid(
            path,
            "preset has no variants (give variants, a grid, or both)".into(),
        ));
    }
    if entries.len() > MAX_VARIANTS {
        return Err(invalid(
            path,
            format!(
                "preset has {} variants; at most {MAX_VARIANTS} are supported",
                entries.len()
            ),
        ));
    }
    let d = &file.defaults;
    let until = match &d.seeds {
        Some(Seeds::Until(u)) => {
            u.check(entries.len()).map_err(|m| invalid(path, m))?;
            Some(*u)
        }
        _ => None,
    };
    if let Some(v) = entries
        .iter()
        .find(|v| matches!(v.seeds, Some(Seeds::Until(_))))
    {
        return Err(invalid(
            path,
            format!(
                "variant {:?}: seeds Until(…) is a rule for the whole run (it compares every \
                 variant with the best); set it in defaults",
                v.name.trim()
            ),
        ));
    }
    if until.is_some() {
        if let Some(v) = entries.iter().find(|v| v.seeds.is_some()) {
            return Err(invalid(
                path,
                format!(
                    "variant {:?} sets its own seeds under defaults' seeds Until(…); every \
                     variant's seeds are added in the same rounds",
                    v.name.trim()
                ),
            ));
        }
    }
    if let Some(m) = d_margin(&file.defaults) {
        if !(m.is_finite() && m > 0.0) {
            return Err(invalid(
                path,
                format!(
                    "margin (the equivalence margin of a difference) must be positive and \
                     finite, got {m}"
                ),
            ));
        }
    }
    if let Some(v) = entries.iter().find(|v| v.margin.is_some()) {
        return Err(invalid(
            path,
            format!(
                "variant {:?}: margin is a choice for the whole run; set it in defaults",
                v.name.trim()
            ),
        ));
    }
    if let Some(v) = entries.iter().find(|v| v.test.is_some()) {
        return Err(invalid(
            path,
            format!(
                "variant {:?}: test is a choice for the whole run (every verdict rests on \
                 one test); set it in defaults",
                v.name.trim()
            ),
        ));
    }
    if let Some(v) = entries.iter().find(|v| v.engine.is_some()) {
        return Err(invalid(
            path,
            format!(
                "variant {:?}: engine is a choice for the whole run (a run trains on one \
                 engine); set it in defaults",
                v.name.trim()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut per_variant = Vec::with_capacity(entries.len());
    let mut unit_count = 0usize;
    for v in &entries {
        let name = v.name.trim().to_string();
        let at = |msg: String| invalid(path, format!("variant {name:?}: {msg}"));
        if name.is_empty() {
            return Err(invalid(path, "a variant has an empty name".into()));
        }
        if !seen.insert(name.clone()) {
            return Err(at(
                "duplicate variant name (a grid's generated names count)".into(),
            ));
        }
        let s = v.over(d);
        let arch = s
            .arch
            .ok_or_else(|| at("no arch given (set it in the variant or in defaults)".into()))?;
        let arch = Arch::parse(&arch.0).map_err(|e| at(e.to_string()))?;
        let mut optimizer = s.optimizer.unwrap_or(OptimizerSpec::Adam {
            lr: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        });
        if let Some(lr) = s.lr {
            optimizer = optimizer.with_lr(lr);
        }
        let spec = UnitSpec {
            name: name.clone(),
            variant: String::new(),
            arch,
            activation: s.activation.unwrap_or(Activation::ReLU),
            init: s.init.unwrap_or(Init::HeNormal),
            optimizer,
            dropout: s.dropout.unwrap_or(0.5),
            placement: s.placement.unwrap_or(Placement::Every),
            epochs: s.epochs.unwrap_or(20),
            batch_size: s.batch_size.unwrap_or(128),
            seed: s.seed.unwrap_or(0),
            train_subset: s.train_subset,
            test_subset: s.test_subset,
            reference: v.reference,
            // New presets hold out a twelfth of the training images (5,000 of 60,000); the
            // 2019 study monitored the test set.
            validation: s.validation.unwrap_or(Validation::Auto),
            early_stopping: s.early_stopping,
            schedule: s.schedule,
        };
        validate(&spec).map_err(at)?;
        let seeds = match s.seeds.as_ref() {
            Some(s) => s.resolve(spec.seed).map_err(at)?,
            None => vec![spec.seed],
        };
        if unit_count + seeds.len() > MAX_UNITS {
            return Err(invalid(
                path,
                format!(
                    "preset expands to more than {MAX_UNITS} units (variants × seeds); \
                     at most {MAX_UNITS} are supported"
                ),
            ));
        }
        unit_count += seeds.len();
        per_variant.push(repeat_over_seeds(&spec, &seeds));
    }
    let units = interleave(per_variant);
    let mut names = std::collections::HashSet::new();
    for u in &units {
        if !names.insert(u.name.as_str()) {
            return Err(invalid(
                path,
                format!("unit name {:?} is used twice (rename a variant)", u.name),
            ));
        }
    }
    Ok(Preset {
        name: file.name.trim().to_string(),
        description: file.description,
        source: path.to_string(),
        units,
        until,
        engine: d.engine.unwrap_or_default(),
        test: d.test.unwrap_or_default(),
        margin: d.margin,
        overrides: Vec::new(),
    })
}

/// Units in training order: every variant's first seed, then every variant's second, and so
/// on, so a run stopped early still has a complete first replicate of the whole design.
pub fn interleave(per_variant: Vec<Vec<UnitSpec>>) -> Vec<UnitSpec> {
    let rounds = per_variant.iter().map(Vec::len).max().unwrap_or(0);
    let mut iters: Vec<_> = per_variant.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    for _ in 0..rounds {
        out.extend(iters.iter_mut().filter_map(Iterator::next));
    }
    out
}

/// One unit per seed of the variant `spec` (whose own seed and unit fields are replaced): a
/// single seed keeps the variant's name, several get `" · s<seed>"` each.
pub fn repeat_over_seeds(spec: &UnitSpec, seeds: &[u64]) -> Vec<UnitSpec> {
    let variant = spec.variant_name().to_string();
    if let [seed] = seeds {
        let mut u = spec.clone();
        u.name = variant;
        u.variant = String::new();
        u.seed = *seed;
        return vec![u];
    }
    seeds
        .iter()
        .map(|&seed| {
            let mut u = spec.clone();
            u.name = format!("{variant} · s{seed}");
            u.variant = variant.clone();
            u.seed = seed;
            u
        })
        .collect()
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

/// The rules every unit spec obeys, from a preset or read back from a run folder's manifest.
pub fn validate(s: &UnitSpec) -> Result<(), String> {
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
    if let Validation::Holdout(n) = s.validation {
        // Checked against the data set too, when it is known (`UnitSpec::train_plan`).
        if n == 0 || s.train_subset.is_some_and(|a| n >= a) {
            return Err(crate::spec::holdout_too_large(n, s.train_subset));
        }
    }
    if let Some(es) = s.early_stopping {
        if es.patience == 0 {
            return Err("early_stopping patience must be at least 1".into());
        }
        if !(es.min_delta.is_finite() && es.min_delta >= 0.0) {
            return Err(format!(
                "early_stopping min_delta must be a finite number >= 0, got {}",
                es.min_delta
            ));
        }
    }
    match s.schedule {
        Some(Schedule::Step { every, gamma }) => {
            if every == 0 {
                return Err("schedule Step: every must be at least 1".into());
            }
            finite_positive("schedule Step gamma", gamma)?;
        }
        Some(Schedule::Cosine { min_lr })
            if !(min_lr.is_finite() && min_lr >= 0.0 && min_lr <= s.optimizer.lr()) =>
        {
            return Err(format!(
                "schedule Cosine min_lr must be in [0, lr = {}], got {min_lr}",
                s.optimizer.lr()
            ));
        }
        Some(Schedule::ReduceOnPlateau { patience, factor }) => {
            if patience == 0 {
                return Err("schedule ReduceOnPlateau: patience must be at least 1".into());
            }
            if !(factor.is_finite() && factor > 0.0 && factor < 1.0) {
                return Err(format!(
                    "schedule ReduceOnPlateau: factor must be in (0, 1), got {factor}"
                ));
            }
        }
        Some(Schedule::Cosine { .. }) | None => {}
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
    // A regular file of at most 1 MiB: a pipe named like a preset must not hang the picker.
    let text = crate::files::read_data_text(path).map_err(|error| PresetError::Io {
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

/// The defaults' equivalence margin, if set.
fn d_margin(d: &Settings) -> Option<f64> {
    d.margin
}
