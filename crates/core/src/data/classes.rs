//! Which classes a data set has, read from its labels once both splits are loaded.
//!
//! The rule: classes are `0..K`, K ≥ 2, and every one has training images. Labels that start at 1
//! with no 0 anywhere (EMNIST letters: 1..26) are read as `0..K` by subtracting one, and the
//! data set says so. `K` is the largest training label + 1, or the number of names in the
//! folder's `classes.txt` when it has one: a declared class may then lack training images
//! (the gap is meant), but a label outside the declared classes is an error. A test class
//! without training images is always an error: nothing could have learnt it.

use std::path::{Path, PathBuf};

use super::DataError;

/// The optional file that names (and so declares) a data set's classes, one per line.
pub const NAMES_FILE: &str = "classes.txt";
/// Most classes a data set may have: labels are single bytes.
pub const MAX_CLASSES: usize = 256;

/// A data set's classes, settled from its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classes {
    pub count: usize,
    /// Subtracted from every label of the files (1 for EMNIST letters' 1..26, else 0).
    pub offset: u8,
    /// Names from `classes.txt` (empty when the folder has none).
    pub names: Vec<String>,
}

impl Classes {
    /// MNIST's digits, for data sets built in memory.
    pub fn count_only(count: usize) -> Classes {
        Classes {
            count,
            offset: 0,
            names: Vec::new(),
        }
    }

    /// What a user should know about how labels were read, if anything.
    pub fn note(&self) -> Option<String> {
        (self.offset > 0).then(|| {
            format!(
                "labels {}..{} read as classes 0..{} (EMNIST letters' numbering)",
                self.offset,
                self.count + self.offset as usize - 1,
                self.count - 1
            )
        })
    }

    /// A short label of class `k`: its name's first characters, else its number.
    pub fn label(&self, k: usize) -> String {
        match self.names.get(k) {
            Some(name) => name.chars().take(6).collect(),
            None => k.to_string(),
        }
    }
}

/// Reads `classes.txt` in `dir` when there is one: non-empty lines, at most `MAX_CLASSES`.
pub fn read_names(dir: &Path) -> Result<Option<(PathBuf, Vec<String>)>, DataError> {
    let path = dir.join(NAMES_FILE);
    let text = match crate::files::read_data_text(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(DataError::NotAFile(e.to_string()))
        }
        Err(error) => return Err(DataError::Io { path, error }),
    };
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if names.is_empty() || names.len() > MAX_CLASSES {
        return Err(DataError::ClassNames {
            path,
            reason: format!(
                "names {} classes; a data set has 1 to {MAX_CLASSES}, one name per line",
                names.len()
            ),
        });
    }
    // Two classes of one name could not be told apart in any table or view.
    for (i, name) in names.iter().enumerate() {
        if let Some(j) = names[..i].iter().position(|n| n == name) {
            return Err(DataError::ClassNames {
                path,
                reason: format!(
                    "names class {} and class {i} both {:?}; each class needs its own name",
                    j,
                    crate::text::escape(name)
                ),
            });
        }
    }
    Ok(Some((path, names)))
}

/// One split's labels and the file they came from.
pub struct Labels<'a> {
    pub path: &'a Path,
    pub labels: &'a mut [u8],
}

/// Settles the classes from both splits' labels and maps the labels to `0..K` in place.
pub fn settle(
    train: Labels<'_>,
    test: Labels<'_>,
    declared: Option<(PathBuf, Vec<String>)>,
) -> Result<Classes, DataError> {
    let min_train = train.labels.iter().copied().min().unwrap_or(0);
    let offset = u8::from(min_train == 1 && !test.labels.contains(&0));
    let (count, names, declared_at) = match declared {
        Some((path, names)) => (names.len(), names, Some(path)),
        None => {
            let max = train.labels.iter().copied().max().unwrap_or(0);
            ((max - offset) as usize + 1, Vec::new(), None)
        }
    };
    let mut trained = vec![0usize; count];
    for (is_train, split) in [(true, &train), (false, &test)] {
        for (index, &label) in split.labels.iter().enumerate() {
            let class = label.wrapping_sub(offset) as usize;
            let outside = label < offset || class >= count;
            if outside {
                match &declared_at {
                    Some(names) => {
                        return Err(DataError::BadLabel {
                            path: split.path.to_path_buf(),
                            index,
                            label: label as u16,
                            classes: count,
                            why: format!("named in {}", names.display()),
                        })
                    }
                    // Undeclared, only a test label can be beyond the training's largest.
                    None => return Err(unseen(test.path, test.labels, label)),
                }
            }
            if is_train {
                trained[class] += 1;
            }
        }
    }
    if count < 2 {
        return Err(DataError::OneClass {
            path: train.path.to_path_buf(),
            class: min_train as usize,
        });
    }
    if declared_at.is_none() {
        if let Some(class) = trained.iter().position(|&n| n == 0) {
            return Err(DataError::ClassGap {
                path: train.path.to_path_buf(),
                class,
                classes: count,
                first: offset as usize,
                last: count - 1 + offset as usize,
                names: NAMES_FILE.into(),
            });
        }
    }
    if let Some(&label) = test
        .labels
        .iter()
        .find(|&&l| trained[l.wrapping_sub(offset) as usize] == 0)
    {
        return Err(unseen(test.path, test.labels, label));
    }
    for l in train.labels.iter_mut().chain(test.labels.iter_mut()) {
        *l -= offset;
    }
    Ok(Classes {
        count,
        offset,
        names,
    })
}

/// The error for test images of a class (raw `label`) no training image has.
fn unseen(path: &Path, labels: &[u8], label: u8) -> DataError {
    DataError::UnseenClass {
        path: path.to_path_buf(),
        class: label as usize,
        count: labels.iter().filter(|&&l| l == label).count(),
        index: labels.iter().position(|&l| l == label).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settle_raw(
        train: &mut [u8],
        test: &mut [u8],
        names: Option<Vec<&str>>,
    ) -> Result<Classes, String> {
        let declared = names.map(|n| {
            (
                PathBuf::from("d/classes.txt"),
                n.into_iter().map(String::from).collect(),
            )
        });
        settle(
            Labels {
                path: Path::new("d/train"),
                labels: train,
            },
            Labels {
                path: Path::new("d/test"),
                labels: test,
            },
            declared,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn digits_stay_as_they_are() {
        let (mut tr, mut te) = ((0..30).map(|i| i % 10).collect::<Vec<u8>>(), vec![9, 0, 3]);
        let c = settle_raw(&mut tr, &mut te, None).unwrap();
        assert_eq!((c.count, c.offset, c.note()), (10, 0, None));
        assert_eq!(te, vec![9, 0, 3]);
    }

    #[test]
    fn letters_from_one_are_shifted_and_said() {
        let mut tr: Vec<u8> = (0..52).map(|i| 1 + i % 26).collect();
        let mut te = vec![1, 26, 13];
        let c = settle_raw(&mut tr, &mut te, None).unwrap();
        assert_eq!((c.count, c.offset), (26, 1));
        assert_eq!(te, vec![0, 25, 12]);
        assert_eq!(tr[0], 0);
        let note = c.note().unwrap();
        assert!(
            note.contains("labels 1..26 read as classes 0..25"),
            "{note}"
        );
    }

    #[test]
    fn a_gap_an_unseen_test_class_and_an_undeclared_label_are_errors() {
        let msg = settle_raw(&mut [0, 1, 3, 3], &mut [0], None).unwrap_err();
        assert!(msg.contains("class 2 has no training image"), "{msg}");
        assert!(msg.contains("classes.txt"), "{msg}");
        let msg = settle_raw(&mut [0, 1, 2], &mut [0, 7, 7], None).unwrap_err();
        assert!(
            msg.contains("d/test: 2 test images are of class 7, which no training image has"),
            "{msg}"
        );
        let names = Some(vec!["a", "b", "c", "d"]);
        let msg = settle_raw(&mut [0, 1, 2, 4], &mut [0], names).unwrap_err();
        assert!(
            msg.contains(
                "d/train: label 4 at index 3 is outside the 4 classes named in d/classes.txt"
            ),
            "{msg}"
        );
        // Declared, a class without training images is allowed, unless the test set has it.
        let names = Some(vec!["a", "b", "c", "d"]);
        let c = settle_raw(&mut [0, 1, 3], &mut [3, 1], names.clone()).unwrap();
        assert_eq!(c.count, 4);
        assert_eq!(c.label(1), "b");
        let msg = settle_raw(&mut [0, 1, 3], &mut [2], names).unwrap_err();
        assert!(msg.contains("of class 2"), "{msg}");
        // One class is no classification, numbered from 0 or from 1.
        for l in [0u8, 1] {
            let msg = settle_raw(&mut [l, l, l], &mut [l], None).unwrap_err();
            assert!(
                msg.contains(&format!("d/train: every label is class {l}")),
                "{msg}"
            );
        }
    }
}
