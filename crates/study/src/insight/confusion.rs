//! Confusion matrix and per-class accuracy from predictions.

/// `m[true][predicted]` counts, K × K.
pub type Matrix = Vec<Vec<u32>>;

/// The `classes` × `classes` confusion matrix (a label or prediction outside is not counted).
pub fn confusion(labels: &[u8], predictions: &[u8], classes: usize) -> Matrix {
    let mut m = vec![vec![0u32; classes]; classes];
    for (&t, &p) in labels.iter().zip(predictions) {
        if (t as usize) < classes && (p as usize) < classes {
            m[t as usize][p as usize] += 1;
        }
    }
    m
}

/// Accuracy of each true class (None for a class with no examples).
pub fn per_class_accuracy(m: &Matrix) -> Vec<Option<f64>> {
    m.iter()
        .enumerate()
        .map(|(c, row)| {
            let total: u32 = row.iter().sum();
            (total > 0).then(|| row[c] as f64 / total as f64)
        })
        .collect()
}

/// CSV: header `true\predicted,0..K-1`, one row per true class.
pub fn to_csv(m: &Matrix) -> String {
    let head: Vec<String> = (0..m.len()).map(|k| k.to_string()).collect();
    let mut out = format!("true\\predicted,{}\n", head.join(","));
    for (t, row) in m.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!("{t},{}\n", cells.join(",")));
    }
    out
}

/// Indices of misclassified examples, optionally only of a true / predicted class.
pub fn mistakes(
    labels: &[u8],
    predictions: &[u8],
    true_class: Option<u8>,
    predicted: Option<u8>,
) -> Vec<usize> {
    labels
        .iter()
        .zip(predictions)
        .enumerate()
        .filter(|(_, (t, p))| t != p)
        .filter(|(_, (t, _))| true_class.is_none_or(|c| **t == c))
        .filter(|(_, (_, p))| predicted.is_none_or(|c| **p == c))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_from_known_predictions() {
        let labels = [0, 0, 1, 1, 1, 7, 7, 9];
        let preds = [0, 6, 1, 1, 7, 7, 1, 9];
        let m = confusion(&labels, &preds, 10);
        assert_eq!(m[0][0], 1);
        assert_eq!(m[0][6], 1);
        assert_eq!(m[1][1], 2);
        assert_eq!(m[1][7], 1);
        assert_eq!(m[7][1], 1);
        assert_eq!(m.iter().flatten().sum::<u32>(), 8);
        let acc = per_class_accuracy(&m);
        assert_eq!(acc[0], Some(0.5));
        assert!((acc[1].unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(acc[9], Some(1.0));
        assert_eq!(acc[2], None);
        assert_eq!(mistakes(&labels, &preds, None, None), vec![1, 4, 6]);
        assert_eq!(mistakes(&labels, &preds, Some(1), None), vec![4]);
        assert_eq!(mistakes(&labels, &preds, None, Some(1)), vec![6]);
        let csv = to_csv(&m);
        assert_eq!(csv.lines().count(), 11);
        assert!(csv
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("1,0,2,0,0,0,0,0,1,"));
        assert!(
            csv.starts_with("true\\predicted,0,1,2,3,4,5,6,7,8,9\n"),
            "{csv}"
        );
        // Five classes: a 5×5 matrix; labels beyond are not counted.
        let m = confusion(&[0, 4, 4, 7], &[0, 3, 4, 4], 5);
        assert_eq!(m.len(), 5);
        assert_eq!(
            (m[4][3], m[4][4], m.iter().flatten().sum::<u32>()),
            (1, 1, 3)
        );
        assert_eq!(to_csv(&m).lines().next(), Some("true\\predicted,0,1,2,3,4"));
    }
}
