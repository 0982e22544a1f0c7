//! Reading a learning curve: EMA smoothing, the best epoch, where early stopping would have
//! stopped, and when the train/test gap started to widen.

use crate::spec::EpochMetrics;

/// Exponential moving average with bias correction (as Adam's moments, TensorBoard's
/// smoothing): `s_t = β·s_{t−1} + (1−β)·x_t`, reported as `s_t / (1 − β^t)`.
pub fn ema(values: &[f64], beta: f64) -> Vec<f64> {
    let mut s = 0.0;
    let mut correction = 1.0;
    values
        .iter()
        .map(|&x| {
            s = beta * s + (1.0 - beta) * x;
            correction *= beta;
            s / (1.0 - correction)
        })
        .collect()
}

/// The epoch (1-based) with the lowest validation loss (test loss where the test set is
/// monitored). Never the test set when a holdout exists: choosing on it would leak it.
pub fn best_epoch(history: &[EpochMetrics]) -> Option<usize> {
    history
        .iter()
        .filter(|m| m.monitored_loss().is_finite())
        .min_by(|a, b| a.monitored_loss().total_cmp(&b.monitored_loss()))
        .map(|m| m.epoch)
}

/// The epoch at which Keras-style early stopping on the validation loss with `patience`
/// would have stopped: the engine's own rule, replayed on the history.
pub fn early_stop_epoch(history: &[EpochMetrics], patience: usize) -> Option<usize> {
    let rule = crate::spec::EarlyStopping {
        patience: patience.max(1),
        min_delta: 0.0,
        restore_best: false,
    };
    crate::engine::stopping::stop_epoch(rule, history.iter().map(|m| m.monitored_loss()))
}

/// The epoch at which the gap validation − train loss had widened `k` epochs in a row while
/// the validation loss sat above train loss (the overfitting warning), if it did. A negative
/// gap that shrinks, as dropout's noisy training loss falls towards it, is not overfitting.
pub fn gap_widening_since(history: &[EpochMetrics], k: usize) -> Option<usize> {
    let mut run = 0;
    for w in history.windows(2) {
        let gap = |m: &EpochMetrics| m.monitored_loss() - m.train_loss;
        if gap(&w[1]) > 0.0 && gap(&w[1]) > gap(&w[0]) {
            run += 1;
            if run >= k.max(1) {
                return Some(w[1].epoch);
            }
        } else {
            run = 0;
        }
    }
    None
}

/// Whether any loss in the history is NaN or infinite.
pub fn has_non_finite(history: &[EpochMetrics]) -> bool {
    history
        .iter()
        .any(|m| !(m.train_loss.is_finite() && m.test_loss.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(losses: &[(f32, f32)]) -> Vec<EpochMetrics> {
        losses
            .iter()
            .enumerate()
            .map(|(i, &(train, test))| EpochMetrics {
                epoch: i + 1,
                train_loss: train,
                train_acc: 0.9,
                test_loss: test,
                test_acc: 0.9,
                seconds: 1.0,
                samples_per_sec: 1.0,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn ema_is_bias_corrected() {
        // A constant series stays constant from the first value on (no pull towards zero).
        assert_eq!(ema(&[2.0, 2.0, 2.0], 0.9), vec![2.0, 2.0, 2.0]);
        let e = ema(&[1.0, 3.0], 0.5);
        assert!((e[0] - 1.0).abs() < 1e-12);
        // s1 = 0.5, s2 = 0.25 + 1.5 = 1.75; corrected by 1 − 0.25 → 2.3333
        assert!((e[1] - 1.75 / 0.75).abs() < 1e-12);
        assert_eq!(
            ema(&[5.0, 1.0], 0.0),
            vec![5.0, 1.0],
            "β = 0 is the raw series"
        );
    }

    #[test]
    fn best_and_early_stopping_epochs() {
        let hist = h(&[
            (1.0, 0.5),
            (0.8, 0.4),
            (0.6, 0.45),
            (0.5, 0.41),
            (0.4, 0.42),
            (0.3, 0.39),
        ]);
        assert_eq!(best_epoch(&hist), Some(6));
        // best at 2; epochs 3, 4, 5 do not improve: patience 3 stops at epoch 5.
        assert_eq!(early_stop_epoch(&hist, 3), Some(5));
        assert_eq!(early_stop_epoch(&hist, 2), Some(4));
        assert_eq!(early_stop_epoch(&hist, 5), None);
        assert_eq!(best_epoch(&[]), None);
    }

    #[test]
    fn gap_widening_needs_k_epochs_in_a_row() {
        // gaps: 0, 0.05, 0.15, 0.1, 0.25, 0.35, 0.5
        let hist = h(&[
            (0.5, 0.5),
            (0.4, 0.45),
            (0.3, 0.45),
            (0.3, 0.4),
            (0.2, 0.45),
            (0.15, 0.5),
            (0.1, 0.6),
        ]);
        assert_eq!(gap_widening_since(&hist, 2), Some(3));
        assert_eq!(gap_widening_since(&hist, 3), Some(7));
        assert_eq!(gap_widening_since(&hist, 4), None);
        // Dropout's train loss falling towards the test loss: the gap grows but stays negative.
        let dropout = h(&[(1.0, 0.5), (0.8, 0.4), (0.6, 0.35), (0.5, 0.33)]);
        assert_eq!(gap_widening_since(&dropout, 2), None);
    }

    #[test]
    fn non_finite_losses_are_flagged() {
        assert!(!has_non_finite(&h(&[(1.0, 0.5)])));
        assert!(has_non_finite(&h(&[(1.0, 0.5), (f32::NAN, 0.4)])));
        assert!(has_non_finite(&h(&[(1.0, f32::INFINITY)])));
    }
}
