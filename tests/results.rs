//! The Results a reader can check (issue 41, 9): every number docs/RESULTS.md quotes is found
//! in the exported tables committed under `results/` (units.csv, comparisons.csv, anova.csv,
//! effects.csv, summary.md of the runs it describes), and `results/README.md` says which
//! commit, command, date and CPU made them.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `results/`.
fn result_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            result_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Decimal numbers in `text` as written ("0.0554", "-0.045", "5.766e-4"), the typographic
/// minus read as '-'.
fn numbers(text: &str) -> Vec<String> {
    let text = text.replace('−', "-");
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'));
        if !starts {
            i += 1;
            continue;
        }
        let begin = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
            j += 1;
        }
        // An exponent: e-4, e+05.
        if j + 1 < b.len()
            && b[j] == b'e'
            && (b[j + 1] == b'-' || b[j + 1] == b'+' || b[j + 1].is_ascii_digit())
        {
            let mut k = j + 1;
            if b[k] == b'-' || b[k] == b'+' {
                k += 1;
            }
            let digits = k;
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            if k > digits {
                j = k;
            }
        }
        let token = text[begin..j].trim_end_matches('.').to_string();
        // Only decimals: integers (seeds, counts, years, df) are too common to check this way.
        if token.contains('.') && !token.contains("..") {
            out.push(token);
        }
        i = j;
    }
    out
}

/// Whether `quoted` is `value` as printed: the same digits after rounding to the quoted
/// precision (decimals, or the mantissa's in scientific notation).
fn matches(quoted: &str, value: f64) -> bool {
    let Ok(q) = quoted.parse::<f64>() else {
        return false;
    };
    if let Some((m, _)) = quoted.split_once('e') {
        let decimals = m.split_once('.').map_or(0, |(_, d)| d.len());
        return format!("{value:.decimals$e}") == quoted;
    }
    let decimals = quoted.split_once('.').map_or(0, |(_, d)| d.len());
    let scale = 10f64.powi(decimals as i32);
    ((value * scale).round() - q * scale).abs() < 0.5
}

#[test]
fn every_number_the_results_quote_is_in_the_committed_tables() {
    let results = std::fs::read_to_string(root().join("docs/RESULTS.md")).unwrap();
    let mut files = Vec::new();
    result_files(&root().join("results"), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("comparisons.csv")),
        "results/ holds no exported tables: {files:?}"
    );
    let mut values: Vec<f64> = Vec::new();
    let mut texts = String::new();
    for f in &files {
        let t = std::fs::read_to_string(f).unwrap();
        values.extend(numbers(&t).iter().filter_map(|n| n.parse::<f64>().ok()));
        texts.push_str(&t);
    }
    let quoted = numbers(&results);
    assert!(
        quoted.len() > 50,
        "the Results quote {} numbers",
        quoted.len()
    );
    let missing: Vec<&String> = quoted
        .iter()
        .filter(|q| {
            let abs = q.trim_start_matches('-');
            !texts.contains(q.as_str())
                && !values
                    .iter()
                    .any(|v| matches(q, *v) || matches(abs, v.abs()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/RESULTS.md quotes numbers found in no file under results/: {missing:?}"
    );
}

#[test]
fn the_results_say_what_made_them() {
    let made = std::fs::read_to_string(root().join("results/README.md")).unwrap();
    for word in [
        "commit",
        "mnist-lab run",
        "mnist-lab export",
        "CPU",
        "2026-",
    ] {
        assert!(
            made.contains(word),
            "results/README.md does not say {word:?}"
        );
    }
}

#[test]
fn the_number_reader_finds_what_a_reader_sees() {
    assert_eq!(
        numbers("loss 0.0554 ± 0.0018, −0.045, p = 0.022, SS 5.766e-4, seeds 2019–2023, v1.2."),
        vec!["0.0554", "0.0018", "-0.045", "0.022", "5.766e-4"]
    );
    assert!(matches("0.0554", 0.055412));
    assert!(!matches("0.0554", 0.05546));
    assert!(matches("5.766e-4", 5.7655e-4));
}
