//! Trained weights as safetensors files that say whose they are: the variant's exact name
//! and its architecture travel in the file's metadata, and loading checks both, so one
//! variant's file can never be evaluated as another's.
//!
//! Every architecture is written in one layout: the tensor names dfdx's visitor gives its
//! nested (Block, (Block, Linear)) types ("0.linear.weight", "1.0.bn.scale", "1.1.bias"),
//! so files written through dfdx before any width was allowed load unchanged.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use safetensors::SafeTensorError;

use crate::model::block::{KERAS_BN_EPSILON, KERAS_BN_MOMENTUM};
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

/// One tensor of the layout: its name and shape.
struct Slot {
    name: String,
    shape: Vec<usize>,
}

/// The tensors of a network of `widths` (input, hidden…, output), in the parameter order
/// of `FastNet::params` (dfdx's visiting order).
fn layout(widths: &[usize]) -> Vec<Slot> {
    let hidden = widths.len() - 2;
    let mut out = Vec::new();
    let slot = |name: String, shape: Vec<usize>| Slot { name, shape };
    for l in 0..=hidden {
        let (inp, n) = (widths[l], widths[l + 1]);
        if l < hidden {
            let p = format!("{}0.", "1.".repeat(l));
            out.push(slot(format!("{p}linear.weight"), vec![n, inp]));
            out.push(slot(format!("{p}linear.bias"), vec![n]));
            for t in ["scale", "bias", "running_mean", "running_var"] {
                out.push(slot(format!("{p}bn.{t}"), vec![n]));
            }
        } else {
            let p = "1.".repeat(hidden);
            out.push(slot(format!("{p}weight"), vec![n, inp]));
            out.push(slot(format!("{p}bias"), vec![n]));
        }
    }
    out
}

/// The parameters (in `FastNet::params` order) as safetensors bytes, labelled with
/// `variant` and `arch`.
pub fn to_bytes(
    params: &[Vec<f32>],
    widths: &[usize],
    variant: &str,
    arch: &Arch,
) -> Result<Vec<u8>, WeightsError> {
    let slots = layout(widths);
    if slots.len() != params.len() {
        return Err(WeightsError::Serialise(format!(
            "{} tensors for a layout of {}",
            params.len(),
            slots.len()
        )));
    }
    let mut data: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = slots
        .into_iter()
        .zip(params)
        .map(|(s, p)| {
            let bytes = p.iter().flat_map(|f| f.to_le_bytes()).collect();
            (s.name, Dtype::F32, s.shape, bytes)
        })
        .collect();
    // The scalars dfdx saves with each BN layer, so the file is what dfdx would write.
    for l in 0..widths.len() - 2 {
        let p = format!("{}0.bn.", "1.".repeat(l));
        for (t, v) in [
            ("epsilon", KERAS_BN_EPSILON),
            ("momentum", KERAS_BN_MOMENTUM),
        ] {
            data.push((
                format!("{p}{t}"),
                Dtype::F64,
                Vec::new(),
                v.to_le_bytes().to_vec(),
            ));
        }
    }
    let views = data
        .iter()
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
    let bytes = safetensors::serialize(views, &Some(metadata))
        .map_err(|e| WeightsError::Serialise(describe(&e)))?;
    Ok(canonical_header(bytes))
}

/// The file with its JSON header's keys in sorted order: the metadata is a `HashMap`, whose
/// order changes from process to process, and the same weights should be the same bytes.
/// The header keeps its length (the same keys and values, padded with spaces as
/// safetensors pads it), so the data offsets stay valid.
fn canonical_header(mut bytes: Vec<u8>) -> Vec<u8> {
    let Some(len) = bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(|b| u64::from_le_bytes(b) as usize)
    else {
        return bytes;
    };
    let Some(header) = bytes.get(8..8 + len) else {
        return bytes;
    };
    // serde_json's map is ordered by key (no `preserve_order`): writing it back sorts.
    let sorted = serde_json::from_slice::<serde_json::Value>(header)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok());
    if let Some(mut sorted) = sorted.filter(|s| s.len() <= len) {
        sorted.resize(len, b' ');
        bytes[8..8 + len].copy_from_slice(&sorted);
    }
    bytes
}

/// The largest safetensors header read (names, shapes and the two labels).
const MAX_HEADER: u64 = crate::files::WEIGHTS_HEADER;

/// A weights file's bytes, read only once its size fits `arch` (`weights_limit`) and its
/// header says it is `variant`'s: a regular file (never a pipe, never through a link), so a
/// planted or oversized file is refused before its body is read.
fn read_bounded_labelled(path: &Path, variant: &str, arch: &Arch) -> Result<Vec<u8>, WeightsError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let io = |error: std::io::Error| WeightsError::Io {
        path: shown.clone(),
        error,
    };
    let (mut f, len) =
        crate::files::open_bounded(path, crate::data::max_weights_bytes(arch)).map_err(io)?;
    let mut head = [0u8; 8];
    f.read_exact(&mut head).map_err(|_| WeightsError::Format {
        path: shown.clone(),
        reason: "shorter than a safetensors header".into(),
    })?;
    let n = u64::from_le_bytes(head);
    if n > MAX_HEADER || 8 + n > len {
        return Err(WeightsError::Format {
            path: shown,
            reason: format!("a header of {n} bytes in a file of {len}"),
        });
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(io)?;
    let labels = serde_json::from_slice::<serde_json::Value>(&header)
        .ok()
        .and_then(|v| v.get("__metadata__").cloned());
    let label = |key: &str| {
        labels
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    if let Some(found) = label(META_VARIANT).filter(|f| f != variant) {
        return Err(WeightsError::OtherVariant {
            path: shown,
            found,
            expected: variant.to_string(),
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    bytes.extend_from_slice(&head);
    bytes.extend_from_slice(&header);
    f.take(len - 8 - n).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Reads a weights file and checks it belongs to `variant` of `arch`; returns its bytes.
pub fn read_checked(path: &Path, variant: &str, arch: &Arch) -> Result<Vec<u8>, WeightsError> {
    let shown = path.display().to_string();
    let bytes = read_bounded_labelled(path, variant, arch)?;
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

/// The parameters of checked bytes (from `read_checked`) for a network of `widths`, in
/// `FastNet::params` order; every tensor must be there, f32, of its shape, and finite.
pub fn from_bytes(
    bytes: &[u8],
    widths: &[usize],
    path: &Path,
) -> Result<Vec<Vec<f32>>, WeightsError> {
    let format = |reason: String| WeightsError::Format {
        path: path.display().to_string(),
        reason,
    };
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| format(describe(&e)))?;
    layout(widths)
        .into_iter()
        .map(|slot| {
            let t = tensors
                .tensor(&slot.name)
                .map_err(|e| format(describe(&e)))?;
            if t.dtype() != Dtype::F32 {
                return Err(format(format!(
                    "tensor {:?} is {:?}, not F32",
                    slot.name,
                    t.dtype()
                )));
            }
            if t.shape() != slot.shape {
                return Err(format(format!(
                    "tensor {:?} has shape {:?} where {:?} was expected",
                    slot.name,
                    t.shape(),
                    slot.shape
                )));
            }
            let values: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
                return Err(format(format!("tensor {:?} holds {bad}", slot.name)));
            }
            Ok(values)
        })
        .collect()
}
