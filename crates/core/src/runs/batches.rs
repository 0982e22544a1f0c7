//! A unit's per-batch training losses, kept in its record (so the batch curve outlives the
//! unit and stays in past runs) and bounded: at most `MAX_POINTS` points, neighbours merged
//! in pairs when there would be more.

use serde::{Deserialize, Serialize};

/// Most points kept per unit.
pub const MAX_POINTS: usize = 1000;

/// Per-batch losses as (epoch position, mean loss) points, each the mean of `span` batches.
/// Kept as f32: they read back from JSON exactly as written (an f64 may not).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchCurve {
    pub points: Vec<(f32, f32)>,
    /// Batches averaged per point (a power of two).
    pub span: usize,
    /// Batches booked toward the next point: (sum of x, sum of loss, count).
    #[serde(skip)]
    partial: (f64, f64, usize),
}

/// Equal when what is kept is equal: the batches booked toward the next point are not saved,
/// so a record read back equals the one written.
impl PartialEq for BatchCurve {
    fn eq(&self, other: &Self) -> bool {
        self.points == other.points && self.span == other.span
    }
}

impl Default for BatchCurve {
    fn default() -> Self {
        BatchCurve {
            points: Vec::new(),
            span: 1,
            partial: (0.0, 0.0, 0),
        }
    }
}

impl BatchCurve {
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Books the losses of a progress report: `losses` are the batches ending at batch
    /// `batch` (1-based) of `batches` in epoch `epoch`. Non-finite losses are left out.
    pub fn add(&mut self, epoch: usize, batch: usize, batches: usize, losses: &[f32]) {
        let first = (batch + 1).saturating_sub(losses.len());
        for (k, &loss) in losses.iter().enumerate() {
            if !loss.is_finite() {
                continue;
            }
            let x = epoch.saturating_sub(1) as f64 + (first + k) as f64 / batches.max(1) as f64;
            self.book(x, loss as f64);
        }
    }

    /// Books one batch: points average `span` batches each, and when there are too many,
    /// neighbours merge in pairs (bounded memory, the whole curve kept, and an EMA over the
    /// points stays an EMA over batches: see `weight_per_point`).
    fn book(&mut self, x: f64, loss: f64) {
        let p = &mut self.partial;
        *p = (p.0 + x, p.1 + loss, p.2 + 1);
        if p.2 < self.span.max(1) {
            return;
        }
        let n = p.2 as f64;
        self.points.push(((p.0 / n) as f32, (p.1 / n) as f32));
        self.partial = (0.0, 0.0, 0);
        if self.points.len() > MAX_POINTS {
            // An odd point out would make a "pair" of one batch-span: it starts the next,
            // wider point instead, so every point averages exactly `span` batches.
            let old = self.span.max(1) as f64;
            if self.points.len() % 2 == 1 {
                if let Some((x, y)) = self.points.pop() {
                    self.partial = (x as f64 * old, y as f64 * old, old as usize);
                }
            }
            self.points = self
                .points
                .chunks(2)
                .map(|c| {
                    let n = c.len() as f64;
                    (
                        (c.iter().map(|q| q.0 as f64).sum::<f64>() / n) as f32,
                        (c.iter().map(|q| q.1 as f64).sum::<f64>() / n) as f32,
                    )
                })
                .collect();
            self.span = self.span.max(1) * 2;
        }
    }

    /// The points as the charts draw them.
    pub fn xy(&self) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .map(|&(x, y)| (x as f64, y as f64))
            .collect()
    }

    /// The EMA weight per point for a weight `per_batch` per batch: a point averages `span`
    /// batches, so `per_batch` to that power keeps the smoothing's reach in batches.
    pub fn weight_per_point(&self, per_batch: f64) -> f64 {
        per_batch.powi(self.span.clamp(1, 1 << 20) as i32)
    }

    /// Every point finite and >= 0, the span at least 1, and no more than `MAX_POINTS` (a
    /// hand-edited file is input); the error names the first point that is not.
    pub fn check(&self) -> Result<(), String> {
        if self.points.len() > MAX_POINTS {
            return Err(format!(
                "its batch losses hold {} points, more than {MAX_POINTS}",
                self.points.len()
            ));
        }
        if self.span == 0 {
            return Err("its batch losses' span is 0 (batches per point: 1 or more)".into());
        }
        match self
            .points
            .iter()
            .position(|p| !(p.0.is_finite() && p.1.is_finite() && p.0 >= 0.0 && p.1 >= 0.0))
        {
            Some(i) => Err(format!(
                "its batch loss point {i} is ({}, {}): epoch and loss must be finite and >= 0",
                self.points[i].0, self.points[i].1
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_stays_bounded_and_averages_whole_batches() {
        let mut c = BatchCurve::default();
        for b in 1..=5000 {
            c.add(1, b, 5000, &[1.0 + (b % 2) as f32]);
        }
        assert!(c.points.len() <= MAX_POINTS && c.points.len() > MAX_POINTS / 2);
        assert!(c.span >= 8);
        // Each point averages an even number of alternating 1s and 2s.
        assert!(c.points.iter().all(|p| (p.1 - 1.5).abs() < 1e-6));
        assert!(c.check().is_ok());
        c.add(1, 1, 1, &[f32::NAN]);
        assert!(c.check().is_ok(), "a NaN loss is left out");
        c.points[3].1 = -1.0;
        assert!(c.check().unwrap_err().contains("point 3 is"));
    }
}
