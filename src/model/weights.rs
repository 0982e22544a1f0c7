//! Trained weights as safetensors bytes that say whose they are: the variant's exact name and
//! its architecture travel in the file's metadata, and loading checks both, so one variant's
//! file can never be evaluated as another's.

use std::collections::HashMap;
use std::path::Path;

use ::safetensors::tensor::{Dtype as SDtype, SafeTensors, TensorView};
use ::safetensors::SafeTensorError;
use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorOptions, TensorVisitor, ViewTensorName, ViewTensorRef,
};
use dfdx::prelude::*;

use super::Net;
use crate::spec::Arch;

/// Metadata keys of a weights file.
pub const META_VARIANT: &str = "mnist-lab.variant";
pub const META_ARCH: &str = "mnist-lab.arch";

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: cannot read: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}: not a safetensors weights file ({reason})")]
    Format { path: String, reason: String },
    #[error(
        "{path}: these weights belong to variant {found:?}, not {expected:?} \
         (the file was replaced or renamed)"
    )]
    OtherVariant {
        path: String,
        found: String,
        expected: String,
    },
    #[error("{path}: these weights are of architecture {found}, not {expected}")]
    OtherArch {
        path: String,
        found: String,
        expected: String,
    },
    #[error(
        "{path}: the file does not say which variant it belongs to (written by an older \
         mnist-lab or another program), so it cannot be checked against {expected:?}"
    )]
    Unlabelled { path: String, expected: String },
    #[error("cannot serialise the weights: {0}")]
    Serialise(String),
}

/// Readable text for a safetensors error (its Display is only its Debug form).
fn describe(e: &SafeTensorError) -> String {
    match e {
        SafeTensorError::HeaderTooLarge
        | SafeTensorError::HeaderTooSmall
        | SafeTensorError::InvalidHeader
        | SafeTensorError::InvalidHeaderStart
        | SafeTensorError::InvalidHeaderLength
        | SafeTensorError::InvalidHeaderDeserialization
        | SafeTensorError::JsonError(_) => "its header is damaged".into(),
        SafeTensorError::TensorNotFound(name) => format!("it has no tensor {name:?}"),
        SafeTensorError::IoError(io) => io.to_string(),
        _ => "its tensor table does not match its data".into(),
    }
}

/// (name, dtype, shape, little-endian bytes) of every tensor and scalar, as dfdx saves them.
struct Collect(Vec<(String, SDtype, Vec<usize>, Vec<u8>)>);

impl TensorVisitor<f32, Cpu> for Collect {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = std::convert::Infallible;
    type E2 = f32;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        _opts: TensorOptions<S, f32, Cpu>,
        (t, name): (&Tensor<S, f32, Cpu>, String),
    ) -> Result<Option<Tensor<S, f32, Cpu>>, Self::Err> {
        let shape = t.shape().concrete().into_iter().collect();
        let bytes = t.as_vec().iter().flat_map(|f| f.to_le_bytes()).collect();
        self.0.push((name, SDtype::F32, shape, bytes));
        Ok(None)
    }

    /// Scalars (BN's epsilon and momentum) are saved too: without them, loading would reset
    /// them to dfdx's defaults and the loaded network would not be the trained one.
    fn visit_scalar<N: num_traits::NumCast>(
        &mut self,
        _opts: dfdx::nn::tensor_collection::ScalarOptions<N>,
        (n, name): (&N, String),
    ) -> Result<Option<N>, Self::Err> {
        let value = n.to_f64().unwrap_or(f64::NAN);
        self.0
            .push((name, SDtype::F64, Vec::new(), value.to_le_bytes().to_vec()));
        Ok(None)
    }
}

/// The model's tensors as safetensors bytes, labelled with `variant` and `arch`.
pub fn to_bytes<M: Net>(model: &M, variant: &str, arch: &Arch) -> Result<Vec<u8>, WeightsError> {
    let mut c = Collect(Vec::new());
    let _ = M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut c,
    });
    let views =
        c.0.iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| WeightsError::Serialise(describe(&e)))
            })
            .collect::<Result<Vec<_>, _>>()?;
    let metadata = HashMap::from([
        (META_VARIANT.to_string(), variant.to_string()),
        (META_ARCH.to_string(), arch.name()),
    ]);
    ::safetensors::serialize(views, &Some(metadata))
        .map_err(|e| WeightsError::Serialise(describe(&e)))
}

/// Reads a weights file and checks it belongs to `variant` of `arch`; returns its bytes.
pub fn read_checked(path: &Path, variant: &str, arch: &Arch) -> Result<Vec<u8>, WeightsError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| WeightsError::Io {
        path: shown.clone(),
        error,
    })?;
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| WeightsError::Format {
        path: shown.clone(),
        reason: describe(&e),
    })?;
    let labels = meta.metadata().clone().unwrap_or_default();
    let (Some(found), Some(found_arch)) = (labels.get(META_VARIANT), labels.get(META_ARCH)) else {
        return Err(WeightsError::Unlabelled {
            path: shown,
            expected: variant.to_string(),
        });
    };
    if found != variant {
        return Err(WeightsError::OtherVariant {
            path: shown,
            found: found.clone(),
            expected: variant.to_string(),
        });
    }
    if *found_arch != arch.name() {
        return Err(WeightsError::OtherArch {
            path: shown,
            found: found_arch.clone(),
            expected: arch.name(),
        });
    }
    Ok(bytes)
}

/// Loads checked weights (from `read_checked`) into `model`, keeping tensor ids.
pub fn load_bytes<M: Net>(model: &mut M, bytes: &[u8], path: &Path) -> Result<(), WeightsError> {
    let format = |reason: String| WeightsError::Format {
        path: path.display().to_string(),
        reason,
    };
    let mut tensors = SafeTensors::deserialize(bytes).map_err(|e| format(describe(&e)))?;
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut tensors,
    })
    .map_err(|e| {
        format(match e {
            dfdx::tensor::safetensors::Error::SafeTensorError(e) => describe(&e),
            dfdx::tensor::safetensors::Error::MismatchedDimension((want, got)) => {
                format!("a tensor has shape {got:?} where {want:?} was expected")
            }
            dfdx::tensor::safetensors::Error::IoError(e) => e.to_string(),
        })
    })?;
    Ok(())
}
