//! Keras's EarlyStopping on the validation loss, as a pure state machine the epoch loop asks.

use crate::spec::EarlyStopping;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// This epoch is the best so far (keep its weights when restoring).
    Improved,
    /// No improvement, but patience is not used up.
    Wait,
    /// `patience` epochs without improvement: stop after this epoch.
    Stop,
}

#[derive(Debug, Clone)]
pub struct EarlyStopper {
    rule: EarlyStopping,
    best: f32,
    best_epoch: usize,
    wait: usize,
}

impl EarlyStopper {
    pub fn new(rule: EarlyStopping) -> Self {
        EarlyStopper {
            rule,
            best: f32::INFINITY,
            best_epoch: 0,
            wait: 0,
        }
    }

    /// Tells it epoch `epoch`'s validation loss. An improvement is a loss below
    /// `best − min_delta` (Keras negates min_delta in "min" mode: `current + min_delta < best`).
    pub fn observe(&mut self, epoch: usize, loss: f32) -> Verdict {
        if loss + self.rule.min_delta < self.best {
            self.best = loss;
            self.best_epoch = epoch;
            self.wait = 0;
            return Verdict::Improved;
        }
        self.wait += 1;
        if self.wait >= self.rule.patience {
            Verdict::Stop
        } else {
            Verdict::Wait
        }
    }

    /// The best epoch so far (0 before the first).
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }
}

/// The epoch at which `rule` stops on these validation losses (1-based), if it does.
pub fn stop_epoch(rule: EarlyStopping, losses: impl IntoIterator<Item = f32>) -> Option<usize> {
    let mut s = EarlyStopper::new(rule);
    losses
        .into_iter()
        .enumerate()
        .find(|&(i, l)| s.observe(i + 1, l) == Verdict::Stop)
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(patience: usize, min_delta: f32) -> EarlyStopping {
        EarlyStopping {
            patience,
            min_delta,
            restore_best: true,
        }
    }

    #[test]
    fn stops_patience_epochs_after_the_best() {
        // Best at epoch 2 (0.5); epochs 3 and 4 are worse → patience 2 stops at 4.
        let losses = [0.8, 0.5, 0.6, 0.55, 0.4];
        assert_eq!(stop_epoch(rule(2, 0.0), losses), Some(4));
        assert_eq!(stop_epoch(rule(3, 0.0), losses), None);
        let mut s = EarlyStopper::new(rule(2, 0.0));
        for (i, l) in losses.iter().take(4).enumerate() {
            s.observe(i + 1, *l);
        }
        assert_eq!(s.best_epoch(), 2);
    }

    #[test]
    fn min_delta_counts_small_gains_as_none() {
        // 0.5 → 0.495 improves by 0.005 < min_delta 0.01: not an improvement.
        let losses = [0.5, 0.495, 0.49];
        assert_eq!(stop_epoch(rule(2, 0.01), losses), Some(3));
        assert_eq!(stop_epoch(rule(2, 0.0), losses), None);
    }
}
