//! Plain data that a preset resolves into and the store keeps: architectures, variants,
//! per-epoch metrics, statuses. It imports nothing else of the crate, so every layer can use it.

use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
pub enum Init {
    HeNormal,
    GlorotUniform,
    LecunUniform,
}

/// The value after `x` in its enum's order, round the end (enums that derive
/// `strum::EnumIter`): what every "press a key to cycle" uses.
pub fn cycle<T: strum::IntoEnumIterator + PartialEq + Copy>(x: T) -> T {
    let all = T::iter();
    let first = all.clone().next().unwrap_or(x);
    all.skip_while(|v| *v != x).nth(1).unwrap_or(first)
}

/// Where BatchNorm + Dropout go among the hidden layers. Its name ("Every") is its one
/// display name, in every table, grid label, factor level and export.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display, strum::EnumIter,
)]
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

    /// The same optimiser with another learning rate (schedules, an `lr` grid factor).
    pub fn with_lr(mut self, new: f32) -> OptimizerSpec {
        match &mut self {
            OptimizerSpec::Sgd { lr, .. }
            | OptimizerSpec::Adam { lr, .. }
            | OptimizerSpec::RMSprop { lr, .. }
            | OptimizerSpec::Adagrad { lr, .. }
            | OptimizerSpec::Adadelta { lr, .. } => *lr = new,
        }
        self
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

/// The test a run's verdicts rest on (`test:` in a preset's defaults): the paired t-test (the
/// default), or the exact sign-flip permutation test of the per-seed differences, which needs
/// no normality but cannot go below 2/2ⁿ with n seeds (0.0625 at 5), so it needs more seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum DecisionTest {
    #[default]
    T,
    Exact,
}

impl DecisionTest {
    pub fn label(self) -> &'static str {
        match self {
            DecisionTest::T => "t-test",
            DecisionTest::Exact => "exact sign-flip test",
        }
    }
}

/// Which code trains a run: the fused CPU path (any widths, any data set; the default, about
/// 8× faster) or dfdx's compile-time-shaped networks (the architectures of the menu, on
/// 784-pixel, 10-class data), which the fast path is checked against. A whole run trains on
/// one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Engine {
    #[default]
    Fast,
    Dfdx,
}

impl Engine {
    /// How it is written on the command line and on screen: "fast", "dfdx".
    pub fn label(self) -> &'static str {
        match self {
            Engine::Fast => "fast",
            Engine::Dfdx => "dfdx",
        }
    }

    pub fn is_fast(&self) -> bool {
        *self == Engine::Fast
    }

    /// The other engine (the TUI's key switches between them).
    pub fn other(self) -> Engine {
        match self {
            Engine::Fast => Engine::Dfdx,
            Engine::Dfdx => Engine::Fast,
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl std::str::FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Engine, String> {
        match s.to_ascii_lowercase().as_str() {
            "fast" => Ok(Engine::Fast),
            "dfdx" => Ok(Engine::Dfdx),
            _ => Err(format!("engine {s:?}: give fast or dfdx")),
        }
    }
}

/// What the best epoch, early stopping and the overfitting badge look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Validation {
    /// Monitor the test set, as the 2019 study did (it leaks the test set into choices made
    /// on it). Runs recorded before validation existed did this.
    #[default]
    Test,
    /// Hold out the last `n` training images (after any subset), never trained on: Keras's
    /// `validation_split`.
    Holdout(usize),
    /// New presets' default: hold out the last twelfth of the training images (5,000 of
    /// MNIST's 60,000), so subsets keep a proportionate holdout; under 24 training images
    /// there is none and the test set is monitored.
    Auto,
}

impl Validation {
    pub fn label(self) -> String {
        match self {
            Validation::Test => "test set".into(),
            Validation::Holdout(n) => format!("holdout {n}"),
            Validation::Auto => "holdout 1/12".into(),
        }
    }
}

/// Keras's EarlyStopping on the validation loss: stop once `patience` epochs in a row failed
/// to improve on the best by more than `min_delta`; with `restore_best`, the weights kept are
/// the best epoch's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    pub patience: usize,
    #[serde(default)]
    pub min_delta: f32,
    #[serde(default)]
    pub restore_best: bool,
}

/// A learning-rate schedule over epochs; the optimiser's `lr` is the starting rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Schedule {
    /// Multiply by `gamma` every `every` epochs.
    Step { every: usize, gamma: f32 },
    /// Cosine from the starting rate (first epoch) down to `min_lr` (last epoch).
    Cosine { min_lr: f32 },
    /// Multiply by `factor` once the validation loss has not improved for `patience` epochs.
    ReduceOnPlateau { patience: usize, factor: f32 },
}

impl Schedule {
    pub fn label(&self) -> String {
        match self {
            Schedule::Step { every, gamma } => format!("step ×{gamma}/{every}"),
            Schedule::Cosine { min_lr } => format!("cosine → {min_lr}"),
            Schedule::ReduceOnPlateau { patience, factor } => {
                format!("plateau ×{factor}/{patience}")
            }
        }
    }
}

/// The holdout rule's message, wherever it fires (a preset, a run folder, a data set).
pub fn holdout_too_large(n: usize, available: Option<usize>) -> String {
    let of = available.map_or("the training images".to_string(), |a| {
        format!("the {a} training images available")
    });
    format!(
        "validation Holdout({n}) needs at least 1 image and fewer than {of} (lower it, raise \
         train_subset, or use validation: Test)"
    )
}

/// A fully resolved unit of training: one variant with one seed. What the engine trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitSpec {
    /// The unit's name, unique in the run: the variant's name, with `" · s<seed>"` when the
    /// variant is repeated over several seeds.
    pub name: String,
    /// The variant this unit repeats (empty: the unit is the variant, as in older runs).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    pub arch: Arch,
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
    #[serde(default)]
    pub validation: Validation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

impl UnitSpec {
    /// The variant this unit belongs to: units of one variant differ only by seed.
    pub fn variant_name(&self) -> &str {
        if self.variant.is_empty() {
            &self.name
        } else {
            &self.variant
        }
    }

    /// Training images available before the holdout is taken: the subset, or the whole split.
    pub fn available_train(&self, train: usize) -> usize {
        self.train_subset.unwrap_or(train).min(train)
    }

    /// Test images evaluated of a test split of `test`: the subset, or the whole split (the
    /// one place the clamp is written).
    pub fn evaluated_test(&self, test: usize) -> usize {
        self.test_subset.unwrap_or(test).min(test)
    }

    /// The images trained on (`0..n`) and the validation images held out after them, of a
    /// training split of `train` images; an error when the holdout leaves nothing to train on.
    pub fn train_plan(&self, train: usize) -> Result<TrainPlan, String> {
        let available = self.available_train(train);
        // How many images are held out (None: the test set is monitored).
        let holdout = match self.validation {
            Validation::Test => None,
            // A twelfth of under 24 images would leave a holdout of one: too few to validate
            // on, so tiny smoke runs monitor the test set.
            Validation::Auto if available < 2 * AUTO_HOLDOUT_DIVISOR => None,
            Validation::Auto => Some(available / AUTO_HOLDOUT_DIVISOR),
            Validation::Holdout(n) => Some(n),
        };
        match holdout {
            None => Ok(TrainPlan {
                train: available,
                holdout: None,
            }),
            Some(n) if n == 0 || n >= available => Err(holdout_too_large(n, Some(available))),
            Some(n) => Ok(TrainPlan {
                train: available - n,
                holdout: Some(available - n..available),
            }),
        }
    }

    /// Number of hidden layers of the architecture ("512-128" → 2).
    pub fn hidden_layers(&self) -> usize {
        self.arch.depth()
    }

    /// Images trained and evaluated per epoch on a data set of `train` and `test` images
    /// (a holdout is evaluated too, and counted with the evaluated images).
    pub fn images(&self, train: usize, test: usize) -> (usize, usize) {
        let test = self.evaluated_test(test);
        match self.train_plan(train) {
            Ok(TrainPlan {
                train,
                holdout: Some(h),
            }) => (train, test + h.len()),
            Ok(plan) => (plan.train, test),
            Err(_) => (self.available_train(train), test),
        }
    }

    /// The dropout rate that takes effect: none where no layer carries BN + Dropout.
    pub fn effective_dropout(&self) -> Option<f32> {
        (self.placement != Placement::None).then_some(self.dropout)
    }
}

/// `Validation::Auto` holds out one in this many training images (5,000 of 60,000).
pub const AUTO_HOLDOUT_DIVISOR: usize = 12;

/// Which training images a unit trains on and which it validates on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainPlan {
    /// Images `0..train` of the training split are trained on.
    pub train: usize,
    /// The held-out validation images (None: the test set is monitored).
    pub holdout: Option<std::ops::Range<usize>>,
}

/// Input pixels and output classes of MNIST: the shape the compile-time menu is built for.
pub const INPUTS: usize = 784;
pub const OUTPUTS: usize = 10;

/// What a network's ends are sized by: the data set's pixels per image and its classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Io {
    pub inputs: usize,
    pub classes: usize,
}

impl Io {
    pub const MNIST: Io = Io {
        inputs: INPUTS,
        classes: OUTPUTS,
    };
}

/// Most hidden layers an architecture may have: deeper plain MLPs without residual links
/// train badly, and every layer adds a fork/join per step.
pub const MAX_DEPTH: usize = 8;
/// Widest hidden layer: 8 layers of 4,096 hold 118 M weights (1.9 GB with gradients and
/// Adam's two moments) and take minutes per MNIST epoch on two cores.
pub const MAX_WIDTH: usize = 4096;

/// The menu of architectures with compile-time dfdx types, as `name => type [hidden widths]`:
/// the reference the fast path is checked against (`--kernel dfdx` trains only these). Any
/// other widths train on the fast path. To add a dfdx type, add a line here.
#[macro_export]
macro_rules! for_each_arch {
    ($callback:ident) => {
        $callback! {
            "256" => Mlp256 [256];
            "128-64" => Mlp128x64 [128, 64];
            "512-128" => Mlp512x128 [512, 128];
            "512-256-128" => Mlp512x256x128 [512, 256, 128];
            "512-256-128-64-32" => Mlp512x256x128x64x32 [512, 256, 128, 64, 32];
        }
    };
}

macro_rules! supported_list {
    ($($name:literal => $ty:ident [$($w:literal),+]);+ $(;)?) => {
        /// Names of the architectures with a dfdx type (hidden widths joined by '-').
        pub const ARCHITECTURES: &[&str] = &[$($name),+];
    };
}
for_each_arch!(supported_list);

/// A feed-forward architecture: the hidden widths between the data set's pixels and its
/// classes. Parsed once (from a preset or a run file); everything else asks it for widths,
/// weights and FLOPs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Arch {
    name: String,
    hidden: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "architecture {name:?}: {reason}; give the hidden widths joined by '-' (\"1024-512-256\") \
     or as a list ([1024, 512, 256]): {MAX_DEPTH} layers at most, each 1 to {MAX_WIDTH} units"
)]
pub struct BadArch {
    pub name: String,
    pub reason: String,
}

impl Arch {
    /// Parses hidden widths joined by '-' ("512-128"), within `MAX_DEPTH` and `MAX_WIDTH`.
    pub fn parse(name: &str) -> Result<Arch, BadArch> {
        let bad = |reason: String| BadArch {
            name: name.to_string(),
            reason,
        };
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(bad("no hidden layer given".into()));
        }
        let hidden = trimmed
            .split('-')
            .map(|w| {
                let w = w.trim();
                match w.parse::<usize>() {
                    Ok(0) => Err(bad("a layer of width 0".into())),
                    Ok(n) if n > MAX_WIDTH => Err(bad(format!(
                        "a layer of width {n} is wider than {MAX_WIDTH}"
                    ))),
                    Ok(n) => Ok(n),
                    Err(_) if w.is_empty() => Err(bad("an empty width between '-'".into())),
                    Err(_) => Err(bad(format!("{w:?} is not a whole number of units"))),
                }
            })
            .collect::<Result<Vec<usize>, _>>()?;
        if hidden.len() > MAX_DEPTH {
            return Err(bad(format!(
                "{} hidden layers, more than {MAX_DEPTH}",
                hidden.len()
            )));
        }
        Ok(Arch::from_widths(hidden))
    }

    /// The architecture of these hidden widths (checked by the caller, as `parse` does).
    fn from_widths(hidden: Vec<usize>) -> Arch {
        let name = hidden
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-");
        Arch { name, hidden }
    }

    /// Every architecture of the dfdx menu.
    pub fn menu() -> Vec<Arch> {
        ARCHITECTURES
            .iter()
            .filter_map(|a| Arch::parse(a).ok())
            .collect()
    }

    /// Whether dfdx has a compile-time type for this architecture (on MNIST's shape).
    pub fn in_menu(&self) -> bool {
        ARCHITECTURES.contains(&self.name.as_str())
    }

    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The name, e.g. "512-128".
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The most bytes a weights file of this network can hold for a data set of at most
    /// `inputs` pixels and `classes` classes: every layer's parameters (and batch norm's four
    /// vectors) as f32, and a header of at most `header` bytes.
    pub fn weights_bytes_at_most(&self, inputs: usize, classes: usize, header: u64) -> u64 {
        let mut params = 0u64;
        let mut fan_in = inputs as u64;
        for &w in &self.hidden {
            params += (fan_in + 5) * w as u64;
            fan_in = w as u64;
        }
        params += (fan_in + 1) * classes as u64;
        8 + header + 4 * params
    }

    pub fn hidden(&self) -> &[usize] {
        &self.hidden
    }

    /// Number of hidden layers.
    pub fn depth(&self) -> usize {
        self.hidden.len()
    }

    /// Layer widths with input and output: "512-128" on MNIST gives 784, 512, 128, 10.
    pub fn widths(&self, io: Io) -> Vec<usize> {
        let mut w = Vec::with_capacity(self.hidden.len() + 2);
        w.push(io.inputs);
        w.extend_from_slice(&self.hidden);
        w.push(io.classes);
        w
    }

    /// Weights of the dense layers (biases and BN not counted): the FLOP model's W.
    pub fn weight_count(&self, io: Io) -> usize {
        self.widths(io).windows(2).map(|p| p[0] * p[1]).sum()
    }

    /// FLOPs one training image needs: forward 2W, weight gradients 2W, and input gradients
    /// 2W less the first layer's (nobody needs the gradient of the pixels).
    pub fn train_flops_per_image(&self, io: Io) -> f64 {
        let w = self.weight_count(io) as f64;
        let first = (io.inputs * self.hidden[0]) as f64;
        6.0 * w - 2.0 * first
    }

    /// FLOPs one evaluated image needs: the forward pass.
    pub fn test_flops_per_image(&self, io: Io) -> f64 {
        2.0 * self.weight_count(io) as f64
    }

    /// FLOPs of one epoch: `train` images trained, `test` images evaluated.
    pub fn epoch_flops(&self, io: Io, train: usize, test: usize) -> f64 {
        self.train_flops_per_image(io) * train as f64 + self.test_flops_per_image(io) * test as f64
    }

    /// FLOPs of one epoch when the first layer skips zero pixels: its products (forward and
    /// weight gradient in training, forward in evaluation) scale with the fraction of
    /// non-zero pixels of each split.
    pub fn sparse_epoch_flops(
        &self,
        io: Io,
        train: usize,
        test: usize,
        density: (f64, f64),
    ) -> f64 {
        let first = (io.inputs * self.hidden[0]) as f64;
        let saved_train = 4.0 * first * (1.0 - density.0);
        let saved_test = 2.0 * first * (1.0 - density.1);
        self.epoch_flops(io, train, test) - saved_train * train as f64 - saved_test * test as f64
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl TryFrom<String> for Arch {
    type Error = BadArch;
    fn try_from(s: String) -> Result<Arch, BadArch> {
        Arch::parse(&s)
    }
}

impl From<Arch> for String {
    fn from(a: Arch) -> String {
        a.name()
    }
}

impl PartialEq<str> for Arch {
    fn eq(&self, other: &str) -> bool {
        self.name == other
    }
}

impl PartialEq<&str> for Arch {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

/// Metrics of one finished epoch. Train numbers are means over the epoch's batches in
/// training mode (as Keras's `fit` shows them); test numbers are the whole test set in eval mode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: usize,
    pub train_loss: f32,
    pub train_acc: f32,
    pub test_loss: f32,
    pub test_acc: f32,
    /// Wall seconds of the epoch, training and evaluation together.
    pub seconds: f32,
    /// Training images per second.
    pub samples_per_sec: f32,
    /// Loss and accuracy on the held-out validation images (None: the test set is monitored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_acc: Option<f32>,
    /// The learning rate this epoch trained with (None in runs recorded before schedules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f32>,
    /// Worker threads it trained with (None in runs recorded before): with the machine's
    /// cores, the share of the machine its `seconds` took, for estimates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u16>,
}

impl EpochMetrics {
    /// The loss that choices are made on: validation when held out, else test (the study's way).
    pub fn monitored_loss(&self) -> f32 {
        self.val_loss.unwrap_or(self.test_loss)
    }

    pub fn monitored_acc(&self) -> f32 {
        self.val_acc.unwrap_or(self.test_acc)
    }
}

/// Every number an epoch records that a view, a sort, a statistic or an export can read: the
/// one list of them. Adding one here (its row in `Metric::info` and its value in `of`) puts it
/// in the overlay's cycle, the table's sort, the statistics, merge's checks and TensorBoard.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::EnumCount,
)]
pub enum Metric {
    #[default]
    TestLoss,
    TestAcc,
    TrainLoss,
    TrainAcc,
    ValLoss,
    ValAcc,
    LearningRate,
}

/// What kind of number a metric is: how it is bounded and which end is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// ≥ 0, lower is better.
    Loss,
    /// In [0, 1], higher is better.
    Accuracy,
    /// > 0, neither end better (a setting, not a result).
    Rate,
}

/// A metric's names and kind, stated once.
struct MetricInfo {
    name: &'static str,
    short: &'static str,
    /// TensorBoard's tag.
    tag: &'static str,
    /// The name in CSV columns and files.
    key: &'static str,
    kind: MetricKind,
}

impl Metric {
    fn info(self) -> MetricInfo {
        use MetricKind::{Accuracy, Loss, Rate};
        let (name, short, tag, key, kind) = match self {
            Metric::TestLoss => ("test loss", "test loss", "test/loss", "test_loss", Loss),
            Metric::TestAcc => (
                "test accuracy",
                "test acc",
                "test/accuracy",
                "test_acc",
                Accuracy,
            ),
            Metric::TrainLoss => ("train loss", "train loss", "train/loss", "train_loss", Loss),
            Metric::TrainAcc => (
                "train accuracy",
                "train acc",
                "train/accuracy",
                "train_acc",
                Accuracy,
            ),
            Metric::ValLoss => (
                "validation loss",
                "val loss",
                "validation/loss",
                "val_loss",
                Loss,
            ),
            Metric::ValAcc => (
                "validation accuracy",
                "val acc",
                "validation/accuracy",
                "val_acc",
                Accuracy,
            ),
            Metric::LearningRate => ("learning rate", "lr", "learning_rate", "lr", Rate),
        };
        MetricInfo {
            name,
            short,
            tag,
            key,
            kind,
        }
    }

    /// This metric of an epoch (None where it was not recorded: validation metrics where
    /// the test set was monitored, the learning rate in older runs).
    pub fn of(self, m: &EpochMetrics) -> Option<f64> {
        match self {
            Metric::TestLoss => Some(m.test_loss as f64),
            Metric::TestAcc => Some(m.test_acc as f64),
            Metric::TrainLoss => Some(m.train_loss as f64),
            Metric::TrainAcc => Some(m.train_acc as f64),
            Metric::ValLoss => m.val_loss.map(f64::from),
            Metric::ValAcc => m.val_acc.map(f64::from),
            Metric::LearningRate => m.lr.map(f64::from),
        }
    }

    /// Every metric, in the order views cycle through them.
    pub fn all() -> impl Iterator<Item = Metric> {
        <Metric as strum::IntoEnumIterator>::iter()
    }

    /// The metric after this one in `all`, round the end.
    pub fn next(self) -> Metric {
        cycle(self)
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// A short label for narrow places (legends, column heads).
    pub fn short(self) -> &'static str {
        self.info().short
    }

    pub fn tag(self) -> &'static str {
        self.info().tag
    }

    /// The name in CSV columns and files ("test_loss").
    pub fn key(self) -> &'static str {
        self.info().key
    }

    pub fn kind(self) -> MetricKind {
        self.info().kind
    }

    pub fn is_loss(self) -> bool {
        self.kind() == MetricKind::Loss
    }

    /// A result of training (a loss or an accuracy), not a setting it trained with.
    pub fn is_result(self) -> bool {
        self.kind() != MetricKind::Rate
    }

    /// A loss (or a rate) is better low, an accuracy high.
    pub fn lower_is_better(self) -> bool {
        self.kind() != MetricKind::Accuracy
    }

    /// "lowest" for a loss, "highest" for an accuracy: the better end.
    pub fn best_word(self) -> &'static str {
        if self.lower_is_better() {
            "lowest"
        } else {
            "highest"
        }
    }

    /// The values the metric can take: a loss is ≥ 0, an accuracy in [0, 1].
    pub fn bounds(self) -> (f64, f64) {
        match self.kind() {
            MetricKind::Accuracy => (0.0, 1.0),
            _ => (0.0, f64::INFINITY),
        }
    }

    /// The same quantity on the validation images (a test or validation metric; others are
    /// their own).
    pub fn on_validation(self) -> Metric {
        match self {
            Metric::TestLoss | Metric::ValLoss => Metric::ValLoss,
            Metric::TestAcc | Metric::ValAcc => Metric::ValAcc,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailKind {
    /// The loss became NaN or infinite.
    Diverged,
    /// The variant's code panicked.
    Panicked,
    /// Any other error (device, data).
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnitStatus {
    Queued,
    Running,
    Finished,
    Failed,
    Skipped,
    /// The run stopped (quit, cancel, signal) while this variant was training.
    Interrupted,
}

impl UnitStatus {
    /// The one word every view and report uses for this status.
    pub fn label(self) -> &'static str {
        match self {
            UnitStatus::Queued => "queued",
            UnitStatus::Running => "running",
            UnitStatus::Finished => "done",
            UnitStatus::Failed => "failed",
            UnitStatus::Skipped => "skipped",
            UnitStatus::Interrupted => "interrupted",
        }
    }

    /// Needs no more training (kept by `--resume`).
    pub fn is_done(self) -> bool {
        matches!(self, UnitStatus::Finished | UnitStatus::Failed)
    }
}

/// How far a unit is: `epochs_done` whole epochs plus `batch` of `batches` of the next one.
/// The fraction never counts an epoch before its evaluation has ended.
pub fn progress_fraction(epochs_done: usize, batch: usize, batches: usize, epochs: usize) -> f64 {
    if epochs == 0 {
        return 0.0;
    }
    let within = if batches == 0 {
        0.0
    } else {
        batch.min(batches) as f64 / batches as f64
    };
    ((epochs_done as f64 + within) / epochs as f64).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_parses_any_widths_within_the_limits() {
        let a = Arch::parse("512-128").unwrap();
        assert_eq!(a.hidden(), &[512, 128]);
        assert_eq!(a.widths(Io::MNIST), vec![784, 512, 128, 10]);
        let small = Io {
            inputs: 196,
            classes: 5,
        };
        assert_eq!(a.widths(small), vec![196, 512, 128, 5]);
        assert_eq!(a.depth(), 2);
        assert_eq!(a.to_string(), "512-128");
        assert!(a.in_menu());
        let odd = Arch::parse("1000-300").unwrap();
        assert_eq!(odd.hidden(), &[1000, 300]);
        assert!(!odd.in_menu());
        assert_eq!(
            Arch::parse(" 064 ").unwrap().name(),
            "64",
            "one spelling per net"
        );
        assert_eq!(Arch::parse("1-2-3-4-5-6-7-8").unwrap().depth(), 8);
        assert_eq!(Arch::parse("4096").unwrap().hidden(), &[4096]);
        for (bad, why) in [
            ("", "no hidden layer"),
            ("512--128", "empty width"),
            ("0", "width 0"),
            ("4097", "wider than 4096"),
            ("1-2-3-4-5-6-7-8-9", "9 hidden layers"),
            ("12x", "\"12x\" is not a whole number"),
            ("-5", "empty width"),
        ] {
            let msg = Arch::parse(bad).unwrap_err().to_string();
            assert!(msg.contains(why), "{bad:?}: {msg}");
            assert!(
                msg.contains("1024-512-256"),
                "the message shows the form: {msg}"
            );
        }
        assert_eq!(Arch::menu().len(), ARCHITECTURES.len());
        assert!(Arch::menu().iter().all(Arch::in_menu));
    }

    #[test]
    fn arch_counts_weights_and_flops() {
        let m = Io::MNIST;
        let a = Arch::parse("512-128").unwrap();
        let w = 784 * 512 + 512 * 128 + 128 * 10;
        assert_eq!(a.weight_count(m), w);
        assert_eq!(a.test_flops_per_image(m), 2.0 * w as f64);
        assert_eq!(
            a.train_flops_per_image(m),
            6.0 * w as f64 - 2.0 * 784.0 * 512.0
        );
        assert_eq!(
            a.epoch_flops(m, 10, 5),
            10.0 * a.train_flops_per_image(m) + 5.0 * a.test_flops_per_image(m)
        );
        let one = Arch::parse("256").unwrap();
        assert_eq!(one.weight_count(m), 784 * 256 + 256 * 10);
        let small = Io {
            inputs: 196,
            classes: 5,
        };
        assert_eq!(one.weight_count(small), 196 * 256 + 256 * 5);
        assert_eq!(
            a.sparse_epoch_flops(m, 10, 5, (1.0, 1.0)),
            a.epoch_flops(m, 10, 5)
        );
        // With no pixel set, the first layer costs nothing: 2L's second layer and output
        // remain (forward, weight and input gradient: 6 per weight).
        let two = Arch::parse("512-128").unwrap();
        let rest = (512 * 128 + 128 * 10) as f64;
        assert_eq!(two.sparse_epoch_flops(m, 1, 0, (0.0, 0.0)), 6.0 * rest);
    }

    #[test]
    fn arch_round_trips_through_json_as_its_name() {
        let a = Arch::parse("512-256-128").unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"512-256-128\"");
        assert_eq!(serde_json::from_str::<Arch>(&json).unwrap(), a);
        assert!(serde_json::from_str::<Arch>("\"1-0\"").is_err());
    }

    #[test]
    fn progress_never_counts_an_epoch_before_it_ends() {
        assert_eq!(progress_fraction(0, 10, 10, 2), 0.5);
        assert_eq!(progress_fraction(1, 0, 10, 2), 0.5);
        assert_eq!(progress_fraction(2, 0, 10, 2), 1.0);
        assert_eq!(progress_fraction(0, 0, 0, 0), 0.0);
    }
}

/// One display name each: the `label` of the type, wherever it is shown.
macro_rules! display_by_label {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.label())
            }
        }
    )*};
}
display_by_label!(Activation, OptimizerSpec, Schedule, Validation);
