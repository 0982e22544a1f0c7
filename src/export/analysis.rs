//! The statistics of a run as files: summary.md's analysis sections, comparisons.csv (one row
//! per test, every family), anova.csv and effects.csv (the model's least-squares means).

use std::fmt::Write as _;

use super::{csv_field, num};
use crate::insight::factors::Layout;
use crate::insight::model::{self, Fitted};
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
    stats::one_factor_comparisons(&layout, &vs, Metric::TestLoss, Adjustment::Holm)
}

/// The header of comparisons.csv.
pub const COMPARISONS_HEADER: &str = "family,family_size,a,b,factor,level_a,level_b,n_pairs,\
n_a,n_b,test,diff,ci_low,ci_high,p,p_permutation,p_adjusted,method,metric";

/// One row of comparisons.csv, named field by field (the columns of `COMPARISONS_HEADER`).
struct TestRow<'a> {
    family: &'a str,
    family_size: usize,
    a: &'a str,
    b: &'a str,
    factor: &'a str,
    level_a: &'a str,
    level_b: &'a str,
    /// The sample sizes and permutation p of a paired or Welch test (Tukey has none).
    sample: Option<&'a stats::Difference>,
    test: String,
    diff: f64,
    ci: (f64, f64),
    p: f64,
    p_adjusted: f64,
    method: &'a str,
    metric: Metric,
}

impl TestRow<'_> {
    fn write(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let t = self.sample;
        let cells = [
            csv_field(self.family),
            self.family_size.to_string(),
            csv_field(self.a),
            csv_field(self.b),
            csv_field(self.factor),
            csv_field(self.level_a),
            csv_field(self.level_b),
            t.map(|t| t.pairs.to_string()).unwrap_or_default(),
            t.map(|t| t.n_a.to_string()).unwrap_or_default(),
            t.map(|t| t.n_b.to_string()).unwrap_or_default(),
            csv_field(&self.test),
            num(self.diff),
            num(self.ci.0),
            num(self.ci.1),
            num(self.p),
            t.and_then(|t| t.p_permutation).map(num).unwrap_or_default(),
            num(self.p_adjusted),
            self.method.to_string(),
            self.metric.key().to_string(),
        ];
        writeln!(w, "{}", cells.join(","))
    }
}

/// comparisons.csv: one row per test of every family (the one-factor comparisons, the
/// one-sided tests of the best set, Tukey's HSD within each factor), written to `w` as it
/// goes (at 1,000 variants the first family alone is 499,500 rows).
pub fn write_comparisons_csv(
    w: &mut dyn std::io::Write,
    record: &RunRecord,
    comparisons: &[Comparison],
) -> std::io::Result<()> {
    writeln!(w, "{COMPARISONS_HEADER}")?;
    for c in comparisons {
        let t = &c.test;
        TestRow {
            family: "one-factor",
            family_size: c.family,
            a: &c.a,
            b: &c.b,
            factor: c.factor.map_or("", |f| f.name()),
            level_a: &c.level_a,
            level_b: &c.level_b,
            sample: Some(t),
            test: t.method.label().into(),
            diff: t.diff,
            ci: (t.ci_low, t.ci_high),
            p: t.p,
            p_adjusted: c.p_adjusted,
            method: c.adjustment.label(),
            metric: Metric::TestLoss,
        }
        .write(w)?;
    }
    let vs = stats::per_variant(record);
    for metric in [Metric::TestLoss, Metric::TestAcc] {
        let Some(b) = stats::best_set(&vs, metric) else {
            continue;
        };
        for r in &b.rivals {
            let Ok(t) = &r.test else { continue };
            TestRow {
                family: "best-set",
                family_size: b.family,
                a: &r.name,
                b: &b.best,
                factor: "",
                level_a: "",
                level_b: "",
                sample: Some(t),
                test: format!("{} one-sided", t.method.label()),
                diff: t.diff,
                ci: (t.ci_low, t.ci_high),
                p: r.p,
                p_adjusted: r.p_adjusted,
                method: "holm",
                metric: b.chosen_on,
            }
            .write(w)?;
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
                TestRow {
                    family: "tukey",
                    family_size: pairs.len(),
                    a: &p.a,
                    b: &p.b,
                    factor: f.name(),
                    level_a: &p.a,
                    level_b: &p.b,
                    sample: None,
                    test: "tukey-hsd".into(),
                    diff: p.diff,
                    ci: (p.ci_low, p.ci_high),
                    p: f64::NAN,
                    p_adjusted: p.p_adjusted,
                    method: "tukey",
                    metric,
                }
                .write(w)?;
            }
        }
    }
    Ok(())
}

pub const ANOVA_HEADER: &str = "metric,term,df,ss,f,p,partial_eta2,eta2,type,blocked_on_seed";

/// anova.csv: the type II ANOVA of test loss and of test accuracy, one row per term and one
/// for the residual. Empty (header only) where the model cannot be fitted.
pub fn anova_csv(record: &RunRecord) -> String {
    let mut out = String::from(ANOVA_HEADER);
    out.push('\n');
    for metric in [Metric::TestLoss, Metric::TestAcc] {
        let Ok(a) = model::anova(record, metric) else {
            continue;
        };
        for r in &a.rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},II,{}",
                metric.key(),
                csv_field(&r.term),
                r.df,
                num(r.ss),
                num(r.f),
                num(r.p),
                num(r.partial_eta2),
                num(r.eta2),
                a.blocked
            );
        }
        let _ = writeln!(
            out,
            "{},residual,{},{},,,,,II,{}",
            metric.key(),
            a.residual_df,
            num(a.residual_ss),
            a.blocked
        );
    }
    out
}

pub const EFFECTS_HEADER: &str = "factor,level,n,lsmean_test_loss,se_test_loss,\
ci_low_test_loss,ci_high_test_loss,lsmean_test_acc,se_test_acc,ci_low_test_acc,\
ci_high_test_acc,anova_df,anova_f,anova_p,partial_eta2,confounded_with";

/// Each factor's levels as least-squares means of the model (every other factor and every
/// seed weighted equally) with 95% CIs from its pooled residual error, and the factor's row
/// of the type II ANOVA of test loss.
pub fn effects_csv(record: &RunRecord) -> String {
    let mut out = String::from(EFFECTS_HEADER);
    out.push('\n');
    let design = stats::design(record);
    let anova = model::anova(record, Metric::TestLoss).ok();
    let loss = model::main_effects(record, Metric::TestLoss);
    let acc = model::main_effects(record, Metric::TestAcc);
    for (f, levels) in &loss {
        let row = anova
            .as_ref()
            .and_then(|a| a.rows.iter().find(|r| r.factors == [*f]));
        let confounded = design
            .confounded
            .iter()
            .find(|(c, _)| c == f)
            .map(|(_, with)| with.iter().map(|w| w.name()).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        let acc_levels = acc.iter().find(|(g, _)| g == f).map(|(_, l)| l);
        for (i, l) in levels.iter().enumerate() {
            let a = acc_levels.and_then(|ls| ls.get(i));
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(f.name()),
                csv_field(&l.level),
                l.n,
                num(l.mean),
                num(l.se),
                num(l.ci_low),
                num(l.ci_high),
                a.map(|a| num(a.mean)).unwrap_or_default(),
                a.map(|a| num(a.se)).unwrap_or_default(),
                a.map(|a| num(a.ci_low)).unwrap_or_default(),
                a.map(|a| num(a.ci_high)).unwrap_or_default(),
                row.map(|r| r.df.to_string()).unwrap_or_default(),
                row.map(|r| num(r.f)).unwrap_or_default(),
                row.map(|r| num(r.p)).unwrap_or_default(),
                row.map(|r| num(r.partial_eta2)).unwrap_or_default(),
                csv_field(&confounded),
            );
        }
    }
    out
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
    for line in report::findings(&vs) {
        let _ = writeln!(out, "* {}", crate::text::escape(&line));
    }
    let design = stats::design(record);
    let _ = writeln!(
        out,
        "\n## Design\n\n{}.\n\nThe same seed gives every variant the same data order, the same \
         initial weights (same architecture) and the same dropout stream: seeds are common \
         random numbers, so two variants are compared seed by seed (a paired test on the \
         per-seed differences), which removes the seed's own effect from the comparison.",
        crate::text::escape(&design.sentence())
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
             whole family, and the words follow the adjusted p. Where nothing was found, the \
             difference the test could have seen (80% power at the family's first Holm \
             level) is said",
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
    match model::anova(record, Metric::TestLoss) {
        Ok(a) => {
            let _ = write!(
                out,
                "\n## ANOVA (final test loss)\n\nType II sums of squares of a least-squares \
                 fit{}: main effects and two-way interactions, higher-order interactions in \
                 the residual.\n\n\
                 | term | df | SS | F | p | partial η² |\n|---|---|---|---|---|---|\n",
                if a.blocked {
                    ", seed as a block (randomized complete block design)"
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
            if !a.inestimable.is_empty() {
                let _ = writeln!(
                    out,
                    "\nNo degrees of freedom left for {}: confounded with the terms above.",
                    a.inestimable.join(", ")
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
    let loss = model::main_effects(record, Metric::TestLoss);
    if loss.is_empty() {
        return String::new();
    }
    let acc = model::main_effects(record, Metric::TestAcc);
    let mut out = String::from(
        "\n## Factors\n\nEach factor's levels as least-squares means of the model (every \
         other factor's levels and every seed weighted equally), with 95% CIs from the \
         model's pooled residual error. Where no model could give intervals (no residual \
         degrees of freedom, or too many levels), the raw mean of the units at each level \
         with a t-interval over them, marked \"raw mean\": it mixes in the other factors' \
         effects.\n\n\
         | factor | level | n | test loss | test acc |\n|---|---|---|---|---|\n",
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
    out.push_str(
        "\nThe rounds looked at the results before adding seeds, and the tests below do not \
         correct for those looks (no group-sequential boundary): a p just under 0.05 after \
         several rounds deserves a confirming run with a fixed number of seeds.\n",
    );
    out
}
