//! One hidden block with Keras's order: Dense → activation → BatchNorm → Dropout, where the
//! BN + Dropout pair is switched on per layer at run time (the preset's placement).

use dfdx::nn::modules::{BatchNorm1D, Linear, Module, ModuleMut, ModuleVisitor, TensorCollection};
use dfdx::prelude::*;

use crate::spec::Activation;

/// Keras BatchNormalization: momentum 0.99 on the old value is dfdx momentum 0.01.
pub const KERAS_BN_MOMENTUM: f64 = 0.01;
pub const KERAS_BN_EPSILON: f64 = 1e-3;

pub struct Block<const I: usize, const O: usize, E: Dtype, D: Storage<E>> {
    pub linear: Linear<I, O, E, D>,
    pub bn: BatchNorm1D<O, E, D>,
    pub activation: Activation,
    /// BatchNorm + Dropout on this layer (decided by the preset's placement).
    pub norm_and_drop: bool,
    pub dropout: f32,
}

impl<const I: usize, const O: usize, E, D> TensorCollection<E, D> for Block<I, O, E, D>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = Block<I, O, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("linear", |s| &s.linear, |s| &mut s.linear),
                Self::module("bn", |s| &s.bn, |s| &mut s.bn),
            ),
            // Runtime flags are not tensors: they are set again from the spec by `configure`.
            |(linear, bn)| Block {
                linear,
                bn,
                activation: Activation::ReLU,
                norm_and_drop: false,
                dropout: 0.0,
            },
        )
    }
}

/// Applies a runtime-chosen activation with dfdx ops, so gradients flow through the tape.
pub fn activate<S, T>(x: Tensor<S, f32, Cpu, T>, act: Activation) -> Tensor<S, f32, Cpu, T>
where
    S: Shape,
    T: Tape<f32, Cpu> + Merge<T> + Default,
{
    match act {
        Activation::ReLU => x.relu(),
        Activation::Sigmoid => x.sigmoid(),
        Activation::Tanh => x.tanh(),
        // leaky(x) = relu(x) - α·relu(-x)
        Activation::LeakyReLU { alpha } => {
            let neg = x.with_empty_tape().negate().relu() * alpha;
            x.relu() - neg
        }
        // elu(x) = relu(x) + α·(exp(min(x, 0)) − 1), with min(x, 0) = −relu(−x)
        Activation::ELU { alpha } => {
            let neg = (x.with_empty_tape().negate().relu().negate().exp() - 1.0) * alpha;
            x.relu() + neg
        }
    }
}

type Batch<const N: usize, T = NoneTape> = Tensor<(usize, Const<N>), f32, Cpu, T>;
type Taped = OwnedTape<f32, Cpu>;

/// Evaluation: BN uses its running statistics, no dropout.
impl<const I: usize, const O: usize> Module<Batch<I>> for Block<I, O, f32, Cpu> {
    type Output = Batch<O>;
    type Error = <Cpu as HasErr>::Err;

    fn try_forward(&self, x: Batch<I>) -> Result<Batch<O>, Self::Error> {
        let x = activate(self.linear.try_forward(x)?, self.activation);
        if self.norm_and_drop {
            self.bn.try_forward(x)
        } else {
            Ok(x)
        }
    }
}

/// Training: BN uses batch statistics and updates its running ones; dropout is active.
impl<const I: usize, const O: usize> ModuleMut<Batch<I, Taped>> for Block<I, O, f32, Cpu> {
    type Output = Batch<O, Taped>;
    type Error = <Cpu as HasErr>::Err;

    fn try_forward_mut(&mut self, x: Batch<I, Taped>) -> Result<Batch<O, Taped>, Self::Error> {
        let x = activate(self.linear.try_forward(x)?, self.activation);
        if !self.norm_and_drop {
            return Ok(x);
        }
        let single = x.shape().0 == 1;
        let running_var = single.then(|| self.bn.running_var.as_vec());
        let x = self.bn.try_forward_mut(x)?;
        if let Some(old) = running_var {
            // One sample has no unbiased variance (dfdx divides by n - 1 = 0 and the running
            // variance becomes NaN); its biased variance is 0, which is what Keras uses.
            let m = self.bn.momentum as f32;
            let decayed: Vec<f32> = old.iter().map(|v| v * (1.0 - m)).collect();
            self.bn.running_var.copy_from(&decayed);
        }
        if self.dropout > 0.0 {
            x.try_dropout(self.dropout)
        } else {
            Ok(x)
        }
    }
}
