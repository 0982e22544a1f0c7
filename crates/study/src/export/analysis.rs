//! The statistics of a run as files: summary.md's analysis sections, comparisons.csv (one row
//! per test, every family), anova.csv and effects.csv (the model's least-squares means).

use std::fmt::Write as _;
use std::sync::Arc;

use super::{col, num, table, Column, TableWriter};
use crate::insight::factors::Layout;
use crate::insight::linear_model::{self as model, Fitted};
use crate::insight::stats::{self, Adjustment, Comparison};
use crate::report;
use crate::runs::RunRecord;
use crate::spec::Metric;

/// At most this many one-factor comparisons are written out in summary.md.
pub const MD_COMPARISONS: usize = 40;

/// Every pair of analysed variants that differ in one field only, tested on final test loss
/// (paired over shared seeds), Holm-adjusted as one family.
pub fn comparisons(record: &RunRecord) -> Vec<Comparison> {
    let layout = Layout::new(record);
    let vs = stats::per_variant(record);
    let mut cs = stats::one_factor_comparisons(&layout, &vs, Metric::TestLoss, Adjustment::Holm);
    stats::decide_by(&mut cs, record.test);
    if let Some(m) = record.margin {
        stats::test_equivalence(&mut cs, m);
    }
    cs
}

/// One row of comparisons.csv, named field by field (its columns are `test_columns`).
struct TestRow {
    family: &'static str,
    family_size: usize,
    a: Arc<str>,
    b: Arc<str>,
    factor: &'static str,
    level_a: Arc<str>,
    level_b: Arc<str>,
    /// The sample sizes and permutation p of a paired or Welch test (Tukey has none).
    sample: Option<stats::Difference>,
    test: String,
    diff: f64,
    ci: (f64, f64),
    p: f64,
    p_adjusted: f64,
    method: &'static str,
    metric: Metric,
}

/// comparisons.csv's columns: each header with the cell under it.
fn test_columns() -> Vec<Column<'static, TestRow>> {
    type R = TestRow;
    let sample =
        |r: &R, f: fn(&stats::Difference) -> String| r.sample.as_ref().map(f).unwrap_or_default();
    vec![
        col("family", |r: &R| r.family.to_string()),
        col("family_size", |r: &R| r.family_size.to_string()),
        col("a", |r: &R| r.a.to_string()),
        col("b", |r: &R| r.b.to_string()),
        col("factor", |r: &R| r.factor.to_string()),
        col("level_a", |r: &R| r.level_a.to_string()),
        col("level_b", |r: &R| r.level_b.to_string()),
        col("n_pairs", move |r: &R| sample(r, |t| t.pairs.to_string())),
        col("n_a", move |r: &R| sample(r, |t| t.n_a.to_string())),
        col("n_b", move |r: &R| sample(r, |t| t.n_b.to_string())),
        col("test", |r: &R| r.test.clone()),
        col("diff", |r: &R| num(r.diff)),
        col("ci_low", |r: &R| num(r.ci.0)),
        col("ci_high", |r: &R| num(r.ci.1)),
        col("p", |r: &R| num(r.p)),
        col("p_permutation", move |r: &R| {
            sample(r, |t| t.p_permutation.map(num).unwrap_or_default())
        }),
        col("p_adjusted", |r: &R| num(r.p_adjusted)),
        col("method", |r: &R| r.method.to_string()),
        col("metric", |r: &R| r.metric.key().to_string()),
    ]
}

/// comparisons.csv: one row per test of every family (the one-factor comparisons, the
/// one-sided tests of the best set, Tukey's HSD within each factor), written to `w` as it
/// goes (at 1,000 variants the first family alone is 499,500 rows).
pub fn write_comparisons_csv(
    w: &mut dyn std::io::Write,
    record: &RunRecord,
    comparisons: &[Comparison],
) -> std::io::Result<()> {
    let mut table = TableWriter::new(test_columns(), w)?;
    for c in comparisons {
        let t = &c.test;
        table.row(&TestRow {
            family: "one-factor",
            family_size: c.family,
            a: c.a.clone(),
            b: c.b.clone(),
            factor: c.factor.map_or("", |f| f.name()),
            level_a: c.level_a.clone(),
            level_b: c.level_b.clone(),
            sample: Some(*t),
            test: t.method.label().into(),
            diff: t.diff,
            ci: (t.ci_low, t.ci_high),
            p: t.p,
            p_adjusted: c.p_adjusted,
            method: c.adjustment.label(),
            metric: Metric::TestLoss,
        })?;
    }
    let vs = stats::per_variant(record);
    for metric in [Metric::TestLoss, Metric::TestAcc] {
        let Some(b) = crate::insight::sequential::best_set(record, &vs, metric) else {
            continue;
        };
        for r in &b.rivals {
            let Ok(t) = &r.test else { continue };
            table.row(&TestRow {
                family: "best-set",
                family_size: b.family,
                a: r.name.as_str().into(),
                b: b.best.as_str().into(),
                factor: "",
                level_a: "".into(),
                level_b: "".into(),
                sample: Some(*t),
                test: format!("{} one-sided", t.method.label()),
                diff: t.diff,
                ci: (t.ci_low, t.ci_high),
                p: r.p,
                p_adjusted: r.p_adjusted,
                method: "holm",
                metric: b.chosen_on,
            })?;
        }
    }
    let layout = Layout::new(record);
    for metric in [Metric::TestLoss, Metric::TestAcc] {
        let Ok(fit) = Fitted::new(record, &layout, metric) else {
            continue;
        };
        for f in &layout.factors {
            let Some(pairs) = fit.tukey(*f) else { continue };
            for p in &pairs {
                // Tukey's p is adjusted by construction: no raw p to give.
                table.row(&TestRow {
                    family: "tukey",
                    family_size: pairs.len(),
                    a: p.a.as_str().into(),
                    b: p.b.as_str().into(),
                    factor: f.name(),
                    level_a: p.a.as_str().into(),
                    level_b: p.b.as_str().into(),
                    sample: None,
                    test: "tukey-hsd".into(),
                    diff: p.diff,
                    ci: (p.ci_low, p.ci_high),
                    p: f64::NAN,
                    p_adjusted: p.p_adjusted,
                    method: "tukey",
                    metric,
                })?;
            }
        }
    }
    table.finish()
}

/// One row of anova.csv: a term of a metric's ANOVA, or its residual.
enum AnovaLine<'a> {
    Term(Metric, &'a model::AnovaRow, &'a model::Anova),
    Residual(Metric, &'a model::Anova),
}

/// anova.csv: the ANOVA of test loss and of test accuracy (each term against its own error
/// where it has one, its df and SS in `error_df`, `error_ss`), one row per term and one
/// for the residual. Empty (header only) where the model cannot be fitted.
pub fn anova_csv(record: &RunRecord) -> String {
    use AnovaLine::{Residual, Term};
    type L<'x> = AnovaLine<'x>;
    let fits: Vec<(Metric, model::Anova)> = [Metric::TestLoss, Metric::TestAcc]
        .into_iter()
        .filter_map(|m| model::anova(record, m).ok().map(|a| (m, a)))
        .collect();

    let term = |l: &L, f: fn(&model::AnovaRow) -> String| match l {
        Term(_, r, _) => f(r),
        Residual(..) => String::new(),
    };
    let columns: Vec<Column<L>> = vec![
        col("metric", |l: &L| match l {
            Term(m, ..) | Residual(m, _) => m.key().to_string(),
        }),
        col("term", |l: &L| match l {
            Term(_, r, _) => r.term.clone(),
            Residual(..) => "residual".into(),
        }),
        col("df", |l: &L| match l {
            Term(_, r, _) => r.df.to_string(),
            Residual(_, a) if a.mixed => String::new(),
            Residual(_, a) => a.residual_df.to_string(),
        }),
        // The mixed model's residual line carries its REML variance instead of a sum of
        // squares (its other components are in summary.md).
        col("ss", |l: &L| match l {
            Term(_, r, _) => num(r.ss),
            Residual(_, a) if a.mixed => String::new(),
            Residual(_, a) => num(a.residual_ss),
        }),
        col("f", move |l: &L| term(l, |r| num(r.f))),
        col("p", move |l: &L| term(l, |r| num(r.p))),
        col("partial_eta2", move |l: &L| {
            term(l, |r| num(r.partial_eta2))
        }),
        col("eta2", move |l: &L| term(l, |r| num(r.eta2))),
        // Under the mixed model, Satterthwaite's (fractional) df of the Wald F.
        col("error_df", |l: &L| match l {
            Term(_, r, a) if a.mixed => num(r.den_df),
            Term(_, r, _) => r.error_df.to_string(),
            Residual(..) => String::new(),
        }),
        col("error_ss", move |l: &L| term(l, |r| num(r.error_ss))),
        col("gg_epsilon", move |l: &L| term(l, |r| num(r.epsilon))),
        // "II": every term against the pooled residual; "strata": each against its own
        // seed × term error (repeated measures, seeds as subjects); "mixed": a Wald F of the
        // REML mixed model (seed and seed × factor random), type II, Satterthwaite's df.
        col("type", |l: &L| match l {
            Term(_, _, a) | Residual(_, a) => anova_kind(a).into(),
        }),
        col("blocked_on_seed", |l: &L| match l {
            Term(_, _, a) | Residual(_, a) => a.blocked.to_string(),
        }),
    ];
    let lines = fits.iter().flat_map(|(m, a)| {
        a.rows
            .iter()
            .map(move |r| Term(*m, r, a))
            .chain(std::iter::once(Residual(*m, a)))
    });
    table(columns, lines)
}

/// The kind of table: see anova.csv's `type` column.
fn anova_kind(a: &model::Anova) -> &'static str {
    if a.strata {
        "strata"
    } else if a.mixed {
        "mixed"
    } else {
        "II"
    }
}

/// Each factor's levels as least-squares means of the model (every other factor and every
/// seed weighted equally) with 95% CIs from its error (the strata, the mixed model or the
/// pooled residual), and the factor's row of the ANOVA of test loss.
pub fn effects_csv(record: &RunRecord) -> String {
    /// One level of one factor, with everything its row shows.
    struct Level<'a> {
        factor: &'a str,
        loss: &'a model::LevelMean,
        acc: Option<&'a model::LevelMean>,
        anova: Option<&'a model::AnovaRow>,
        confounded: &'a str,
    }
    type L<'x> = Level<'x>;
    let design = stats::design(record);
    let (loss, fit) = model::effects_and_anova(record, Metric::TestLoss);
    let fit = fit.ok();
    let accs = model::main_effects(record, Metric::TestAcc);
    let confounded: Vec<(crate::insight::factors::Factor, String)> = loss
        .iter()
        .map(|(f, _)| {
            let with = design
                .confounded
                .iter()
                .find(|(c, _)| c == f)
                .map(|(_, with)| with.iter().map(|w| w.name()).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            (*f, with)
        })
        .collect();
    let acc = |l: &L, f: fn(&model::LevelMean) -> String| l.acc.map(f).unwrap_or_default();
    let anova = |l: &L, f: fn(&model::AnovaRow) -> String| l.anova.map(f).unwrap_or_default();
    let columns: Vec<Column<L>> = vec![
        col("factor", |l: &L| l.factor.to_string()),
        col("level", |l: &L| l.loss.level.clone()),
        col("n", |l: &L| l.loss.n.to_string()),
        col("lsmean_test_loss", |l: &L| num(l.loss.mean)),
        col("se_test_loss", |l: &L| num(l.loss.se)),
        col("ci_low_test_loss", |l: &L| num(l.loss.ci_low)),
        col("ci_high_test_loss", |l: &L| num(l.loss.ci_high)),
        col("lsmean_test_acc", move |l: &L| acc(l, |a| num(a.mean))),
        col("se_test_acc", move |l: &L| acc(l, |a| num(a.se))),
        col("ci_low_test_acc", move |l: &L| acc(l, |a| num(a.ci_low))),
        col("ci_high_test_acc", move |l: &L| acc(l, |a| num(a.ci_high))),
        col("anova_df", move |l: &L| anova(l, |r| r.df.to_string())),
        col("anova_f", move |l: &L| anova(l, |r| num(r.f))),
        col("anova_p", move |l: &L| anova(l, |r| num(r.p))),
        col("partial_eta2", move |l: &L| {
            anova(l, |r| num(r.partial_eta2))
        }),
        col("confounded_with", |l: &L| l.confounded.to_string()),
    ];
    let mut rows = Vec::new();
    for ((f, levels), (_, with)) in loss.iter().zip(&confounded) {
        let row = fit
            .as_ref()
            .and_then(|a| a.rows.iter().find(|r| r.factors == [*f]));
        let acc_levels = accs.iter().find(|(g, _)| g == f).map(|(_, l)| l);
        for (i, l) in levels.iter().enumerate() {
            rows.push(Level {
                factor: f.name(),
                loss: l,
                acc: acc_levels.and_then(|ls| ls.get(i)),
                anova: row,
                confounded: with,
            });
        }
    }
    table(columns, rows)
}

/// Markdown: per variant n, mean ± sd and 95% CI; the set that could be best; the design;
/// every one-factor comparison in words; the type II ANOVA.
pub fn stats_md(record: &RunRecord, comparisons: &[Comparison]) -> String {
    let vs = stats::per_variant(record);
    if vs.iter().all(|v| v.loss.n == 0) {
        return String::new();
    }
    let on_test = record
        .units
        .iter()
        .all(|v| v.spec.validation == crate::spec::Validation::Test);
    let mut out = format!(
        "\n## Over seeds\n\nPer variant: n finished seeds of its units, mean ± sample sd [95% \
         confidence interval: Student's t over seeds, cut at the metric's bounds, accuracy in \
         [0, 1] and loss ≥ 0] of the test loss and accuracy, and of the test loss at the epoch \
         with the best {}.\n\n\
         | variant | n | test loss | test acc | {} | study loss | study acc |\n\
         |---|---|---|---|---|---|---|\n",
        if on_test {
            "test loss (chosen on the test set itself: no images were held out)"
        } else {
            "validation loss"
        },
        if on_test {
            "best-test-epoch loss"
        } else {
            "best-epoch test loss"
        }
    );
    for v in &vs {
        let [study_loss, study_acc] = report::reference_cells(v.reference);
        let name = match &v.alias_of {
            Some(a) => format!("{} (= {a})", v.name),
            None => v.name.clone(),
        };
        let n = if v.failed.is_empty() {
            format!("{}/{}", v.loss.n, v.units)
        } else {
            format!("{}/{} ({} failed)", v.loss.n, v.units, v.failed.len())
        };
        let _ = writeln!(
            out,
            "| {} | {n} | {} | {} | {} | {study_loss} | {study_acc} |",
            report::md_cell(&name),
            report::estimate_text(&v.loss, 4),
            report::estimate_text(&v.acc, 4),
            report::estimate_text(&v.best_epoch_loss, 4),
        );
    }
    out.push('\n');
    for line in report::findings(record, &vs) {
        let _ = writeln!(out, "* {}", crate::text::escape(&line));
    }
    let design = stats::design(record);
    let anova = model::anova(record, Metric::TestLoss);
    let _ = writeln!(
        out,
        "\n## Design\n\n{}.\n\n{}",
        crate::text::escape(&design.sentence()),
        design_paragraph(
            design.blocked,
            anova.as_ref().map_or("II", |a| anova_kind(a))
        )
    );
    if let Some(u) = &record.until {
        let _ = writeln!(out, "{}", rounds_md(record, u));
    }
    if let Ok(plan) = crate::insight::plan::plan(record, Metric::TestLoss, None, comparisons) {
        let _ = writeln!(
            out,
            "\n## How many seeds\n\n```\n{}```\n\n`mnist-lab plan RUN --delta D` gives the \
             seeds a difference D needs.",
            plan.text()
        );
    }
    if !comparisons.is_empty() {
        out.push_str(
            "\n## Conclusions\n\nEvery pair of analysed variants that differ in one field \
             only, compared on final test loss: the difference of means with its 95% CI, a \
             paired t-test over the seeds they share (Welch's where they share none; the \
             exact sign-flip permutation p is in comparisons.csv), p Holm-adjusted over the \
             whole family, and the words follow the adjusted p. Each pair is a simple effect: \
             the field's effect at the other fields' levels the two variants share (named in \
             brackets); the ANOVA below tests main effects, averaged over those levels, so a \
             field can matter on average and not be seen at one level. Where nothing was \
             found, the difference the test could have seen (80% power at the family's first \
             Holm level) is said",
        );
        // A list a reader can use: beyond a screenful, the smallest p first and the rest in
        // comparisons.csv (at 1,000 variants there can be 499,500 pairs).
        let mut shown: Vec<&Comparison> = comparisons.iter().collect();
        if shown.len() > MD_COMPARISONS {
            shown.sort_by(|a, b| a.test.p.total_cmp(&b.test.p));
            shown.truncate(MD_COMPARISONS);
            let _ = write!(
                out,
                "; {} pairs, the {MD_COMPARISONS} with the smallest p listed, every one in \
                 comparisons.csv",
                comparisons.len()
            );
        }
        out.push_str(":\n\n");
        for c in shown {
            let _ = writeln!(
                out,
                "* {}",
                crate::text::escape(&c.sentence(Metric::TestLoss))
            );
        }
    }
    match anova {
        Ok(a) if a.strata => {
            out.push_str(
                "\n## ANOVA (final test loss)\n\nThe seeds that trained every cell are the \
                 subjects of a repeated-measures design: each main effect and two-way \
                 interaction is tested against its own seed × term error (a 1-df term's F is \
                 the square of the paired t of its per-seed contrast), with the \
                 Greenhouse–Geisser ε on both df where a term has more than one; the same as \
                 statsmodels' `AnovaRM` when ε = 1.\n\n",
            );
            if !a.incomplete_seeds.is_empty() {
                // Said before the table: its df count fewer seeds than the run has.
                let seeds: Vec<String> = a.incomplete_seeds.iter().map(u64::to_string).collect();
                let one = seeds.len() == 1;
                let _ = writeln!(
                    out,
                    "Seed{} {} did not finish every cell (a unit failed), so {} left out of the \
                     strata (complete cases, as `AnovaRM` requires); the pairs above still use \
                     {} where both variants have it.\n",
                    if one { "" } else { "s" },
                    seeds.join(", "),
                    if one { "it is" } else { "they are" },
                    if one { "it" } else { "them" },
                );
            }
            out.push_str(
                "| term | df | SS | error df | error SS | G-G ε | F | p | partial η² |\n\
                 |---|---|---|---|---|---|---|---|---|\n",
            );
            for r in &a.rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.3e} | {} | {:.3e} | {:.3} | {} | {} | {:.3} |",
                    r.term,
                    r.df,
                    r.ss,
                    r.error_df,
                    r.error_ss,
                    r.epsilon,
                    r.f_text(),
                    r.p_text(),
                    r.partial_eta2
                );
            }
            dropped_md(&mut out, &a);
        }
        Ok(a) if a.mixed => {
            out.push_str(
                "\n## ANOVA (final test loss)\n\nThe cells are no complete grid (a factor \
                 nested in another, cells or seeds missing), so the effects come from a linear \
                 mixed model fitted by REML: main effects and two-way interactions fixed; the \
                 seed and seed × each factor random (each kept where the design can tell it \
                 from the others). Each term is a Wald F test given the terms that do not \
                 contain it (type II), with Satterthwaite's denominator df; on a complete grid \
                 this is the repeated-measures table.\n\n\
                 | term | df | error df (Satterthwaite) | F | p |\n|---|---|---|---|---|\n",
            );
            for r in &a.rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.1} | {} | {} |",
                    r.term,
                    r.df,
                    r.den_df,
                    r.f_text(),
                    r.p_text()
                );
            }
            let comps: Vec<String> = a
                .components
                .iter()
                .map(|(n, v)| {
                    if *v > 0.0 {
                        format!("{n} {v:.3e}")
                    } else {
                        format!("{n} 0")
                    }
                })
                .collect();
            let _ = writeln!(out, "\nVariance components (REML): {}.", comps.join(", "));
            let zero: Vec<&str> = a
                .components
                .iter()
                .filter(|(_, v)| *v <= 0.0)
                .map(|(n, _)| n.as_str())
                .collect();
            if !zero.is_empty() {
                // At zero, a stratum has no spread beyond the residual: its effects are then
                // judged by the residual, as in the pooled table.
                let _ = writeln!(
                    out,
                    "\n{} estimated at 0 (no seed-to-seed spread beyond the residual): the \
                     effects of {} are judged by the residual.",
                    zero.join(", "),
                    if zero.len() == 1 {
                        "that kind"
                    } else {
                        "those kinds"
                    }
                );
            }
            dropped_md(&mut out, &a);
            inestimable_md(&mut out, &a);
        }
        Ok(a) => {
            let _ = write!(
                out,
                "\n## ANOVA (final test loss)\n\nType II sums of squares of a least-squares \
                 fit{}: main effects and two-way interactions, higher-order interactions in \
                 the residual; every term is tested against this one pooled residual.\n\n\
                 | term | df | SS | F | p | partial η² |\n|---|---|---|---|---|---|\n",
                if a.blocked {
                    ", seed as a block (the analysed cells are no complete grid of the factors' \
                     levels with two or more seeds in every cell, so the terms share one \
                     residual instead of each having its own seed × term error)"
                } else {
                    ""
                }
            );
            for r in &a.rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.3e} | {:.2} | {} | {:.3} |",
                    r.term,
                    r.df,
                    r.ss,
                    r.f,
                    stats::format_p(r.p),
                    r.partial_eta2
                );
            }
            let _ = writeln!(
                out,
                "| residual | {} | {:.3e} | | | |",
                a.residual_df, a.residual_ss
            );
            dropped_md(&mut out, &a);
            inestimable_md(&mut out, &a);
            if a.too_many_for_mixed {
                let _ = writeln!(
                    out,
                    "\nA design like this one gets a REML mixed model (each effect against the \
                     seed-to-seed spread of its own kind), but this run has more than {} \
                     analysed units, beyond what it fits: the pooled residual judges every \
                     effect here.",
                    crate::insight::mixed::MAX_UNITS
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "\n## ANOVA\n\nNo ANOVA table: {e}.");
        }
    }
    out
}

/// Markdown: each factor's least-squares means with 95% CIs, and Tukey's HSD between levels.
pub fn effects_md(record: &RunRecord) -> String {
    let (loss, anova) = model::effects_and_anova(record, Metric::TestLoss);
    if loss.is_empty() {
        return String::new();
    }
    let acc = model::main_effects(record, Metric::TestAcc);
    let kind = anova.map_or("II", |a| anova_kind(&a));
    let mut out = format!(
        "\n## Factors\n\nEach factor's levels as least-squares means of the model (every \
         other factor's levels and every seed weighted equally), with 95% CIs {}. Where no \
         model could give intervals (no residual degrees of freedom, or too many levels), the \
         raw mean of the units at each level with a t-interval over them, marked \"raw \
         mean\": it mixes in the other factors' effects.\n\n\
         | factor | level | n | test loss | test acc |\n|---|---|---|---|---|\n",
        match kind {
            "strata" => {
                "from the level's own seeds: a t-interval over its per-seed means (every seed \
                 trained every cell)"
            }
            "mixed" => {
                "from the REML mixed model (generalised least squares, Satterthwaite's df)"
            }
            _ => "from the model's pooled residual error",
        }
    );
    for (f, levels) in &loss {
        let acc_levels = acc.iter().find(|(g, _)| g == f).map(|(_, l)| l);
        for (k, l) in levels.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                if k == 0 {
                    format!("**{}**", f.name())
                } else {
                    String::new()
                },
                report::md_cell(&l.level),
                l.n,
                report::level_mean_text(l, 4),
                acc_levels
                    .and_then(|a| a.get(k))
                    .map_or("-".into(), |a| report::level_mean_text(a, 4)),
            );
        }
    }
    let layout = Layout::new(record);
    if let Ok(fit) = Fitted::new(record, &layout, Metric::TestLoss) {
        let mut tukey = String::new();
        for (f, _) in &loss {
            for p in fit.tukey(*f).unwrap_or_default() {
                if !p.diff.is_finite() {
                    // Averaging over the levels of factors confounded with it leaves the
                    // difference without an estimate: said, not printed as NaN.
                    let _ = writeln!(
                        tukey,
                        "| {} | {} − {} | not estimable (cells missing) | | |",
                        f.name(),
                        report::md_cell(&p.a),
                        report::md_cell(&p.b),
                    );
                    continue;
                }
                let _ = writeln!(
                    tukey,
                    "| {} | {} − {} | {:+.4} | [{:+.4}, {:+.4}] | {} |",
                    f.name(),
                    report::md_cell(&p.a),
                    report::md_cell(&p.b),
                    p.diff,
                    p.ci_low,
                    p.ci_high,
                    stats::format_p(p.p_adjusted)
                );
            }
        }
        if !tukey.is_empty() {
            out.push_str(
                "\nDifferences between levels (test loss, Tukey's HSD from the model: CIs \
                 and p adjusted over each factor's pairs):\n\n\
                 | factor | levels | difference | 95% CI | p |\n|---|---|---|---|---|\n",
            );
            out.push_str(&tukey);
        }
    }
    out
}

/// summary.md's account of `seeds: Until`: the rule, each round and why, and the caveat.
/// The design paragraph: how variants are compared, said as the units allow.
fn design_paragraph(blocked: bool, kind: &str) -> String {
    let mut p = String::from(
        "The same seed gives every variant the same data order, the same initial weights \
         (same architecture) and the same dropout stream: seeds are common random numbers.",
    );
    if blocked {
        p.push_str(
            " Two variants that share seeds are compared seed by seed (a paired test on the \
             per-seed differences of the seeds they share), which removes the seed's own \
             effect from the comparison; two that share none, by Welch's test.",
        );
    } else {
        p.push_str(
            " No seed is shared between variants here, so variants are compared by Welch's \
             test on their seeds' values, the seed's own effect included in the noise.",
        );
    }
    match kind {
        "strata" => p.push_str(
            " Each ANOVA term, LS-mean and Tukey interval uses its own seed-to-seed error \
             (seeds as subjects), not one residual pooled over every effect.",
        ),
        "mixed" => p.push_str(
            " The cells are no complete grid, so each ANOVA term, LS-mean and Tukey interval \
             comes from a REML mixed model with seed and seed × factor random effects: every \
             unit counts, and each effect is judged by the seed-to-seed spread of its own \
             kind, not by one residual pooled over every effect.",
        ),
        _ => {}
    }
    p
}

/// The terms the model has no degrees of freedom for, in words.
fn inestimable_md(out: &mut String, a: &model::Anova) {
    if !a.inestimable.is_empty() {
        let _ = writeln!(
            out,
            "\nNo degrees of freedom left for {}: confounded with the terms above.",
            a.inestimable.join(", ")
        );
    }
}

/// The terms left out of the fit, in words.
fn dropped_md(out: &mut String, a: &model::Anova) {
    if !a.dropped.is_empty() {
        let _ = writeln!(
            out,
            "\n{} left out of the model: missing cells leave no degree of freedom to estimate \
             {}; LS-means and Tukey come from the model without {}.",
            a.dropped.join(", "),
            if a.dropped.len() == 1 { "it" } else { "them" },
            if a.dropped.len() == 1 { "it" } else { "them" },
        );
    }
}

fn rounds_md(record: &RunRecord, u: &crate::preset::Until) -> String {
    let mut out = format!(
        "\n## Seeds until decided\n\nEvery variant started with {} seeds; after each round, the \
         variants not told apart from the best (and the best, to keep them paired) got {} more, \
         until each such comparison's 95% CI half-width was at most {} or a variant had {} \
         seeds.\n\n* round 1: every variant, {} seeds\n",
        u.min,
        u.step(),
        u.half_width,
        u.max,
        u.min
    );
    for (k, r) in record.rounds.iter().enumerate() {
        let _ = writeln!(
            out,
            "* round {}: {} to {} seeds ({})",
            k + 2,
            crate::text::escape(&r.variants.join(", ")),
            r.seeds,
            crate::text::escape(&r.why)
        );
    }
    if let crate::insight::rounds::Decision::Decided(why) =
        crate::insight::rounds::decide(record, u)
    {
        let _ = writeln!(out, "* then: {}", crate::text::escape(&why));
    }
    // The looks are paid for: say which look the run ended at and the level it used.
    let vs = stats::per_variant(record);
    if let Some(look) = crate::insight::sequential::look_of(record, &vs, Metric::TestLoss) {
        let _ = writeln!(
            out,
            "\nThe rounds looked at the results before adding seeds, so each look spends part \
             of the 0.05: the best set is tested at {} ({}). The one-factor comparisons below \
             are not part of that boundary: they are read once, at the end.",
            crate::insight::sequential::level_text(look.level),
            look.text()
        );
    }
    out
}
