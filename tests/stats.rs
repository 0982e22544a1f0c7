//! Statistics against numbers computed elsewhere. The reference values come from SciPy 1.17.1
//! and statsmodels 0.15.0 (pip install scipy statsmodels pandas), with this script:
//!
//! ```python
//! a = [0.051, 0.055, 0.049, 0.053, 0.052]; b = [0.058, 0.061, 0.057, 0.060, 0.059, 0.062]
//! r = stats.ttest_ind(a, b, equal_var=False)        # t, p, df
//! r.confidence_interval(0.95)                       # CI of mean(a) - mean(b)
//! m = np.mean(a); h = stats.sem(a) * stats.t.ppf(0.975, len(a) - 1)   # CI of a's mean
//! # 2x3x2 design, 2 replicates, values in the order A, B, C, replicate:
//! model = ols("y ~ C(A)+C(B)+C(D)+C(A):C(B)+C(A):C(D)+C(B):C(D)", data=df).fit()
//! sm.stats.anova_lm(model, typ=2)
//! ```

use mnist_lab::insight::factors::{Factor, Layout};
use mnist_lab::insight::linear_model as model;
use mnist_lab::insight::stats;
use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord, UnitStatus};
use mnist_lab::spec::EpochMetrics;
use mnist_lab::spec::Metric;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-12)
}

#[test]
fn confidence_interval_of_a_mean_matches_scipy() {
    let e = stats::estimate(&[0.051, 0.055, 0.049, 0.053, 0.052]);
    assert_eq!(e.n, 5);
    assert!(close(e.mean, 0.052, 1e-12));
    assert!(close(e.sd, 0.0022360679774997894, 1e-9), "{e:?}");
    assert!(close(e.ci_low, 0.049223554894802214, 1e-9), "{e:?}");
    assert!(close(e.ci_high, 0.054776445105197795, 1e-9), "{e:?}");
    // One value: no spread, no interval (never "± 0").
    let one = stats::estimate(&[0.3]);
    assert!(one.sd.is_nan() && one.ci_low.is_nan());
}

#[test]
fn welch_t_test_matches_scipy() {
    let a = [0.051, 0.055, 0.049, 0.053, 0.052];
    let b = [0.058, 0.061, 0.057, 0.060, 0.059, 0.062];
    let w = stats::welch(&a, &b).unwrap();
    assert!(close(w.t, -5.9603956067926935, 1e-9), "{w:?}");
    assert!(close(w.df, 7.882096069868992, 1e-9), "{w:?}");
    assert!(close(w.p, 0.00035809596336859064, 1e-6), "{w:?}");
    assert!(close(w.diff, -0.0075, 1e-9));
    assert!(close(w.ci_low, -0.010409230730408824, 1e-7), "{w:?}");
    assert!(close(w.ci_high, -0.004590769269591162, 1e-7), "{w:?}");
    assert!(w.significant());
    assert!(
        stats::welch(&[1.0], &b).is_none(),
        "one value cannot be tested"
    );
    assert_eq!(stats::format_p(w.p), "p < 0.001");
}

/// A record of `text`'s units, each finished with one epoch whose test loss is `losses[i]`,
/// `losses` listed variant by variant, seeds within (units train seed-major: reordered here).
fn record_with(text: &str, losses: &[f64]) -> RunRecord {
    let p = preset::parse("<test>", text).unwrap();
    assert_eq!(p.units.len(), losses.len());
    let mut r = RunRecord::new(&p, Environment::detect("t"));
    let groups = stats::variant_groups(&r);
    let mut by_unit = vec![0.0; losses.len()];
    let mut k = 0;
    for g in &groups {
        for &i in g {
            by_unit[i] = losses[k];
            k += 1;
        }
    }
    for (v, &loss) in r.units.iter_mut().zip(&by_unit) {
        v.status = UnitStatus::Finished;
        v.history.push(EpochMetrics {
            epoch: 1,
            test_loss: loss as f32,
            test_acc: 1.0 - loss as f32,
            ..Default::default()
        });
    }
    r
}

const GRID: &str = r#"(name: "g", defaults: (seeds: 2, validation: Test),
    grid: (arch: ["512-128", "512-256-128"], placement: [Every, First, Last], dropout: [0.2, 0.5]))"#;
const Y: [f64; 24] = [
    0.10, 0.12, 0.08, 0.09, 0.11, 0.10, 0.07, 0.08, 0.09, 0.11, 0.06, 0.05, 0.13, 0.12, 0.10, 0.12,
    0.12, 0.14, 0.09, 0.10, 0.10, 0.09, 0.08, 0.07,
];

/// The grid's two seeds are shared by every variant: the ANOVA blocks on them. Reference:
/// tests/reference/stats_24.py, "GRID blocked" (`y ~ C(seed) + C(A) + C(B) + C(D) + two-way
/// interactions`, `anova_lm(typ=2)`).
#[test]
fn anova_of_a_balanced_grid_matches_statsmodels() {
    let r = record_with(GRID, &Y);
    let d = stats::design(&r);
    assert!(d.balanced, "{d:?}");
    assert!(d.blocked, "{d:?}");
    assert_eq!(d.replicates, 2);
    // statsmodels' OLS table: the pooled residual (the strata are checked against AnovaRM
    // below).
    let a = model::anova_pooled(&r, Metric::TestLoss).unwrap();
    assert!(a.blocked);
    // (term, df, SS, F, p); the f32 storage of the losses limits agreement.
    let want = [
        (
            "seed (block)",
            1,
            0.00015000000000000137,
            1.5294117647058956,
            0.23807733643328427,
        ),
        (
            "depth",
            1,
            0.001666666666666653,
            16.993464052287433,
            0.0012018654025851782,
        ),
        (
            "BN+Dropout",
            2,
            0.003008333333333308,
            15.336601307189408,
            0.0003795194402794837,
        ),
        (
            "dropout",
            1,
            0.004816666666666692,
            49.111111111111356,
            9.231225651532279e-06,
        ),
        (
            "depth × BN+Dropout",
            2,
            0.00025833333333332944,
            1.3169934640522671,
            0.3014244316851608,
        ),
        (
            "depth × dropout",
            1,
            0.00015000000000000094,
            1.5294117647058914,
            0.23807733643328483,
        ),
        (
            "BN+Dropout × dropout",
            2,
            0.00020833333333333177,
            1.0620915032679654,
            0.3739075936688013,
        ),
    ];
    assert_eq!(a.rows.len(), want.len(), "{a:?}");
    for (row, (term, df, ss, f, p)) in a.rows.iter().zip(want) {
        assert_eq!(row.term, term);
        assert_eq!(row.df, df, "{term}");
        assert!(close(row.ss, ss, 1e-4), "{term}: {} vs {ss}", row.ss);
        assert!(close(row.f, f, 1e-3), "{term}: {} vs {f}", row.f);
        assert!(close(row.p, p, 2e-3), "{term}: {} vs {p}", row.p);
        assert!(
            close(row.partial_eta2, ss / (ss + 0.0012750000000000005), 1e-3),
            "{term}"
        );
    }
    assert_eq!(a.residual_df, 13);
    assert!(close(a.residual_ss, 0.0012750000000000005, 1e-3));
}

#[test]
fn paper_2019_is_not_factorial_and_its_confounded_factors_are_named() {
    let p = preset::load("paper-2019").unwrap();
    let losses: Vec<f64> = (0..p.units.len())
        .map(|i| 0.05 + i as f64 * 0.001)
        .collect();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/paper-2019.ron"),
    )
    .unwrap();
    let r = record_with(&text, &losses);
    let d = stats::design(&r);
    assert!(!d.balanced);
    // Depth is crossed with everything; the optimiser only changes together with dropout.
    assert!(!d.is_confounded(Factor::Depth), "{d:?}");
    assert!(d.is_confounded(Factor::Optimizer));
    let s = d.confounding_sentence(Factor::Optimizer).unwrap();
    assert!(
        s.contains("optimizer is confounded with") && s.contains("dropout"),
        "{s}"
    );
    // One unit per variant: no seed block, and every cell's one unit leaves no residual.
    assert!(!d.blocked);
    assert!(
        d.sentence().contains("not a balanced full factorial"),
        "{}",
        d.sentence()
    );
    assert_eq!(
        model::anova(&r, Metric::TestLoss).unwrap_err(),
        model::AnovaError::NoResidual
    );
    // Over 5 seeds: the confounded pair has no degrees of freedom of its own in a type II
    // ANOVA, and says so instead of refusing the rest.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/paper-2019-seeds.ron"),
    )
    .unwrap();
    let losses: Vec<f64> = (0..75)
        .map(|i| 0.05 + (i / 5) as f64 * 0.001 + ((i * 37 + i * i * 11) % 13) as f64 * 0.0005)
        .collect();
    let r = record_with(&text, &losses);
    assert!(stats::design(&r).blocked);
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.rows.iter().any(|row| row.term == "depth"), "{a:?}");
    assert!(
        a.inestimable.iter().any(|t| t == "optimizer")
            && a.inestimable.iter().any(|t| t == "dropout"),
        "{a:?}"
    );
}

#[test]
fn the_best_set_holds_every_variant_not_distinguishable_from_the_best() {
    let three = r#"(name: "t", defaults: (arch: "128-64", seeds: 4, validation: Test),
        variants: [(name: "a"), (name: "b", placement: First), (name: "c", placement: Last)])"#;
    // a clearly beats b and c (paired, every seed); b and c overlap.
    let r = record_with(
        three,
        &[
            0.050, 0.051, 0.049, 0.050, 0.060, 0.062, 0.058, 0.061, 0.061, 0.059, 0.063, 0.060,
        ],
    );
    let s = stats::per_variant(&r);
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].loss.n, 4);
    let b = stats::best_set(&s, Metric::TestLoss).unwrap();
    assert_eq!(
        b.chosen_on,
        Metric::TestLoss,
        "no holdout: chosen on the test set"
    );
    assert_eq!(b.members(), vec!["a"]);
    assert_eq!(b.family, 2);
    let line = b.sentence();
    // Said as what the tests show, with the closest rivals' numbers (issue 41, 4).
    assert!(
        line.contains("no other variant could be better (95%, one-sided, Holm over 2"),
        "{line}"
    );
    assert!(line.contains("closest b +0.0"), "{line}");
    assert!(line.contains("adjusted p"), "{line}");
    assert!(line.contains("Holm over 2"), "{line}");
    assert!(line.contains("chosen on the test set"), "{line}");
    // Without a clear winner: b and c both could be best.
    let r = record_with(
        three,
        &[
            0.061, 0.059, 0.063, 0.060, 0.060, 0.062, 0.058, 0.061, 0.061, 0.059, 0.063, 0.060,
        ],
    );
    let b = stats::best_set(&stats::per_variant(&r), Metric::TestLoss).unwrap();
    assert!(b.members().len() >= 2, "{b:?}");
    assert!(
        b.sentence().starts_with("could be best on test loss"),
        "{}",
        b.sentence()
    );
    let acc = stats::best_set(&stats::per_variant(&r), Metric::TestAcc).unwrap();
    assert!(acc.sentence().contains("highest mean"), "{acc:?}");
}

/// With a holdout, the best is chosen on validation loss, not on the test set.
#[test]
fn the_best_is_chosen_on_validation_where_images_were_held_out() {
    let text = r#"(name: "t", defaults: (arch: "128-64", seeds: 3, validation: Holdout(100)),
        variants: [(name: "a"), (name: "b", placement: None)])"#;
    let mut r = record_with(text, &[0.10, 0.11, 0.12, 0.20, 0.21, 0.22]);
    // Validation says b, test says a.
    for v in &mut r.units {
        let val = if v.spec.variant_name() == "b" {
            0.05
        } else {
            0.30
        };
        v.history[0].val_loss = Some(val + v.spec.seed as f32 * 0.001);
        v.history[0].val_acc = Some(0.9);
    }
    let vs = stats::per_variant(&r);
    let b = stats::best_set(&vs, Metric::TestLoss).unwrap();
    assert_eq!(b.chosen_on, Metric::ValLoss);
    assert_eq!(b.best, "b");
    assert!(b.sentence().contains("validation loss"), "{}", b.sentence());
}

/// Balanced: a least-squares mean is the raw mean of the level. Every seed trained every
/// cell, so its CI is the t-interval of the level's per-seed means (the seeds' own spread of
/// that level, not the spread over every unit at the level); the pooled fit's CI uses the
/// model's residual, narrower than the spread over every unit.
#[test]
fn main_effects_are_least_squares_means_with_model_intervals() {
    let r = record_with(GRID, &Y);
    let effects = model::main_effects(&r, Metric::TestLoss);
    let (f, e) = &effects[0];
    assert_eq!(*f, Factor::Depth);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].n, 12);
    let raw = stats::estimate(&Y[..12]);
    assert!(close(e[0].mean, raw.mean, 1e-5), "{e:?}");
    // Y lists variants with their two seeds within: seed 1 at even places, seed 2 at odd.
    let per_seed: Vec<f64> = (0..2)
        .map(|s| Y[..12].iter().skip(s).step_by(2).sum::<f64>() / 6.0)
        .collect();
    let own = stats::estimate(&per_seed);
    assert!(
        close(e[0].ci_low, own.ci_low.max(0.0), 1e-4),
        "{e:?} vs {own:?}"
    );
    assert!(close(e[0].ci_high, own.ci_high, 1e-4), "{e:?} vs {own:?}");
    let layout = Layout::new(&r);
    let pooled = model::Fitted::new(&r, &layout, Metric::TestLoss)
        .unwrap()
        .pooled();
    let mean = model::analysed_mean(&r, &layout, Metric::TestLoss);
    let p = pooled.ls_means(Factor::Depth, mean).unwrap();
    assert!(close(p[0].mean, raw.mean, 1e-5), "{p:?}");
    assert!(
        p[0].ci_high - p[0].ci_low < raw.ci_high - raw.ci_low,
        "the pooled error excludes the other factors' effects: {p:?} vs {raw:?}"
    );
}

// Issue "Faults, round three", 17: identical repeats are "no spread", never "too few seeds"
// or F = inf; a newline in a name never splits a Markdown row.

#[test]
fn identical_repeats_are_no_spread_and_give_no_infinite_f() {
    let r = record_with(
        "(name: \"t\", defaults: (arch: \"128-64\", seeds: 3), \
         variants: [(name: \"a\"), (name: \"b\", placement: None)])",
        &[0.2, 0.2, 0.2, 0.3, 0.3, 0.3],
    );
    let vs = stats::per_variant(&r);
    let l = stats::best_set(&vs, Metric::TestLoss).unwrap();
    let line = l.sentence();
    assert!(
        matches!(l.rivals[0].test, Err(stats::Untestable::NoSpread { n: 3 })),
        "{l:?}"
    );
    assert!(line.contains("no spread over 3 seeds"), "{line}");
    assert!(!line.contains("too few seeds"), "{line}");
    assert!(!line.contains("not distinguishable"), "{line}");
    assert!(
        mnist_lab::report::estimate_text(&vs[0].loss, 4).contains("no spread over 3 seeds"),
        "sd = 0 is said in words"
    );
    assert_eq!(
        model::anova(&r, Metric::TestLoss).unwrap_err(),
        model::AnovaError::NoSpread
    );
    let md = mnist_lab::export::summary_md(&r);
    assert!(!md.contains("inf"), "{md}");
}

#[test]
fn a_newline_in_a_variant_name_stays_inside_its_markdown_row() {
    let r = record_with(
        "(name: \"t\", defaults: (arch: \"128-64\", seeds: 2), \
         variants: [(name: \"a\\nb|c\"), (name: \"d\", placement: None)])",
        &[0.2, 0.21, 0.3, 0.32],
    );
    let md = mnist_lab::export::summary_md(&r);
    assert!(md.contains("a\\nb\\|c"), "{md}");
    for line in md.lines() {
        assert!(!line.starts_with("b|c"), "a row was split: {md}");
        assert!(!line.starts_with("b\\|c"), "a row was split: {md}");
    }
}

// Many tests, one family (issue "Conclusions that survive a referee", 5). Reference numbers
// from statsmodels 0.15.0:
//
// ```python
// from statsmodels.stats.multitest import multipletests
// p = [0.01, 0.04, 0.03, 0.004, 0.2, 0.0495]
// multipletests(p, method="holm")[1]    # [0.05, 0.12, 0.12, 0.024, 0.2, 0.12]
// multipletests(p, method="fdr_bh")[1]  # [0.03, 0.0594, 0.0594, 0.024, 0.2, 0.0594]
// ```

#[test]
fn holm_and_benjamini_hochberg_match_statsmodels() {
    let p = [0.01, 0.04, 0.03, 0.004, 0.2, 0.0495];
    let holm = stats::holm(&p);
    for (got, want) in holm.iter().zip([0.05, 0.12, 0.12, 0.024, 0.2, 0.12]) {
        assert!(close(*got, want, 1e-12), "{holm:?}");
    }
    let bh = stats::benjamini_hochberg(&p);
    for (got, want) in bh
        .iter()
        .zip([0.030000000000000002, 0.0594, 0.0594, 0.024, 0.2, 0.0594])
    {
        assert!(close(*got, want, 1e-12), "{bh:?}");
    }
    assert!(stats::holm(&[]).is_empty());
    assert_eq!(stats::holm(&[0.7, 0.6]), vec![1.0, 1.0], "capped at 1");
}

#[test]
fn a_p_just_under_the_line_is_never_printed_as_0_050() {
    assert_eq!(stats::format_p(0.0497), "p = 0.0497");
    assert_eq!(stats::format_p(0.0503), "p = 0.050");
    assert_eq!(stats::format_p(0.031), "p = 0.031");
    // In [0.04995, 0.05) four digits would print 0.0500 beside "a real difference": more
    // digits until the printed p is under 0.05 too (issue "Conclusions that survive a
    // referee, round two", 8).
    assert_eq!(stats::format_p(0.04996), "p = 0.04996");
    assert_eq!(stats::format_p(0.0499996), "p = 0.0499996");
    for k in 0..1000 {
        let p = 0.0495 + k as f64 * 0.0000005;
        let printed: f64 = stats::format_p(p)[4..].parse().unwrap();
        assert!(printed < 0.05, "{p} printed as {printed}");
    }
}

#[test]
fn words_follow_the_holm_adjusted_p_of_the_family() {
    let r = record_with(
        "(name: \"t\", defaults: (arch: \"128-64\", seeds: 3), \
         variants: [(name: \"a\"), (name: \"b\", placement: None), (name: \"c\", placement: Last)])",
        &[0.20, 0.21, 0.22, 0.23, 0.225, 0.26, 0.205, 0.218, 0.225],
    );
    let vs = stats::per_variant(&r);
    let cs = stats::one_factor_comparisons(
        &Layout::new(&r),
        &vs,
        Metric::TestLoss,
        stats::Adjustment::Holm,
    );
    assert_eq!(cs.len(), 3);
    let want = stats::holm(&cs.iter().map(|c| c.test.p).collect::<Vec<_>>());
    for (c, w) in cs.iter().zip(&want) {
        assert_eq!(c.family, 3);
        assert!(close(c.p_adjusted, *w, 1e-12));
        let line = c.sentence(Metric::TestLoss);
        assert!(line.contains("Holm over 3"), "{line}");
        assert_eq!(
            line.ends_with("a real difference"),
            c.p_adjusted < 0.05,
            "{line}"
        );
    }
    // At least one raw p under 0.05 that the family does not keep.
    assert!(
        cs.iter().any(|c| c.test.p < 0.05 && c.p_adjusted >= 0.05),
        "{:?}",
        cs.iter()
            .map(|c| (c.test.p, c.p_adjusted))
            .collect::<Vec<_>>()
    );
}

// Issue "Conclusions that survive a referee": paired tests, Tukey, blocked and type II ANOVA,
// least-squares means, the planner. Every number below is printed by
// tests/reference/stats_24.py (SciPy 1.17.1, statsmodels 0.15.0), in the order used here.

#[test]
fn paired_t_and_its_interval_match_scipy() {
    let a = [0.0512, 0.0538, 0.0497, 0.0561, 0.0525, 0.0544];
    let b = [0.0531, 0.0549, 0.0522, 0.0570, 0.0551, 0.0548];
    let with_seeds = |xs: &[f64]| -> Vec<(u64, f64)> {
        xs.iter()
            .enumerate()
            .map(|(i, x)| (i as u64 + 1, *x))
            .collect()
    };
    let t = stats::compare(&with_seeds(&a), &with_seeds(&b)).unwrap();
    assert_eq!(t.method, stats::Method::Paired);
    assert_eq!(t.pairs, 6);
    assert!(close(t.t, -4.251696493980153, 1e-9), "{t:?}");
    assert!(close(t.df, 5.0, 1e-12));
    assert!(close(t.p, 0.008078694392881815, 1e-7), "{t:?}");
    assert!(close(t.ci_low, -0.0025138755940988795, 1e-8), "{t:?}");
    assert!(close(t.ci_high, -0.000619457739234458, 1e-8), "{t:?}");
    // Exact sign-flip permutation test (2^6 flips).
    assert!(close(t.p_permutation.unwrap(), 0.03125, 1e-12), "{t:?}");
    // Welch on the same numbers ignores the pairing and sees far less.
    let w = stats::welch(&a, &b).unwrap();
    assert!(w.p > 0.1, "{w:?}");
    // Variants with no seed in common fall back to Welch.
    let shifted: Vec<(u64, f64)> = b
        .iter()
        .enumerate()
        .map(|(i, x)| (i as u64 + 100, *x))
        .collect();
    let t = stats::compare(&with_seeds(&a), &shifted).unwrap();
    assert_eq!(t.method, stats::Method::Welch);
    assert!(close(t.p, w.p, 1e-12));
}

#[test]
fn sign_flip_permutation_p_matches_scipy() {
    let d = [0.3, -0.1, 0.5, 0.2, 0.4, -0.2, 0.6, 0.1, 0.35];
    assert!(close(stats::sign_flip_p(&d), 0.04296875, 1e-12));
    // n > 12: no exact permutation p (2^n flips), the t-test alone.
    let many: Vec<f64> = (0..13).map(|i| 0.01 * (i as f64 - 3.0)).collect();
    assert!(stats::paired(&many).unwrap().p_permutation.is_none());
}

#[test]
fn studentized_range_matches_scipy() {
    use mnist_lab::insight::dist;
    for (q, k, df, want) in [
        (3.5, 3, 10.0, 0.9228966891615896),
        (2.0, 4, 5.0, 0.4575162727826662),
        (4.2, 6, 30.0, 0.941245259553195),
    ] {
        let got = dist::studentized_range_cdf(q, k, df);
        assert!(
            (got - want).abs() < 1e-6,
            "q {q} k {k} df {df}: {got} vs {want}"
        );
    }
    let q = dist::studentized_range_quantile(0.95, 3, 10.0);
    assert!(close(q, 3.876776750013158, 1e-6), "{q}");
}

#[test]
fn planner_matches_statsmodels_ttest_power() {
    use mnist_lab::insight::dist;
    assert!(close(
        dist::paired_t_power(0.8, 5.0, 0.05),
        0.2809920635173735,
        1e-6
    ));
    assert!(close(
        dist::detectable_effect(5.0, 0.05, 0.8),
        1.6819970833232674,
        1e-6
    ));
    assert!(close(
        dist::pairs_needed(0.5, 0.05, 0.8),
        33.36713118431779,
        1e-5
    ));
    // In the run's units: the difference 5 seeds see, and the seeds a difference needs.
    let sd = 0.0026;
    assert!(close(
        stats::detectable_difference(sd, 5, 0.05),
        1.6819970833232674 * sd,
        1e-6
    ));
    assert_eq!(stats::seeds_needed(0.5 * sd, sd, 0.05), 34.0);
}

/// One-way: three placements, each over its own seeds (no block), 4 units each: the model's
/// Tukey HSD is statsmodels' `pairwise_tukeyhsd`.
#[test]
fn tukey_hsd_of_a_one_way_design_matches_statsmodels() {
    let text = r#"(name: "t", defaults: (arch: "128-64", seeds: 4, validation: Test),
        variants: [(name: "e", placement: Every, seed: 1), (name: "f", placement: First, seed: 11),
                   (name: "l", placement: Last, seed: 21)])"#;
    let y = [
        0.101, 0.097, 0.104, 0.099, 0.108, 0.112, 0.106, 0.110, 0.100, 0.103, 0.098, 0.102,
    ];
    let r = record_with(text, &y);
    assert!(!stats::design(&r).blocked, "no seed is shared");
    let layout = Layout::new(&r);
    let fit = model::Fitted::new(&r, &layout, Metric::TestLoss).unwrap();
    let pairs = fit.tukey(Factor::Placement).unwrap();
    // Tukey's differences are a − b; statsmodels' meandiff is group2 − group1.
    let want = [
        (
            0.008749999999999994,
            0.003589193304694859,
            0.013910806695305129,
            0.002749780538283675,
        ),
        (
            0.0005000000000000004,
            -0.004660806695305135,
            0.0056608066953051355,
            0.9606415760860177,
        ),
        (
            -0.008249999999999993,
            -0.013410806695305129,
            -0.0030891933046948584,
            0.00401758995330137,
        ),
    ];
    assert_eq!(pairs.len(), 3);
    for (p, (diff, lo, hi, padj)) in pairs.iter().zip(want) {
        assert!(close(-p.diff, diff, 1e-4), "{p:?}");
        assert!(close(-p.ci_high, lo, 1e-4), "{p:?}");
        assert!(close(-p.ci_low, hi, 1e-4), "{p:?}");
        assert!((p.p_adjusted - padj).abs() < 1e-5, "{p:?} vs {padj}");
    }
}

const GRID3: &str = r#"(name: "g3", defaults: (seed: 1, seeds: 3, validation: Test),
    grid: (arch: ["512-128", "512-256-128"], placement: [Every, First, Last]))"#;
const Y3: [f64; 18] = [
    0.100, 0.104, 0.097, 0.108, 0.113, 0.105, 0.101, 0.107, 0.099, 0.112, 0.118, 0.109, 0.115,
    0.121, 0.110, 0.113, 0.116, 0.108,
];

/// (term, df, SS, F, p) rows and B's (placement's) LS-means (mean, se, ci) and Tukey pairs
/// (diff, ci, p) against tests/reference/stats_24.py.
fn check_model(
    r: &mnist_lab::runs::RunRecord,
    anova: &[(&str, usize, f64, f64, f64)],
    residual_df: usize,
    lsmeans: &[(f64, f64, f64, f64)],
    tukey: &[(f64, f64, f64, f64)],
) {
    // statsmodels' OLS: the pooled residual, not the strata.
    let a = model::anova_pooled(r, Metric::TestLoss).unwrap();
    assert!(a.blocked);
    assert_eq!(a.residual_df, residual_df);
    assert_eq!(a.rows.len(), anova.len(), "{a:?}");
    for (row, (term, df, ss, f, p)) in a.rows.iter().zip(anova) {
        assert_eq!(row.term, *term);
        assert_eq!(row.df, *df, "{term}");
        assert!(close(row.ss, *ss, 2e-4), "{term}: {} vs {ss}", row.ss);
        assert!(close(row.f, *f, 2e-3), "{term}: {} vs {f}", row.f);
        assert!(close(row.p, *p, 5e-3), "{term}: {} vs {p}", row.p);
    }
    let layout = Layout::new(r);
    let fit = model::Fitted::new(r, &layout, Metric::TestLoss)
        .unwrap()
        .pooled();
    let mean = model::analysed_mean(r, &layout, Metric::TestLoss);
    let ls = fit.ls_means(Factor::Placement, mean).unwrap();
    for (l, (m, se, lo, hi)) in ls.iter().zip(lsmeans) {
        assert!(close(l.mean, *m, 1e-5), "{l:?} vs {m}");
        assert!(close(l.se, *se, 1e-3), "{l:?} vs {se}");
        assert!(close(l.ci_low, *lo, 1e-5), "{l:?}");
        assert!(close(l.ci_high, *hi, 1e-5), "{l:?}");
    }
    let pairs = fit.tukey(Factor::Placement).unwrap();
    for (p, (d, lo, hi, padj)) in pairs.iter().zip(tukey) {
        assert!(close(p.diff, *d, 1e-3), "{p:?} vs {d}");
        assert!(close(p.ci_low, *lo, 1e-3), "{p:?}");
        assert!(close(p.ci_high, *hi, 1e-3), "{p:?}");
        assert!(
            (p.p_adjusted - padj).abs() < 1e-5 + 1e-3 * padj,
            "{p:?} vs {padj}"
        );
    }
}

#[test]
fn seed_blocked_anova_least_squares_means_and_tukey_match_statsmodels() {
    let r = record_with(GRID3, &Y3);
    check_model(
        &r,
        &[
            (
                "seed (block)",
                2,
                0.00021900000000000006,
                131.4000000000006,
                6.618783416223453e-08,
            ),
            (
                "depth",
                1,
                0.0004302222222222164,
                516.266666666662,
                6.145234652026168e-10,
            ),
            (
                "BN+Dropout",
                2,
                0.00010133333333333199,
                60.79999999999946,
                2.5334979289776713e-06,
            ),
            (
                "depth × BN+Dropout",
                2,
                2.711111111111125e-05,
                16.266666666666822,
                0.0007183777979996829,
            ),
        ],
        10,
        &[
            (
                0.10666666666666665,
                0.00037267799624996417,
                0.10583628834394171,
                0.10749704498939158,
            ),
            (
                0.11199999999999999,
                0.0003726779962499649,
                0.11116962167727505,
                0.11283037832272493,
            ),
            (
                0.10733333333333336,
                0.00037267799624996357,
                0.10650295501060843,
                0.1081637116560583,
            ),
        ],
        &[
            (
                -0.005333333333333341,
                -0.006778122724436697,
                -0.003888543942229985,
                3.881306932074224e-06,
            ),
            (
                -0.0006666666666667316,
                -0.0021114560577700802,
                0.000778122724436617,
                0.44491368201327575,
            ),
            (
                0.004666666666666609,
                0.003221877275563256,
                0.006111456057769962,
                1.2995881681798771e-05,
            ),
        ],
    );
}

/// One unit of a balanced grid failed: the design is no longer balanced, the type II ANOVA
/// still runs (one residual df fewer), and the failed unit is named, not dropped silently.
#[test]
fn a_failed_unit_in_a_balanced_grid_gets_a_type_ii_anova_and_is_named() {
    let mut r = record_with(GRID3, &Y3);
    let v = r
        .units
        .iter_mut()
        .find(|v| v.spec.variant_name() == "512-256-128 · First" && v.spec.seed == 2)
        .unwrap();
    v.status = mnist_lab::runs::UnitStatus::Failed;
    v.history.clear();
    v.failure = Some(mnist_lab::runs::record::Failure {
        kind: mnist_lab::spec::FailKind::Diverged,
        epoch: Some(3),
        message: "loss became NaN".into(),
    });
    let d = stats::design(&r);
    assert!(!d.balanced);
    assert_eq!(d.failed.len(), 1);
    assert!(
        d.sentence()
            .contains("512-256-128 · First · s2 (diverged at epoch 3)"),
        "{}",
        d.sentence()
    );
    let vs = stats::per_variant(&r);
    let first = vs.iter().find(|v| v.name == "512-256-128 · First").unwrap();
    assert_eq!((first.loss.n, first.units, first.failed.len()), (2, 3, 1));
    let md = mnist_lab::export::summary_md(&r);
    assert!(md.contains("2/3 (1 failed)"), "{md}");
    check_model(
        &r,
        &[
            (
                "seed (block)",
                2,
                0.00017328333333333296,
                132.5396600566571,
                2.1069201911643112e-07,
            ),
            (
                "depth",
                1,
                0.00040241061253560553,
                615.5856395728819,
                1.3467374692435123e-09,
            ),
            (
                "BN+Dropout",
                2,
                9.041335978835933e-05,
                69.15469445568571,
                3.443930406616449e-06,
            ),
            (
                "depth × BN+Dropout",
                2,
                2.933425925925933e-05,
                22.436968838526997,
                0.0003183369526265672,
            ),
        ],
        9,
        &[
            (
                0.10666666666666663,
                0.00033007668394473174,
                0.10591998133180838,
                0.10741335200152488,
            ),
            (
                0.11164999999999994,
                0.0003763453234319987,
                0.11079864773091264,
                0.11250135226908725,
            ),
            (
                0.10733333333333328,
                0.00033007668394473164,
                0.10658664799847503,
                0.10808001866819153,
            ),
        ],
        &[
            (
                -0.004983333333333319,
                -0.006380972467825599,
                -0.0035856941988410386,
                9.935880899258898e-06,
            ),
            (
                -0.0006666666666666503,
                -0.0019699718797655287,
                0.0006366385464322279,
                0.3678503405041098,
            ),
            (
                0.004316666666666668,
                0.002919027532174389,
                0.005714305801158948,
                3.222887974430044e-05,
            ),
        ],
    );
}

// Every varying field is a factor (issue "Conclusions that survive a referee", 2 and 3).

#[test]
fn an_epochs_by_placement_grid_has_two_factors() {
    let text = r#"(name: "e", defaults: (arch: "128-64", seed: 1, seeds: 2, validation: Test),
        grid: (epochs: [1, 3], placement: [Every, Last]))"#;
    let y = [0.30, 0.31, 0.29, 0.30, 0.10, 0.11, 0.12, 0.10];
    let r = record_with(text, &y);
    let d = stats::design(&r);
    assert_eq!(d.factors, vec![Factor::Placement, Factor::Epochs], "{d:?}");
    assert!(d.balanced && d.blocked, "{d:?}");
    assert_eq!(d.replicates, 2);
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(
        a.rows.iter().any(|row| row.term == "epochs" && row.df == 1),
        "{a:?}"
    );
    // Pairs that differ in epochs and placement together are not one-factor comparisons.
    let cs = stats::one_factor_comparisons(
        &Layout::new(&r),
        &stats::per_variant(&r),
        Metric::TestLoss,
        stats::Adjustment::Holm,
    );
    assert_eq!(cs.len(), 4, "{cs:?}");
}

#[test]
fn a_schedule_only_preset_has_one_factor() {
    let text = r#"(name: "s", defaults: (arch: "128-64", seeds: 2, epochs: 10, validation: Test),
        variants: [(name: "constant"), (name: "step", schedule: Step(every: 2, gamma: 0.5)),
                   (name: "cosine", schedule: Cosine(min_lr: 0.00001)),
                   (name: "plateau", schedule: ReduceOnPlateau(patience: 2, factor: 0.5))])"#;
    let r = record_with(text, &[0.20, 0.21, 0.19, 0.2, 0.22, 0.23, 0.18, 0.2]);
    let layout = Layout::new(&r);
    assert_eq!(layout.factors, vec![Factor::Schedule]);
    assert_eq!(
        layout.levels[0],
        vec![
            "constant",
            "step ×0.5/2",
            "cosine → 0.00001",
            "plateau ×0.5/2"
        ]
    );
    let d = stats::design(&r);
    assert!(
        d.sentence().starts_with("1 factor (schedule)"),
        "{}",
        d.sentence()
    );
}

#[test]
fn dropout_under_placement_none_is_an_alias_never_compared() {
    let text = r#"(name: "a", defaults: (arch: "128-64", seed: 1, seeds: 2, validation: Test),
        grid: (placement: [Every, None], dropout: [0.2, 0.5]))"#;
    // None · 0.2 and None · 0.5 train identical networks: identical numbers.
    let r = record_with(text, &[0.20, 0.22, 0.25, 0.26, 0.30, 0.33, 0.30, 0.33]);
    let layout = Layout::new(&r);
    let vs = stats::per_variant(&r);
    let none_05 = vs.iter().find(|v| v.name == "None · 0.5").unwrap();
    assert_eq!(none_05.alias_of.as_deref(), Some("None · 0.2"));
    let d = stats::design(&r);
    assert_eq!(d.units, 6, "the copy's units are counted once: {d:?}");
    assert!(
        d.sentence()
            .contains("dropout has no effect under BN+Dropout None"),
        "{}",
        d.sentence()
    );
    let cs = stats::one_factor_comparisons(&layout, &vs, Metric::TestLoss, stats::Adjustment::Holm);
    assert!(
        cs.iter()
            .all(|c| &*c.a != "None · 0.5" && &*c.b != "None · 0.5"),
        "an alias is never compared: {cs:?}"
    );
    // Every · 0.5 vs None is a placement comparison (None at any rate).
    assert!(
        cs.iter().any(|c| &*c.a == "Every · 0.5"
            && &*c.b == "None · 0.2"
            && c.factor == Some(Factor::Placement)
            && &*c.level_b == "None"),
        "{cs:?}"
    );
    let b = stats::best_set(&vs, Metric::TestLoss).unwrap();
    assert!(b.rivals.iter().all(|r| r.name != "None · 0.5"), "{b:?}");
    // The pairs view's list from the alias: its own networks' variant is not a rival.
    let alias = vs.iter().position(|v| v.name == "None · 0.5").unwrap();
    let list = stats::against_every_other(
        &vs,
        alias,
        Metric::TestLoss,
        stats::Adjustment::Holm,
        mnist_lab::spec::DecisionTest::T,
    );
    assert_eq!(list.len(), 2, "Every · 0.2 and Every · 0.5 only: {list:?}");
    assert!(list
        .iter()
        .all(|(j, _)| vs[*j].group() == vs[*j].name && vs[*j].name != "None · 0.2"));
    // The model has the missing cell None × 0.5, yet dropout's least-squares means exist:
    // under None the rate's cell is None's own.
    let effects = model::main_effects(&r, Metric::TestLoss);
    let (_, dropout) = effects.iter().find(|(f, _)| *f == Factor::Dropout).unwrap();
    assert!(dropout.iter().all(|l| l.mean.is_finite()), "{dropout:?}");
}

#[test]
fn intervals_stay_within_the_metric_bounds_and_one_seed_has_none() {
    let e = stats::estimate_within(&[0.999, 0.2], Metric::TestAcc.bounds());
    assert!(e.ci_low >= 0.0 && e.ci_high <= 1.0, "{e:?}");
    let unbounded = stats::estimate(&[0.999, 0.2]);
    assert!(
        unbounded.ci_high > 1.0 && unbounded.ci_low < 0.0,
        "the case is a real one"
    );
    let l = stats::estimate_within(&[0.01, 0.3], Metric::TestLoss.bounds());
    assert_eq!(l.ci_low, 0.0);
    // n = 1: a mean, no sd, no interval, and nothing to test.
    let r = record_with(
        r#"(name: "t", defaults: (arch: "128-64", seeds: 1, validation: Test),
            variants: [(name: "a"), (name: "b", placement: None)])"#,
        &[0.2, 0.3],
    );
    let vs = stats::per_variant(&r);
    assert!(vs[0].loss.sd.is_nan() && vs[0].loss.ci_low.is_nan());
    assert_eq!(
        mnist_lab::report::estimate_text(&vs[0].loss, 4),
        "0.2000 (n = 1)"
    );
    let b = stats::best_set(&vs, Metric::TestLoss).unwrap();
    assert!(b.sentence().contains("too few seeds"), "{}", b.sentence());
}

#[test]
fn the_planner_says_what_a_run_could_see_and_what_a_difference_needs() {
    let r = record_with(GRID3, &Y3);
    let layout = Layout::new(&r);
    let cs = stats::one_factor_comparisons(
        &layout,
        &stats::per_variant(&r),
        Metric::TestLoss,
        stats::Adjustment::Holm,
    );
    let p = mnist_lab::insight::plan::plan(&r, Metric::TestLoss, Some(0.001), &cs).unwrap();
    // Every seed trained every cell: each effect has its own error, and the plan pools the
    // comparisons' own per-seed sds (root mean square), not the model's one residual.
    let fit = model::Fitted::new(&r, &layout, Metric::TestLoss).unwrap();
    assert!(fit.has_strata());
    let rms = (cs.iter().map(|c| c.test.sd_diff.powi(2)).sum::<f64>() / cs.len() as f64).sqrt();
    assert!(close(p.sd_diff, rms, 1e-12), "{} vs {rms}", p.sd_diff);
    assert_eq!(p.seeds, 3);
    assert!(close(
        p.detectable_one,
        mnist_lab::insight::dist::detectable_effect(3.0, 0.05, 0.8) * p.sd_diff,
        1e-9
    ));
    assert!(p.detectable_family > p.detectable_one);
    let (_, one, family) = p.delta.unwrap();
    assert_eq!(one, stats::seeds_needed(0.001, p.sd_diff, 0.05));
    assert!(family >= one);
    let text = p.text();
    assert!(
        text.contains("with 3 seeds a paired test sees differences of"),
        "{text}"
    );
    assert!(text.contains("to see a difference of 0.001"), "{text}");
}

/// Every verdict names the test it rests on; where the exact sign-flip test cannot reach the
/// level at that many seeds (its smallest two-sided p is 2/2ⁿ), it says the verdict is the
/// t-test's alone (issue "Conclusions that survive a referee, round two", 2).
#[test]
fn a_verdict_names_its_test_and_the_exact_tests_limit() {
    assert_eq!(stats::exact_floor(2), 0.5);
    assert_eq!(stats::exact_floor(5), 0.0625);
    // 5 seeds, one clear difference: the t-test's p is tiny, the exact test's cannot be.
    let a = [0.10, 0.11, 0.12, 0.13, 0.14];
    let b = [0.20, 0.2105, 0.2198, 0.2302, 0.2401];
    let pa: Vec<(u64, f64)> = a.iter().enumerate().map(|(i, &x)| (i as u64, x)).collect();
    let pb: Vec<(u64, f64)> = b.iter().enumerate().map(|(i, &x)| (i as u64, x)).collect();
    let t = stats::compare(&pa, &pb).expect("testable");
    assert!(t.p < 0.001, "{}", t.p);
    assert_eq!(
        t.basis(0.05),
        "t-test only (with 5 seeds the exact test cannot go below 0.0625)"
    );
    // With 8 seeds the exact test can go to 2/256: its p is said beside the t-test's.
    let a8: Vec<(u64, f64)> = (0..8).map(|i| (i, 0.1 + 0.01 * i as f64)).collect();
    let b8: Vec<(u64, f64)> = (0..8)
        .map(|i| (i, 0.2 + 0.01 * i as f64 + 0.001 * (i % 3) as f64))
        .collect();
    let t8 = stats::compare(&a8, &b8).unwrap();
    assert!(
        t8.basis(0.05).starts_with("t-test; exact sign-flip p"),
        "{}",
        t8.basis(0.05)
    );
    // 8 seeds in a family of 40 (Holm's first level 0.00125 < 2/256): the limit again.
    assert!(t8
        .basis(0.05 / 40.0)
        .starts_with("t-test only (with 8 seeds"));
}

/// "Not distinguishable" says how large the difference could be (its 95% CI), not how many
/// seeds "would see the observed difference" (observed power: Hoenig & Heisey 2001), and
/// never that smaller differences "cannot be seen" (issue "Conclusions that survive a
/// referee, round two", 8).
#[test]
fn not_distinguishable_gives_the_ci_not_observed_power() {
    let a: Vec<(u64, f64)> = (0..4).map(|i| (i, 0.10 + 0.01 * i as f64)).collect();
    let b: Vec<(u64, f64)> = [0.105, 0.108, 0.127, 0.126]
        .iter()
        .enumerate()
        .map(|(i, &x)| (i as u64, x))
        .collect();
    let t = stats::compare(&a, &b).unwrap();
    assert!(t.p > 0.05, "{}", t.p);
    let d = stats::detectable_difference(t.sd_diff, t.pairs, stats::ALPHA);
    let text = stats::not_distinguishable(&t, d);
    let reach = t.ci_low.abs().max(t.ci_high.abs());
    assert!(
        text.contains(&format!("could be as large as {reach:.4} (95% CI)")),
        "{text}"
    );
    assert!(
        !text.contains("would see") && !text.contains("cannot be seen"),
        "{text}"
    );
}

/// Partly shared seeds: A (seeds 1–4) against D (3, 4, 11, 12) is paired on the 2 seeds they
/// share, and the sentence says so, with the pairs the missing seeds would add (issue 41, 5).
#[test]
fn partly_shared_seeds_say_how_many_pairs_the_test_stands_on() {
    let a: Vec<(u64, f64)> = [(1, 0.10), (2, 0.12), (3, 0.11), (4, 0.13)].to_vec();
    let d: Vec<(u64, f64)> = [(3, 0.115), (4, 0.14), (11, 0.12), (12, 0.16)].to_vec();
    let t = stats::compare(&a, &d).unwrap();
    assert_eq!(t.pairs, 2);
    assert_eq!(t.sample_text(), "paired on 2 shared seeds of 4 and 4");
    let text = stats::not_distinguishable(&t, 0.05);
    assert!(text.contains("would add 2 pairs"), "{text}");
    // Fully shared: the short form.
    let full = stats::compare(
        &a,
        &a.iter()
            .map(|(s, y)| (*s, y + 0.001 * *s as f64))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(full.sample_text(), "4 seeds, paired");
}

/// A record of an arch × dropout grid over `seeds` seeds where unit (arch a, dropout b, seed
/// s, each counted from 0 in the grid's order) has test loss `y[(a * rates + b) * seeds + s]`:
/// the order tests/reference/strata.py prints.
fn cells_record(archs: &[&str], rates: &[f32], seeds: usize, y: &[f64]) -> RunRecord {
    let text = format!(
        "(name: \"rm\", defaults: (seeds: {seeds}, validation: Test), grid: (arch: [{}], \
         dropout: [{}]))",
        archs
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", "),
        rates
            .iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let p = preset::parse("<test>", &text).unwrap();
    let mut r = RunRecord::new(&p, Environment::detect("t"));
    let mut all_seeds: Vec<u64> = r.units.iter().map(|v| v.spec.seed).collect();
    all_seeds.sort_unstable();
    all_seeds.dedup();
    assert_eq!(all_seeds.len(), seeds);
    for v in &mut r.units {
        let a = archs.iter().position(|x| v.spec.arch.name() == *x).unwrap();
        let b = rates.iter().position(|x| v.spec.dropout == *x).unwrap();
        let s = all_seeds.iter().position(|x| *x == v.spec.seed).unwrap();
        let loss = y[(a * rates.len() + b) * seeds + s];
        v.status = UnitStatus::Finished;
        v.history.push(EpochMetrics {
            epoch: 1,
            test_loss: loss as f32,
            test_acc: 1.0 - loss as f32,
            ..Default::default()
        });
    }
    r
}

/// Each (term's factors, F, Greenhouse–Geisser ε, p) against the table's row of that term;
/// `more` checks anything else of the row.
fn check_strata(
    a: &model::Anova,
    want: &[(Vec<Factor>, f64, f64, f64)],
    more: impl Fn(&model::AnovaRow),
) {
    for (f, fv, eps, p) in want {
        let x = a.rows.iter().find(|x| &x.factors == f).unwrap();
        more(x);
        assert!(
            near(x.f, *fv) && near(x.epsilon, *eps) && near(x.p, *p),
            "{x:?} vs F {fv} ε {eps} p {p}"
        );
    }
}

/// tests/reference/strata.py's 2×2 grid over 8 seeds (arch, dropout, seed order): the
/// dropout difference under one arch varies 3× more from seed to seed than under the other.
const Y22: [f64; 32] = [
    0.099, 0.1062, 0.0918, 0.0785, 0.0912, 0.0801, 0.0992, 0.1267, 0.1055, 0.1103, 0.1007, 0.0892,
    0.0982, 0.0886, 0.106, 0.1383, 0.107, 0.1119, 0.0967, 0.0857, 0.0919, 0.0831, 0.1093, 0.1316,
    0.1183, 0.1283, 0.093, 0.0994, 0.0984, 0.0884, 0.1055, 0.1395,
];

/// tests/reference/strata.py's 2×3 grid over 6 seeds.
const Y23: [f64; 36] = [
    0.1023, 0.1011, 0.0976, 0.091, 0.0719, 0.1131, 0.1028, 0.1094, 0.0991, 0.0914, 0.0778, 0.1161,
    0.1087, 0.113, 0.1062, 0.0933, 0.0676, 0.1183, 0.1089, 0.104, 0.1031, 0.0943, 0.0766, 0.1208,
    0.1061, 0.1095, 0.1019, 0.0995, 0.0803, 0.1199, 0.1174, 0.1158, 0.1074, 0.1076, 0.0911, 0.122,
];

/// Tolerance for values that went through the unit file's f32.
fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 2e-4 * b.abs().max(1e-9)
}

/// 2×2 over 8 shared seeds, where the dropout difference under one arch varies 3× more from
/// seed to seed than under the other: each effect is tested against its own seed × effect
/// error, as statsmodels' `AnovaRM` (tests/reference/strata.py); the pooled residual would
/// judge every effect by one spread.
#[test]
fn each_effect_is_tested_against_its_own_seed_stratum_as_anovarm() {
    let r = cells_record(&["128", "256"], &[0.2, 0.5], 8, &Y22);
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.strata, "{a:?}");
    let row = |f: &[Factor]| a.rows.iter().find(|x| x.factors == f).unwrap().clone();
    for (f, fv, p) in [
        (vec![Factor::Widths], 8.015786001653836, 0.02536191856894235),
        (
            vec![Factor::Dropout],
            31.099539791222416,
            0.0008361212344788724,
        ),
        (
            vec![Factor::Widths, Factor::Dropout],
            0.20752717953957842,
            0.6625070860907523,
        ),
    ] {
        let x = row(&f);
        assert_eq!((x.df, x.error_df), (1, 7), "{x:?}");
        assert!(near(x.f, fv) && near(x.p, p), "{x:?} vs F {fv} p {p}");
    }
    // The pooled table (one residual for all) gives other numbers: the strata matter here.
    let pooled = model::anova_pooled(&r, Metric::TestLoss).unwrap();
    assert!(!pooled.strata);
    let dp = pooled
        .rows
        .iter()
        .find(|x| x.factors == [Factor::Dropout])
        .unwrap();
    assert!((dp.f - 31.0995).abs() > 1.0, "{dp:?}");
    // LS-means: each level's per-seed means, with a t-interval over the seeds.
    let layout = Layout::new(&r);
    let fit = model::Fitted::new(&r, &layout, Metric::TestLoss).unwrap();
    let ls = fit.ls_means(Factor::Widths, 0.0).unwrap();
    for (m, (mean, lo, hi)) in ls.iter().zip([
        (
            0.10059375000000001,
            0.08763749787351477,
            0.11355000212648525,
        ),
        (
            0.10550000000000001,
            0.09154927158274094,
            0.11945072841725908,
        ),
    ]) {
        assert!(
            near(m.mean, mean) && near(m.ci_low, lo) && near(m.ci_high, hi),
            "{m:?}"
        );
    }
}

/// 2×3 over 6 seeds: the 2-df terms get the Greenhouse–Geisser ε (pingouin's `rm_anova`,
/// correction=True), and Tukey's HSD uses the seed × factor error (tests/reference/strata.py).
#[test]
fn terms_of_more_df_get_the_greenhouse_geisser_correction_and_tukey_its_stratum() {
    let r = cells_record(&["128", "256"], &[0.1, 0.2, 0.3], 6, &Y23);
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.strata);
    check_strata(
        &a,
        &[
            (
                vec![Factor::Widths],
                20.66538060208631,
                1.0,
                0.006135364714325932,
            ),
            (
                vec![Factor::Dropout],
                17.096312988809235,
                0.9984491959227851,
                0.0005982167322658746,
            ),
            (
                vec![Factor::Widths, Factor::Dropout],
                1.848931008025283,
                0.5926656170049655,
                0.2282653651585694,
            ),
        ],
        |_| {},
    );
    let layout = Layout::new(&r);
    let fit = model::Fitted::new(&r, &layout, Metric::TestLoss).unwrap();
    let pairs = fit.tukey(Factor::Dropout).unwrap();
    for (t, (diff, lo, hi, p)) in pairs.iter().zip([
        (
            -0.0024249999999999966,
            -0.005745093327362012,
            0.0008950933273620195,
            0.16202104214390423,
        ),
        (
            -0.006974999999999995,
            -0.01029509332736201,
            -0.003654906672637979,
            0.0004862823490831003,
        ),
        (
            -0.0045499999999999985,
            -0.007870093327362014,
            -0.0012299066726379824,
            0.009526111422226258,
        ),
    ]) {
        assert!(
            near(t.diff, diff) && near(t.ci_low, lo) && near(t.ci_high, hi),
            "{t:?}"
        );
        assert!((t.p_adjusted - p).abs() < 1e-4 + 1e-3 * p, "{t:?} vs {p}");
    }
}

/// A missing cell: the 0-df interaction is left out and said, LS-means and Tukey come from
/// the additive model (finite, never "not estimable"), the factors are not called
/// confounded, and the seed block stays (issue 41, 6).
#[test]
fn a_missing_cell_gives_finite_ls_means_and_is_not_called_confounded() {
    const Y: [f64; 12] = [
        0.10, 0.11, 0.125, 0.13, 0.145, 0.15, 0.14, 0.152, 0.16, 0.30, 0.30, 0.30,
    ];
    let mut r = cells_record(&["128", "256"], &[0.2, 0.5], 3, &Y);
    for v in &mut r.units {
        if v.spec.arch.name() == "256" && v.spec.dropout == 0.5 {
            v.status = UnitStatus::Failed;
            v.history.clear();
        }
    }
    let d = stats::design(&r);
    assert!(d.confounded.is_empty(), "{d:?}");
    assert!(!d.sentence().contains("confounded"), "{}", d.sentence());
    assert!(d.blocked, "{d:?}");
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(!a.strata, "a cell is missing: no strata");
    assert_eq!(a.dropped, vec!["widths × dropout".to_string()], "{a:?}");
    for (_, levels) in model::main_effects(&r, Metric::TestLoss) {
        for l in levels {
            assert!(l.mean.is_finite() && l.ci_low.is_finite(), "{l:?}");
        }
    }
    let layout = Layout::new(&r);
    let fit = model::Fitted::new(&r, &layout, Metric::TestLoss).unwrap();
    for t in fit.tukey(Factor::Dropout).unwrap() {
        assert!(
            t.diff.is_finite() && t.ci_low.is_finite() && t.p_adjusted.is_finite(),
            "{t:?}"
        );
    }
    // 256 is about 0.03 above 128 at 0.2, the only rate both have.
    let w = fit.tukey(Factor::Widths).unwrap();
    assert!(w[0].diff < -0.02 && w[0].diff > -0.04, "{w:?}");
}

/// One failed unit in a two-variant run: its seed now appears in one variant only, and the
/// seed block stays (that seed costs one degree of freedom) (issue 41, 6).
#[test]
fn a_failed_unit_in_a_two_variant_run_keeps_the_seed_block() {
    let mut r = cells_record(
        &["128"],
        &[0.2, 0.5],
        4,
        &[0.10, 0.12, 0.11, 0.13, 0.12, 0.13, 0.12, 0.16],
    );
    let last = r.units.iter().map(|v| v.spec.seed).max().unwrap();
    let v = r
        .units
        .iter_mut()
        .find(|v| v.spec.dropout == 0.5 && v.spec.seed == last)
        .unwrap();
    v.status = UnitStatus::Failed;
    v.history.clear();
    let d = stats::design(&r);
    assert!(d.blocked, "{d:?}");
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.blocked);
    // 7 values: intercept, 3 seed blocks, 1 dropout → 2 residual df.
    assert_eq!(a.residual_df, 2, "{a:?}");
}

/// The acceptance grid (2×2 over 8 shared seeds, one pair's differences 3× more variable):
/// summary.md never calls an effect "real" in one place and "not distinguishable" in another.
/// The one-factor comparisons are simple effects (one level of the other factor); the ANOVA's
/// main effects average over it; both are tested against their own per-seed spread, so a
/// verdict in words and the table agree where they test the same contrast.
#[test]
fn the_summary_of_the_acceptance_grid_never_contradicts_itself() {
    let r = cells_record(&["128", "256"], &[0.2, 0.5], 8, &Y22);
    let md = mnist_lab::export::summary_md(&r);
    assert!(md.contains("own seed × term error"), "{md}");
    assert!(md.contains("| error df |"), "{md}");
    assert!(!md.contains("pooled residual"), "{md}");
    // A pair's words are about a simple effect, and the summary says so beside the main
    // effects of the ANOVA.
    assert!(md.contains("Each pair is a simple effect"), "{md}");
    assert!(md.contains("t-interval over its per-seed means"), "{md}");
}

/// `test: Exact` decides by the exact sign-flip p: with 5 seeds it cannot go below 0.0625, so
/// a difference the t-test calls real is not called real, and the sentence names the test;
/// the planner gives the seeds the exact test needs (issue 41, 2).
#[test]
fn a_preset_can_rest_its_verdicts_on_the_exact_test() {
    let text = |test: &str| {
        format!(
            "(name: \"x\", defaults: (arch: \"128\", seeds: 5, validation: Test{test}), variants: [(name: \
             \"a\", dropout: 0.2), (name: \"b\", dropout: 0.5)])"
        )
    };
    let y = [
        0.100, 0.102, 0.101, 0.103, 0.100, 0.110, 0.113, 0.111, 0.112, 0.111,
    ];
    let t = record_with(&text(""), &y);
    let exact = record_with(&text(", test: Exact"), &y);
    assert_eq!(exact.test, mnist_lab::spec::DecisionTest::Exact);
    let ct = mnist_lab::export::analysis::comparisons(&t);
    let ce = mnist_lab::export::analysis::comparisons(&exact);
    assert!(ct[0].real(), "{}", ct[0].sentence(Metric::TestLoss));
    assert!(!ce[0].real(), "{}", ce[0].sentence(Metric::TestLoss));
    let s = ce[0].sentence(Metric::TestLoss);
    assert!(s.contains("exact sign-flip test (t-test p"), "{s}");
    assert!(
        s.contains("cannot go below 0.0625 (it needs 6 seeds"),
        "{s}"
    );
    // The best set's one-sided exact test reaches 1/2⁵ = 0.03125: every flip but the
    // observed one gives a smaller mean difference.
    let vs = stats::per_variant(&exact);
    let b = mnist_lab::insight::sequential::best_set(&exact, &vs, Metric::TestLoss).unwrap();
    assert!((b.rivals[0].p - 0.03125).abs() < 1e-12, "{b:?}");
    assert!(
        b.sentence().contains("one-sided exact sign-flip test"),
        "{}",
        b.sentence()
    );
    let p = mnist_lab::insight::plan::plan(&exact, Metric::TestLoss, Some(0.001), &ce).unwrap();
    let text = p.text();
    assert!(
        text.contains("at least 6 seeds to reach 0.05 as one test"),
        "{text}"
    );
    // A variant cannot choose its own test.
    let bad = preset::parse(
        "<t>",
        "(name: \"x\", variants: [(name: \"a\", arch: \"128\", test: Exact)])",
    );
    assert!(
        format!("{:?}", bad.unwrap_err()).contains("test is a choice for the whole run"),
        "a variant's own test is refused"
    );
}

/// With a `margin`, a pair not told apart gets an equivalence test (TOST): its p matches
/// statsmodels' `ttost_paired` (tests/reference/tost.py), and the words say whether the
/// difference was shown to lie within ±margin (issue 41, 7).
#[test]
fn an_equivalence_margin_adds_tost_matching_statsmodels() {
    let a = [0.1000, 0.1020, 0.1010, 0.1030, 0.1000, 0.1015];
    let b = [0.1005, 0.1018, 0.1022, 0.1027, 0.1011, 0.1013];
    let pair = |x: &[f64]| {
        x.iter()
            .enumerate()
            .map(|(i, v)| (i as u64, *v))
            .collect::<Vec<_>>()
    };
    let t = stats::compare(&pair(&a), &pair(&b)).unwrap();
    assert!(
        close(t.tost_p(0.002), 0.0009843796602148648, 1e-6),
        "{}",
        t.tost_p(0.002)
    );
    assert!(
        close(t.tost_p(0.0005), 0.3069346239426244, 1e-6),
        "{}",
        t.tost_p(0.0005)
    );
    // Through a preset: `margin` in defaults reaches the run and the sentence.
    let text = "(name: \"x\", defaults: (arch: \"128\", seeds: 6, validation: Test, margin: \
                0.002), variants: [(name: \"a\", dropout: 0.2), (name: \"b\", dropout: 0.5)])";
    let mut y = a.to_vec();
    y.extend(b);
    let r = record_with(text, &y);
    assert_eq!(r.margin, Some(0.002));
    let cs = mnist_lab::export::analysis::comparisons(&r);
    let s = cs[0].sentence(Metric::TestLoss);
    assert!(
        s.contains("equivalent within ±0.002 (TOST p < 0.001"),
        "{s}"
    );
    // A margin that is not a positive number is refused where the preset is read.
    for bad in ["0.0", "-0.01"] {
        let e = preset::parse("<t>", &text.replace("0.002", bad)).unwrap_err();
        assert!(format!("{e:?}").contains("margin"), "{e:?}");
    }
}

/// paper-2019's shape (confounded fields, missing cells): summary.md never prints a NaN
/// where a difference has no estimate (issue 41, 6).
#[test]
fn a_design_with_confounded_fields_prints_no_nan() {
    let p = preset::parse(
        "<t>",
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/paper-2019.ron"),
        )
        .unwrap()
        .replace("(name: \"paper-2019\"", "(name: \"p\"")
        .replace("seed: 2019,", "seed: 2019, seeds: 3,"),
    )
    .unwrap();
    let mut r = RunRecord::new(&p, Environment::detect("t"));
    for (i, v) in r.units.iter_mut().enumerate() {
        v.status = UnitStatus::Finished;
        let loss = 0.05 + 0.001 * (i % 7) as f32 + 0.0003 * (i % 3) as f32;
        v.history.push(EpochMetrics {
            epoch: 1,
            test_loss: loss,
            test_acc: 1.0 - loss,
            ..Default::default()
        });
    }
    let md = mnist_lab::export::summary_md(&r);
    assert!(!md.contains("NaN"), "{md}");
    assert!(
        md.contains("| not estimable (cells missing) | | |"),
        "the case is reached: {md}"
    );
}

/// A failed unit in a complete grid: the seed that missed a cell is left out of the strata
/// (complete cases) and the rest are tested against their own errors, as `AnovaRM` and
/// pingouin on the complete seeds (tests/reference/strata.py, "complete seeds"); summary.md
/// names the seed left out.
#[test]
fn a_failed_unit_leaves_its_seed_out_of_the_strata_not_the_strata_out() {
    let mut r = cells_record(&["128", "256"], &[0.1, 0.2, 0.3], 6, &Y23);
    let last = r.units.iter().map(|v| v.spec.seed).max().unwrap();
    let v = r
        .units
        .iter_mut()
        .find(|v| v.spec.arch.name() == "256" && v.spec.dropout == 0.3 && v.spec.seed == last)
        .unwrap();
    v.status = UnitStatus::Failed;
    v.history.clear();
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.strata, "{a:?}");
    assert_eq!(a.incomplete_seeds, vec![last]);
    check_strata(
        &a,
        &[
            (
                vec![Factor::Widths],
                14.75813326335036,
                1.0,
                0.01843382476420091,
            ),
            (
                vec![Factor::Dropout],
                17.4668608610123,
                0.9203482518822144,
                0.001768460851061415,
            ),
            (
                vec![Factor::Widths, Factor::Dropout],
                2.258996173335032,
                0.6043013049968494,
                0.19850082222757373,
            ),
        ],
        |x| {
            assert_eq!(x.error_df, 4 * x.df, "5 complete seeds: {x:?}");
        },
    );
    let md = mnist_lab::export::summary_md(&r);
    assert!(
        md.contains(&format!("Seed {last} did not finish every cell")),
        "{md}"
    );
}

/// tests/reference/mixed.py's YM: 2 archs × 3 rates × 6 seeds with seed, seed × arch and
/// seed × rate effects (order: arch, rate, seed).
const YM: [f64; 36] = [
    0.0852, 0.1004, 0.0966, 0.1053, 0.0842, 0.1167, 0.0898, 0.1014, 0.1021, 0.1236, 0.0904, 0.1282,
    0.0989, 0.1069, 0.1001, 0.1139, 0.088, 0.13, 0.086, 0.1035, 0.1112, 0.1088, 0.103, 0.1099,
    0.0906, 0.1058, 0.1193, 0.1213, 0.1109, 0.1272, 0.0995, 0.114, 0.1172, 0.1145, 0.1068, 0.1264,
];

/// A design that is no complete grid (cell 128 · 0.3 never trained, and seed 6's 256 · 0.5
/// failed): the effects are Wald F tests of the REML mixed model with seed, seed × arch and
/// seed × rate random effects, every unit used. Variance components from statsmodels'
/// `MixedLM` (REML); F, Satterthwaite df and LS-means from numpy on them
/// (tests/reference/mixed.py).
#[test]
fn a_design_without_a_complete_grid_gets_the_reml_mixed_model_as_mixedlm() {
    let mut r = cells_record(&["128", "256"], &[0.1, 0.3, 0.5], 6, &YM);
    let mut seeds: Vec<u64> = r.units.iter().map(|v| v.spec.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    for v in &mut r.units {
        let (a, b) = (v.spec.arch.name(), v.spec.dropout);
        if (a == "128" && b == 0.3) || (a == "256" && b == 0.5 && v.spec.seed == seeds[5]) {
            v.status = UnitStatus::Failed;
            v.history.clear();
        }
    }
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.mixed && !a.strata, "{a:?}");
    let rel = |x: f64, y: f64, tol: f64| (x - y).abs() <= tol * y.abs();
    // statsmodels' optimisers agree among themselves to about 1e-4 (see the script).
    let names: Vec<&str> = a.components.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        ["seed", "seed × widths", "seed × dropout", "residual"],
        "{a:?}"
    );
    for ((_, got), want) in a.components.iter().zip([
        0.00010105744011356158,
        4.4191785761913276e-05,
        1.3621558358944383e-05,
        1.8289370109312623e-06,
    ]) {
        assert!(rel(*got, want, 5e-4), "{got} vs {want}: {:?}", a.components);
    }
    for (f, fv, ddf, p) in [
        (
            vec![Factor::Widths],
            2.393286352205527,
            5.001297351228954,
            0.1825143756940649,
        ),
        (
            vec![Factor::Dropout],
            9.999388386388924,
            9.946076430909283,
            0.004164413323619944,
        ),
        (
            vec![Factor::Widths, Factor::Dropout],
            0.447010471787475,
            4.203037534254902,
            0.5386926077521141,
        ),
    ] {
        let x = a.rows.iter().find(|x| x.factors == f).unwrap();
        assert!(
            rel(x.f, fv, 5e-4) && rel(x.den_df, ddf, 5e-4) && rel(x.p, p, 1e-3),
            "{x:?} vs F {fv} df {ddf} p {p}"
        );
    }
    let rates = model::main_effects(&r, Metric::TestLoss)
        .into_iter()
        .find(|(f, _)| *f == Factor::Dropout)
        .unwrap()
        .1;
    // Rate 0.3 averages over the cell that never trained: not estimable.
    assert!(rates[1].mean.is_nan(), "{rates:?}");
    for (m, (mean, se, lo, hi)) in [&rates[0], &rates[2]].into_iter().zip([
        (
            0.10090000058213816,
            0.004790430736703601,
            0.0890556468077716,
            0.11274435435650472,
        ),
        (
            0.1095329949005273,
            0.004795908121045256,
            0.09768882505142774,
            0.12137716474963177,
        ),
    ]) {
        assert!(
            rel(m.mean, mean, 1e-6) && rel(m.se, se, 5e-4) && rel(m.ci_low, lo, 5e-4),
            "{m:?}"
        );
        assert!(rel(m.ci_high, hi, 5e-4), "{m:?}");
    }
}

/// On a complete grid the mixed model is the repeated-measures design: each effect's Wald F
/// is AnovaRM's F and Satterthwaite's df the stratum's ((seeds − 1) × term df) where no
/// variance component sits at zero (tests/reference/mixed.py, all 36 units of YM); its
/// components are MixedLM's.
#[test]
fn on_a_complete_grid_the_mixed_model_gives_the_strata_f_and_df() {
    let r = cells_record(&["128", "256"], &[0.1, 0.3, 0.5], 6, &YM);
    let layout = Layout::new(&r);
    let a = model::Fitted::new_mixed(&r, &layout, Metric::TestLoss)
        .unwrap()
        .anova()
        .unwrap();
    assert!(a.mixed, "{a:?}");
    for ((_, got), want) in a.components.iter().zip([
        0.0001030235575501024,
        4.309175638744209e-05,
        1.4347435826597984e-05,
        2.2051164922899148e-06,
    ]) {
        assert!((got - want).abs() < 5e-4 * want, "{got} vs {want}: {a:?}");
    }
    for (f, fv, den) in [
        (vec![Factor::Widths], 2.7552991865035104, 5.0),
        (vec![Factor::Dropout], 9.484251879581967, 10.0),
        (
            vec![Factor::Widths, Factor::Dropout],
            0.47818228833154475,
            10.0,
        ),
    ] {
        let x = a.rows.iter().find(|x| x.factors == f).unwrap();
        assert!(
            (x.f - fv).abs() < 1e-6 * fv && (x.den_df - den).abs() < 1e-6 * den,
            "{x:?} vs F {fv} on {den} df"
        );
    }
    // And a component at zero pools its stratum into the residual: Y22's seed × dropout
    // spread is below its seed × widths × dropout spread, so dropout's df become 7 + 7.
    let r = cells_record(&["128", "256"], &[0.2, 0.5], 8, &Y22);
    let a = model::Fitted::new_mixed(&r, &Layout::new(&r), Metric::TestLoss)
        .unwrap()
        .anova()
        .unwrap();
    assert_eq!(a.components[2].1, 0.0, "{a:?}");
    let x = a
        .rows
        .iter()
        .find(|x| x.factors == [Factor::Dropout])
        .unwrap();
    assert!((x.den_df - 14.0).abs() < 1e-6, "{x:?}");
    let x = a
        .rows
        .iter()
        .find(|x| x.factors == [Factor::Widths])
        .unwrap();
    assert!(
        (x.f - 8.015786001653836).abs() < 1e-5 && (x.den_df - 7.0).abs() < 1e-6,
        "{x:?}"
    );
}

/// The mixed model's tests keep their level: simulated under the null (no fixed effect; seed,
/// seed × arch and seed × rate spread as in YM's fit) on the incomplete design of
/// `a_design_without_a_complete_grid_gets_the_reml_mixed_model_as_mixedlm`, each term is
/// called significant at 0.05 in at most 0.05 + 3 Monte Carlo standard errors of the runs
/// (Satterthwaite's df are an approximation: this is its check).
#[test]
fn the_mixed_model_keeps_its_level_under_the_null() {
    use rand::{rngs::StdRng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};
    let mut r = cells_record(&["128", "256"], &[0.1, 0.3, 0.5], 6, &YM);
    let mut seeds: Vec<u64> = r.units.iter().map(|v| v.spec.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    r.units.retain(|v| {
        let (a, b) = (v.spec.arch.name(), v.spec.dropout);
        !((a == "128" && b == 0.3) || (a == "256" && b == 0.5 && v.spec.seed == seeds[5]))
    });
    let sd = [0.01, 0.0066, 0.0037, 0.0014];
    let mut rng = StdRng::seed_from_u64(41);
    let runs = 2000;
    let mut hits = [0usize; 3];
    let mut fitted = 0;
    for _ in 0..runs {
        let mut z =
            |s: f64| s * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
        let u_s: Vec<f64> = (0..6).map(|_| z(sd[0])).collect();
        let u_sa: Vec<f64> = (0..12).map(|_| z(sd[1])).collect();
        let u_sb: Vec<f64> = (0..18).map(|_| z(sd[2])).collect();
        for v in &mut r.units {
            let s = seeds.iter().position(|x| *x == v.spec.seed).unwrap();
            let a = usize::from(v.spec.arch.name() == "256");
            let b = [0.1f32, 0.3, 0.5]
                .iter()
                .position(|x| *x == v.spec.dropout)
                .unwrap();
            let y = 0.1 + u_s[s] + u_sa[s * 2 + a] + u_sb[s * 3 + b] + z(sd[3]);
            v.history[0].test_loss = y as f32;
        }
        let Ok(a) = model::anova(&r, Metric::TestLoss) else {
            continue;
        };
        assert!(a.mixed, "{a:?}");
        fitted += 1;
        for (k, f) in [
            vec![Factor::Widths],
            vec![Factor::Dropout],
            vec![Factor::Widths, Factor::Dropout],
        ]
        .iter()
        .enumerate()
        {
            let row = a.rows.iter().find(|x| &x.factors == f).unwrap();
            if row.p < 0.05 {
                hits[k] += 1;
            }
        }
    }
    assert!(fitted >= runs * 99 / 100, "{fitted} of {runs} fitted");
    let n = fitted as f64;
    let limit = 0.05 + 3.0 * (0.05f64 * 0.95 / n).sqrt();
    let rates: Vec<f64> = hits.iter().map(|h| *h as f64 / n).collect();
    eprintln!("mixed model under the null: rejection rates {rates:?} over {fitted} runs");
    for r in &rates {
        assert!(
            *r <= limit,
            "rates {rates:?} over {fitted} runs, limit {limit}"
        );
    }
}

/// Beyond `mixed::MAX_UNITS` the design that calls for the mixed model gets the pooled table,
/// and summary.md says why (a fit is cubic in the units).
#[test]
fn a_design_too_large_for_the_mixed_model_says_so() {
    let seeds = 61;
    let y: Vec<f64> = (0..2 * 3 * seeds)
        .map(|i| 0.1 + 0.001 * ((i * 37) % 11) as f64)
        .collect();
    let mut r = cells_record(&["128", "256"], &[0.1, 0.3, 0.5], seeds, &y);
    for v in &mut r.units {
        if v.spec.arch.name() == "128" && v.spec.dropout == 0.3 {
            v.status = UnitStatus::Failed;
            v.history.clear();
        }
    }
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.too_many_for_mixed && !a.mixed && !a.strata, "{a:?}");
    let md = mnist_lab::export::summary_md(&r);
    assert!(
        md.contains(&format!(
            "more than {} analysed units",
            mnist_lab::insight::mixed::MAX_UNITS
        )),
        "{md}"
    );
}

/// The README's own run: the mixed model's variance components of paper-2019-seeds (its
/// committed units.csv) are statsmodels' `MixedLM`'s (tests/reference/paper_mixed.py, the
/// Nelder–Mead fit, which reaches the highest REML likelihood), seed × depth at 0 in both.
#[test]
fn the_paper_runs_variance_components_are_mixedlms() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let csv = std::fs::read_to_string(root.join("results/paper-2019-seeds/units.csv")).unwrap();
    let p = preset::load("paper-2019-seeds").unwrap();
    let mut r = RunRecord::new(&p, Environment::detect("t"));
    let mut found = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let v = r.units.iter_mut().find(|v| v.spec.name == f[0]).unwrap();
        v.status = UnitStatus::Finished;
        let loss: f32 = f[6].parse().unwrap();
        v.history.push(EpochMetrics {
            epoch: 1,
            test_loss: loss,
            test_acc: f[7].parse().unwrap(),
            ..Default::default()
        });
        found += 1;
    }
    assert_eq!(found, 75);
    let a = model::anova(&r, Metric::TestLoss).unwrap();
    assert!(a.mixed, "{a:?}");
    let want = [
        ("seed", 2.7418637439489313e-06),
        ("seed × depth", 0.0),
        ("seed × BN+Dropout", 4.78701008401804e-06),
        ("seed × optimizer", 1.365570698362931e-06),
        ("residual", 3.0459972551339203e-05),
    ];
    assert_eq!(a.components.len(), want.len(), "{a:?}");
    for ((name, got), (wname, w)) in a.components.iter().zip(want) {
        assert_eq!(name, wname);
        assert!((got - w).abs() <= 5e-4 * w + 1e-12, "{name}: {got} vs {w}");
    }
}
