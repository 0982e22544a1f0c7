//! Moving parameters between a dfdx network and plain vectors, in dfdx's visiting order.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorOptions, TensorVisitor, ViewTensorMut, ViewTensorRef,
};
use dfdx::prelude::*;

use crate::model::{DevError, Net};

struct Export(Vec<Vec<f32>>);

impl TensorVisitor<f32, Cpu> for Export {
    type Viewer = ViewTensorRef;
    type Err = DevError;
    type E2 = f32;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        _opts: TensorOptions<S, f32, Cpu>,
        t: &Tensor<S, f32, Cpu>,
    ) -> Result<Option<Tensor<S, f32, Cpu>>, DevError> {
        self.0.push(t.as_vec());
        Ok(None)
    }
}

struct Import<'a>(&'a [Vec<f32>], usize);

impl TensorVisitor<f32, Cpu> for Import<'_> {
    type Viewer = ViewTensorMut;
    type Err = DevError;
    type E2 = f32;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        _opts: TensorOptions<S, f32, Cpu>,
        t: &mut Tensor<S, f32, Cpu>,
    ) -> Result<Option<Tensor<S, f32, Cpu>>, DevError> {
        t.copy_from(&self.0[self.1]);
        self.1 += 1;
        Ok(None)
    }
}

/// Every tensor of the network (weights, biases, BN tensors) as vectors.
pub fn export<M: Net>(model: &M) -> Vec<Vec<f32>> {
    let mut e = Export(Vec::new());
    let _ = M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut e,
    });
    e.0
}

/// Writes vectors from `export`'s order back into the network (ids kept).
pub fn import<M: Net>(model: &mut M, params: &[Vec<f32>]) {
    let mut i = Import(params, 0);
    let _ = M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut i,
    });
}

struct ExportGrads<'a>(&'a mut Gradients<f32, Cpu>, Vec<Vec<f32>>);

impl TensorVisitor<f32, Cpu> for ExportGrads<'_> {
    type Viewer = ViewTensorRef;
    type Err = DevError;
    type E2 = f32;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, Cpu>,
        t: &Tensor<S, f32, Cpu>,
    ) -> Result<Option<Tensor<S, f32, Cpu>>, DevError> {
        if opts.do_gradient_update {
            self.0.try_alloc_for(t)?;
            self.1.push(self.0.get(t).as_vec());
        }
        Ok(None)
    }
}

/// The gradient of every trained tensor (weights, biases, BN scale and bias), in visiting
/// order; used to check the fused kernels against dfdx.
pub fn export_grads<M: Net>(model: &M, grads: &mut Gradients<f32, Cpu>) -> Vec<Vec<f32>> {
    let mut e = ExportGrads(grads, Vec::new());
    let _ = M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut e,
    });
    e.1
}
