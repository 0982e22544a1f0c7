//! Update rules we implement ourselves, with Keras's semantics, over plain slices.

use crate::spec::OptimizerSpec;

/// Keras RMSprop: `a = ρa + (1−ρ)g²; p −= lr·g / (√a + ε)`. State starts at zero
/// (dfdx's starts at one, which makes the first steps tiny).
#[inline(always)]
pub fn rmsprop(p: &mut [f32], g: &[f32], a: &mut [f32], lr: f32, rho: f32, eps: f32) {
    for ((p, &g), a) in p.iter_mut().zip(g).zip(a.iter_mut()) {
        *a = rho * *a + (1.0 - rho) * g * g;
        *p -= lr * g / (a.sqrt() + eps);
    }
}

/// Keras Adagrad: accumulator starts at `initial_accumulator`; `a += g²; p −= lr·g/√(a+ε)`.
#[inline(always)]
pub fn adagrad(p: &mut [f32], g: &[f32], a: &mut [f32], lr: f32, eps: f32) {
    for ((p, &g), a) in p.iter_mut().zip(g).zip(a.iter_mut()) {
        *a += g * g;
        *p -= lr * g / (*a + eps).sqrt();
    }
}

/// Keras Adadelta: `Eg = ρEg + (1−ρ)g²; d = −√(Edx+ε)/√(Eg+ε)·g; Edx = ρEdx + (1−ρ)d²;
/// p += lr·d`.
#[inline(always)]
pub fn adadelta(
    p: &mut [f32],
    g: &[f32],
    eg: &mut [f32],
    edx: &mut [f32],
    lr: f32,
    rho: f32,
    eps: f32,
) {
    for (((p, &g), eg), edx) in p.iter_mut().zip(g).zip(eg.iter_mut()).zip(edx.iter_mut()) {
        *eg = rho * *eg + (1.0 - rho) * g * g;
        let d = -((*edx + eps).sqrt() / (*eg + eps).sqrt()) * g;
        *edx = rho * *edx + (1.0 - rho) * d * d;
        *p += lr * d;
    }
}

/// Adam as dfdx computes it (bias-corrected moments, ε outside the square root); `t` is the
/// 1-based step.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn adam(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    t: i32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
) {
    let c1 = 1.0 / (1.0 - beta1.powi(t));
    let c2 = 1.0 / (1.0 - beta2.powi(t));
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = *m * beta1 + g * (1.0 - beta1);
        *v = *v * beta2 + g * g * (1.0 - beta2);
        *p -= lr * (*m * c1) / ((*v * c2).sqrt() + eps);
    }
}

/// SGD as dfdx computes it: classic momentum `v = g + μv; p −= lr·v`, Nesterov
/// `v = g + μv; p −= lr·(g + μv)`.
#[inline(always)]
pub fn sgd(p: &mut [f32], g: &[f32], v: &mut [f32], lr: f32, momentum: f32, nesterov: bool) {
    for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
        let step = if momentum > 0.0 {
            *v = g + momentum * *v;
            if nesterov {
                g + momentum * *v
            } else {
                *v
            }
        } else {
            g
        };
        *p -= lr * step;
    }
}

/// The first state slot's starting value: Keras's Adagrad accumulator starts at
/// `initial_accumulator`, every other rule's state at zero.
pub fn initial_state(spec: OptimizerSpec) -> f32 {
    match spec {
        OptimizerSpec::Adagrad {
            initial_accumulator,
            ..
        } => initial_accumulator,
        _ => 0.0,
    }
}

/// One update of `p` by gradient `g` under `spec`, with state slots `a`, `b` and 1-based step `t`.
#[inline(always)]
pub fn apply(spec: OptimizerSpec, t: i32, p: &mut [f32], g: &[f32], a: &mut [f32], b: &mut [f32]) {
    match spec {
        OptimizerSpec::Adam {
            lr,
            beta1,
            beta2,
            eps,
        } => adam(p, g, a, b, t, lr, beta1, beta2, eps),
        OptimizerSpec::Sgd {
            lr,
            momentum,
            nesterov,
        } => sgd(p, g, a, lr, momentum, nesterov),
        OptimizerSpec::RMSprop { lr, rho, eps } => rmsprop(p, g, a, lr, rho, eps),
        OptimizerSpec::Adagrad { lr, eps, .. } => adagrad(p, g, a, lr, eps),
        OptimizerSpec::Adadelta { lr, rho, eps } => adadelta(p, g, a, b, lr, rho, eps),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) {
        assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
    }

    #[test]
    fn rmsprop_two_steps_by_hand() {
        // p=1, g=0.5, lr=0.1, rho=0.9, eps=1e-7
        let (mut p, mut a) = ([1.0f32], [0.0f32]);
        rmsprop(&mut p, &[0.5], &mut a, 0.1, 0.9, 1e-7);
        // a = 0.1*0.25 = 0.025; p = 1 - 0.1*0.5/(0.158113883+1e-7) = 0.683772...
        close(a[0], 0.025);
        close(p[0], 1.0 - 0.05 / (0.025f32.sqrt() + 1e-7));
        rmsprop(&mut p, &[-0.2], &mut a, 0.1, 0.9, 1e-7);
        // a = 0.9*0.025 + 0.1*0.04 = 0.0265
        close(a[0], 0.0265);
        close(p[0], 0.683_772_3 + 0.02 / 0.0265f32.sqrt());
    }

    #[test]
    fn adagrad_by_hand() {
        let (mut p, mut a) = ([2.0f32, -1.0], [0.1f32, 0.1]);
        adagrad(&mut p, &[1.0, 0.0], &mut a, 0.01, 1e-7);
        // a = 1.1; p = 2 - 0.01/sqrt(1.1) = 1.990465
        close(a[0], 1.1);
        close(p[0], 1.990_465);
        // zero gradient leaves the parameter alone
        close(p[1], -1.0);
        close(a[1], 0.1);
    }

    #[test]
    fn adadelta_by_hand() {
        // Keras defaults as the study ran them: lr 1, rho 0.95, eps 1e-7.
        let (mut p, mut eg, mut edx) = ([1.0f32], [0.0f32], [0.0f32]);
        adadelta(&mut p, &[0.5], &mut eg, &mut edx, 1.0, 0.95, 1e-7);
        // Eg = 0.05*0.25 = 0.0125; d = -sqrt(1e-7)/sqrt(0.0125001)*0.5 = -0.00141421...
        close(eg[0], 0.0125);
        let d = -(1e-7f32.sqrt() / (0.0125f32 + 1e-7).sqrt()) * 0.5;
        close(p[0], 1.0 + d);
        close(edx[0], 0.05 * d * d);
        assert!((d + 0.001_414_2).abs() < 1e-6);
    }
}
