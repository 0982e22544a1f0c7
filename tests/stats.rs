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

use mnist_lab::insight::factors::{Factor, Metric};
use mnist_lab::insight::stats::{self, Leader};
use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord, VariantStatus};
use mnist_lab::spec::EpochMetrics;

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
    assert_eq!(p.variants.len(), losses.len());
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
    for (v, &loss) in r.variants.iter_mut().zip(&by_unit) {
        v.status = VariantStatus::Finished;
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

#[test]
fn anova_of_a_balanced_grid_matches_statsmodels() {
    let r = record_with(GRID, &Y);
    let d = stats::design(&r);
    assert!(d.balanced, "{d:?}");
    assert_eq!(d.replicates, 2);
    let a = stats::anova(&r, &d, Metric::TestLoss).unwrap();
    // (term, df, SS, F, p) from anova_lm; the f32 storage of the losses limits agreement.
    let want = [
        ("depth", 1, 0.001666666667, 16.374269005847, 0.001201424070),
        (
            "BN+Dropout",
            2,
            0.003008333333,
            14.777777777778,
            0.000354479681,
        ),
        (
            "dropout",
            1,
            0.004816666667,
            47.321637426901,
            0.000007573120,
        ),
        (
            "depth × BN+Dropout",
            2,
            0.000258333333,
            1.269005847953,
            0.311539548826,
        ),
        (
            "depth × dropout",
            1,
            0.000150000000,
            1.473684210526,
            0.244847343492,
        ),
        (
            "BN+Dropout × dropout",
            2,
            0.000208333333,
            1.023391812866,
            0.384751457116,
        ),
    ];
    assert_eq!(a.rows.len(), want.len());
    for (row, (term, df, ss, f, p)) in a.rows.iter().zip(want) {
        assert_eq!(row.term, term);
        assert_eq!(row.df, df, "{term}");
        assert!(close(row.ss, ss, 1e-4), "{term}: {} vs {ss}", row.ss);
        assert!(close(row.f, f, 1e-3), "{term}: {} vs {f}", row.f);
        assert!(close(row.p, p, 2e-3), "{term}: {} vs {p}", row.p);
        assert!(close(row.eta2, ss / 0.011533333333333333, 1e-3), "{term}");
    }
    assert_eq!(a.residual_df, 14);
    assert!(close(a.residual_ss, 0.001425, 1e-3));
}

#[test]
fn paper_2019_is_not_factorial_and_its_confounded_factors_are_named() {
    let p = preset::load("paper-2019").unwrap();
    let losses: Vec<f64> = (0..p.variants.len())
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
    let err = stats::anova(&r, &d, Metric::TestLoss)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a balanced full factorial"), "{err}");
}

#[test]
fn the_best_variant_is_best_only_when_significantly_better() {
    let two = r#"(name: "t", defaults: (arch: "128-64", seeds: 4, validation: Test),
        variants: [(name: "a"), (name: "b"), (name: "c")])"#;
    // a clearly beats b; b and c overlap.
    let r = record_with(
        two,
        &[
            0.050, 0.051, 0.049, 0.050, 0.060, 0.062, 0.058, 0.061, 0.061, 0.059, 0.063, 0.060,
        ],
    );
    let s = stats::per_variant(&r);
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].loss.n, 4);
    match stats::leader(&s, Metric::TestLoss).unwrap() {
        Leader::Best {
            name, runner_up, ..
        } => assert_eq!((name.as_str(), runner_up.as_str()), ("a", "b")),
        other => panic!("{other:?}"),
    }
    // Without a: b and c are tied.
    let r = record_with(
        two,
        &[
            0.061, 0.059, 0.063, 0.060, 0.060, 0.062, 0.058, 0.061, 0.061, 0.059, 0.063, 0.060,
        ],
    );
    let l = stats::leader(&stats::per_variant(&r), Metric::TestLoss).unwrap();
    assert!(matches!(l, Leader::Tied { test: Some(_), .. }), "{l:?}");
    assert!(l
        .sentence(Metric::TestLoss)
        .contains("lowest mean test loss"));
    assert!(l.sentence(Metric::TestLoss).contains("tied with"));
    let acc = stats::leader(&stats::per_variant(&r), Metric::TestAcc).unwrap();
    assert!(
        acc.sentence(Metric::TestAcc)
            .starts_with("highest mean test accuracy"),
        "{acc:?}"
    );
}

#[test]
fn main_effects_carry_confidence_intervals() {
    let r = record_with(GRID, &Y);
    let e = stats::main_effect(&r, Factor::Depth, Metric::TestLoss);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].estimate.n, 12);
    let first: Vec<f64> = Y[..12].to_vec();
    let want = stats::estimate(&first);
    assert!(close(e[0].estimate.mean, want.mean, 1e-5));
    assert!(
        e[0].estimate.ci_low < e[0].estimate.mean && e[0].estimate.mean < e[0].estimate.ci_high
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
    let l = stats::leader(&vs, Metric::TestLoss).unwrap();
    let line = l.sentence(Metric::TestLoss);
    assert!(matches!(l, Leader::NoSpread { seeds: 3, .. }), "{l:?}");
    assert!(line.contains("no spread over 3 seeds"), "{line}");
    assert!(!line.contains("too few seeds"), "{line}");
    let design = stats::design(&r);
    assert_eq!(
        stats::anova(&r, &design, Metric::TestLoss).unwrap_err(),
        stats::AnovaError::NoSpread
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
}

#[test]
fn words_follow_the_holm_adjusted_p_of_the_family() {
    let r = record_with(
        "(name: \"t\", defaults: (arch: \"128-64\", seeds: 3), \
         variants: [(name: \"a\"), (name: \"b\", placement: None), (name: \"c\", placement: Last)])",
        &[0.20, 0.21, 0.22, 0.23, 0.24, 0.25, 0.205, 0.215, 0.225],
    );
    let vs = stats::per_variant(&r);
    let cs = stats::one_factor_comparisons(&r, &vs, Metric::TestLoss);
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
