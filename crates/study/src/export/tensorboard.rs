//! TensorBoard event files, so a run opens in TensorBoard beside runs of other tools: one run
//! directory per unit, with its per-epoch scalars and its settings as text.
//!
//! The format is TFRecord framing (length, masked CRC-32C of the length, payload, masked
//! CRC-32C of the payload) around `tensorflow.Event` protocol buffers, which are small enough
//! to encode by hand (`Event`, `Summary`, `Summary.Value`, `SummaryMetadata`, `TensorProto`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::runs::{sanitize, write_atomic, RunRecord, UnitRecord};

/// Protocol-buffer wire encoding, as much of it as events need.
mod pb {
    pub fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
        varint(out, ((field as u64) << 3) | wire as u64);
    }

    pub fn double(out: &mut Vec<u8>, field: u32, v: f64) {
        key(out, field, 1);
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn float(out: &mut Vec<u8>, field: u32, v: f32) {
        key(out, field, 5);
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn int(out: &mut Vec<u8>, field: u32, v: u64) {
        key(out, field, 0);
        varint(out, v);
    }

    pub fn bytes(out: &mut Vec<u8>, field: u32, v: &[u8]) {
        key(out, field, 2);
        varint(out, v.len() as u64);
        out.extend_from_slice(v);
    }
}

/// TFRecord's masked CRC-32C.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: length, its CRC, the payload, its CRC.
fn record(out: &mut Vec<u8>, payload: &[u8]) {
    let len = (payload.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&masked_crc(payload).to_le_bytes());
}

/// `Event { wall_time = 1, step = 2, file_version = 3 | summary = 5 }`.
fn event(wall_time: f64, step: u64, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut e = Vec::new();
    pb::double(&mut e, 1, wall_time);
    pb::int(&mut e, 2, step);
    body(&mut e);
    e
}

/// `Summary { value = 1: Value { tag = 1, simple_value = 2 } }`.
fn scalar_summary(tag: &str, v: f32) -> Vec<u8> {
    let mut value = Vec::new();
    pb::bytes(&mut value, 1, tag.as_bytes());
    pb::float(&mut value, 2, v);
    let mut summary = Vec::new();
    pb::bytes(&mut summary, 1, &value);
    summary
}

/// A text summary as the text plugin writes it: a scalar string tensor (`TensorProto { dtype
/// = 1: DT_STRING (7), tensor_shape = 2: {}, string_val = 8 }`) whose value's metadata names
/// the plugin (`SummaryMetadata { plugin_data = 1: { plugin_name = 1 } }`).
fn text_summary(tag: &str, text: &str) -> Vec<u8> {
    let mut plugin = Vec::new();
    pb::bytes(&mut plugin, 1, b"text");
    let mut metadata = Vec::new();
    pb::bytes(&mut metadata, 1, &plugin);
    let mut tensor = Vec::new();
    pb::int(&mut tensor, 1, 7);
    pb::bytes(&mut tensor, 2, &[]);
    pb::bytes(&mut tensor, 8, text.as_bytes());
    let mut value = Vec::new();
    pb::bytes(&mut value, 1, tag.as_bytes());
    pb::bytes(&mut value, 8, &tensor);
    pb::bytes(&mut value, 9, &metadata);
    let mut summary = Vec::new();
    pb::bytes(&mut summary, 1, &value);
    summary
}

/// The event file of one unit: the version record, its settings as text, then one scalar
/// event per tag per epoch (step = epoch). `start` is the run's start time (seconds since
/// the epoch); each epoch's wall time adds the seconds trained so far.
pub fn unit_events(v: &UnitRecord, start: f64) -> Vec<u8> {
    let mut out = Vec::new();
    record(
        &mut out,
        &event(start, 0, |e| pb::bytes(e, 3, b"brain.Event:2")),
    );
    let settings = format!(
        "```\n{}\n```",
        ron::ser::to_string_pretty(&v.spec, ron::ser::PrettyConfig::default())
            .unwrap_or_else(|e| format!("(settings could not be written: {e})"))
    );
    record(
        &mut out,
        &event(start, 0, |e| {
            pb::bytes(e, 5, &text_summary("settings", &settings))
        }),
    );
    let mut wall = start;
    for m in &v.history {
        wall += m.seconds.max(0.0) as f64;
        for metric in crate::spec::Metric::all() {
            if let Some(x) = metric.of(m) {
                let summary = scalar_summary(metric.tag(), x as f32);
                record(
                    &mut out,
                    &event(wall, m.epoch as u64, |e| pb::bytes(e, 5, &summary)),
                );
            }
        }
    }
    out
}

/// Run directory names, one per unit: the sanitised unit name, with `-2`, `-3`, … where two
/// names become the same after sanitising.
pub fn unit_dirs(record: &RunRecord) -> Vec<String> {
    let mut used = std::collections::HashSet::new();
    record
        .units
        .iter()
        .map(|v| {
            let base = sanitize(&v.spec.name);
            let mut name = base.clone();
            let mut k = 2;
            while !used.insert(name.to_lowercase()) {
                name = format!("{base}-{k}");
                k += 1;
            }
            name
        })
        .collect()
}

/// Writes `dir/<unit>/events.out.tfevents.<start>.mnist-lab` for every unit with at least
/// one epoch; returns the directories written. Files are written atomically.
pub fn export(dir: &Path, record: &RunRecord) -> Result<Vec<PathBuf>> {
    let start = record_start(record);
    let mut written = Vec::new();
    for (v, name) in record.units.iter().zip(unit_dirs(record)) {
        if v.history.is_empty() {
            continue;
        }
        let unit_dir = dir.join(&name);
        std::fs::create_dir_all(&unit_dir)
            .with_context(|| format!("{}: cannot create the folder", unit_dir.display()))?;
        let file = unit_dir.join(format!("events.out.tfevents.{}.mnist-lab", start as u64));
        write_atomic(&file, &unit_events(v, start))?;
        written.push(unit_dir);
    }
    Ok(written)
}

/// The run's start as seconds since the Unix epoch (when it was created), or now for a
/// record that does not say.
fn record_start(record: &RunRecord) -> f64 {
    if record.created > 0 {
        return record.created as f64;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_follow_the_protobuf_encoding() {
        let mut v = Vec::new();
        pb::varint(&mut v, 300);
        assert_eq!(v, [0xAC, 0x02]);
    }

    #[test]
    fn records_carry_tfrecord_framing() {
        let mut out = Vec::new();
        record(&mut out, b"abc");
        assert_eq!(&out[..8], &3u64.to_le_bytes());
        assert_eq!(&out[12..15], b"abc");
        assert_eq!(out.len(), 8 + 4 + 3 + 4);
        // CRC-32C of "123456789" is 0xE3069283 (the standard check value).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }
}
