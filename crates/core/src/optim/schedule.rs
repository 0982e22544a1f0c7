//! Learning-rate schedules over epochs: the rate each epoch trains with.

use crate::spec::Schedule;

/// Keras's ReduceLROnPlateau counts an epoch as better only below `best − 1e-4`.
const PLATEAU_MIN_DELTA: f32 = 1e-4;

/// The rate of every epoch of one unit. Step and Cosine depend on the epoch only;
/// ReduceOnPlateau on the validation losses it is told.
#[derive(Debug, Clone)]
pub struct LrSchedule {
    base: f32,
    schedule: Option<Schedule>,
    epochs: usize,
    /// ReduceOnPlateau's current rate, best loss and epochs without improvement.
    current: f32,
    best: f32,
    wait: usize,
}

impl LrSchedule {
    pub fn new(base: f32, schedule: Option<Schedule>, epochs: usize) -> Self {
        LrSchedule {
            base,
            schedule,
            epochs,
            current: base,
            best: f32::INFINITY,
            wait: 0,
        }
    }

    /// The rate epoch `epoch` (1-based) trains with.
    pub fn lr(&self, epoch: usize) -> f32 {
        let k = epoch.saturating_sub(1);
        match self.schedule {
            None => self.base,
            Some(Schedule::Step { every, gamma }) => {
                self.base * gamma.powi((k / every.max(1)) as i32)
            }
            Some(Schedule::Cosine { min_lr }) => {
                // The first epoch trains at the base rate, the last at min_lr.
                let span = self.epochs.saturating_sub(1).max(1) as f64;
                let t = (k as f64 / span).min(1.0);
                let cos = 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
                (min_lr as f64 + (self.base - min_lr) as f64 * cos) as f32
            }
            Some(Schedule::ReduceOnPlateau { .. }) => self.current,
        }
    }

    /// Tells the schedule an epoch's validation loss (only ReduceOnPlateau listens).
    pub fn observe(&mut self, loss: f32) {
        if let Some(Schedule::ReduceOnPlateau { patience, factor }) = self.schedule {
            if loss < self.best - PLATEAU_MIN_DELTA {
                self.best = loss;
                self.wait = 0;
            } else {
                self.wait += 1;
                if self.wait >= patience {
                    self.current *= factor;
                    self.wait = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-7 * b.abs().max(1e-3)
    }

    #[test]
    fn constant_without_a_schedule() {
        let s = LrSchedule::new(0.01, None, 5);
        assert!((1..=5).all(|e| s.lr(e) == 0.01));
    }

    #[test]
    fn step_by_hand() {
        // lr 0.1, ×0.5 every 2 epochs: 0.1 0.1 0.05 0.05 0.025.
        let s = LrSchedule::new(
            0.1,
            Some(Schedule::Step {
                every: 2,
                gamma: 0.5,
            }),
            5,
        );
        let got: Vec<f32> = (1..=5).map(|e| s.lr(e)).collect();
        for (g, want) in got.iter().zip([0.1, 0.1, 0.05, 0.05, 0.025]) {
            assert!(close(*g, want), "{got:?}");
        }
    }

    #[test]
    fn cosine_by_hand() {
        // 5 epochs from 1.0 to 0.0: t = 0, 1/4, 1/2, 3/4, 1 → (1 + cos πt)/2
        // = 1, 0.853553, 0.5, 0.146447, 0.
        let s = LrSchedule::new(1.0, Some(Schedule::Cosine { min_lr: 0.0 }), 5);
        let got: Vec<f32> = (1..=5).map(|e| s.lr(e)).collect();
        for (g, want) in got.iter().zip([1.0, 0.853_553_4, 0.5, 0.146_446_6, 0.0]) {
            assert!((g - want).abs() < 1e-6, "{got:?}");
        }
        // With a floor: min + (base − min)·½(1 + cos πt) at t = 1/2 is 0.1 + 0.9·0.5.
        let s = LrSchedule::new(1.0, Some(Schedule::Cosine { min_lr: 0.1 }), 3);
        assert!((s.lr(2) - 0.55).abs() < 1e-6);
        assert!((s.lr(3) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn reduce_on_plateau_by_hand() {
        // patience 2, factor 0.1. Losses 1.0 0.9 0.95 0.92 0.85 0.86 0.87 0.88:
        // epoch 3 and 4 do not improve on 0.9 → after epoch 4 the rate drops to 0.01;
        // epoch 5 improves; 6 and 7 do not → after epoch 7 it drops to 0.001.
        let mut s = LrSchedule::new(
            0.1,
            Some(Schedule::ReduceOnPlateau {
                patience: 2,
                factor: 0.1,
            }),
            8,
        );
        let mut rates = Vec::new();
        for (e, loss) in [1.0, 0.9, 0.95, 0.92, 0.85, 0.86, 0.87, 0.88]
            .into_iter()
            .enumerate()
        {
            rates.push(s.lr(e + 1));
            s.observe(loss);
        }
        let want = [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001];
        for (g, w) in rates.iter().zip(want) {
            assert!(close(*g, w), "{rates:?}");
        }
    }
}
