//! Validation of gold labels and the records of what was wrong with them: entries a
//! validation rule rejects, labels the model has never seen, and works without gold labels.
//! None of these stop an evaluation; they are counted with example record ids.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::EvaluationError;

/// How often one label or entry occurred, with the ids of the first few records it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelOccurrences {
    /// Number of records in which it occurred (each record counts once).
    pub count: u64,
    /// Ids of the first records it occurred in, at most `EvaluationOptions::max_examples`.
    pub example_ids: Vec<String>,
}

impl LabelOccurrences {
    /// Counts one more record and keeps its id while fewer than `max_examples` are kept.
    pub(crate) fn record(&mut self, id: &str, max_examples: usize) {
        self.count += 1;
        if self.example_ids.len() < max_examples {
            self.example_ids.push(id.to_string());
        }
    }
}

/// Gold labels that are valid but outside the model's label set. They count as false
/// negatives in the pooled metrics (see [`Evaluation`](crate::Evaluation)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnseenLabels {
    /// Works with at least one unseen gold label.
    pub documents_with_unseen: u64,
    /// Unseen gold labels summed over works.
    pub entries: u64,
    /// Each unseen label with its count and example record ids.
    pub labels: BTreeMap<String, LabelOccurrences>,
}

/// Gold entries rejected as invalid and works left without any gold label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldIssues {
    /// Works whose gold set is empty, before or after validation. They are left out of every
    /// metric because an empty set means "unknown", not "no subject".
    pub documents_without_gold: u64,
    /// Ids of the first works without gold labels.
    pub without_gold_examples: Vec<String>,
    /// Gold entries the validation rule rejected, summed over works.
    pub rejected_entries: u64,
    /// Each rejected entry, as written in the input, with its count and example record ids.
    pub rejected: BTreeMap<String, LabelOccurrences>,
}

/// One gold entry that the validation rule rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedGold {
    /// Id of the record the entry belongs to.
    pub id: String,
    /// The entry, trimmed.
    pub entry: String,
}

/// Gold labels after [`validate_gold`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatedGold {
    /// Valid gold labels per work, trimmed and without duplicates, in first-seen order.
    pub gold: Vec<Vec<String>>,
    /// Every rejected entry with its record id, in input order.
    pub rejected: Vec<RejectedGold>,
    /// Ids of the works left without a valid gold label, in input order.
    pub empty_ids: Vec<String>,
}

/// Trims the gold entries of each work, drops duplicates and rejects the entries for which
/// `is_valid` returns false, keeping the record id of each rejection.
///
/// The pipeline passes a rule such as "a known ASJC code", so that `99999` or a subject name
/// given where a code belongs is rejected here instead of being reported as an unseen label.
/// Returns [`EvaluationError::RowCount`] when `ids` and `gold` differ in length.
pub fn validate_gold(
    ids: &[String],
    gold: &[Vec<String>],
    is_valid: impl Fn(&str) -> bool,
) -> Result<ValidatedGold, EvaluationError> {
    if ids.len() != gold.len() {
        return Err(EvaluationError::RowCount {
            field: "ids",
            expected: gold.len(),
            actual: ids.len(),
        });
    }

    let mut validated = ValidatedGold {
        gold: Vec::with_capacity(gold.len()),
        ..ValidatedGold::default()
    };
    for (id, entries) in ids.iter().zip(gold) {
        let mut kept: Vec<String> = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = entry.trim();
            if kept.iter().any(|label| label == entry) {
                continue;
            }
            if is_valid(entry) {
                kept.push(entry.to_string());
            } else {
                validated.rejected.push(RejectedGold {
                    id: id.clone(),
                    entry: entry.to_string(),
                });
            }
        }
        if kept.is_empty() {
            validated.empty_ids.push(id.clone());
        }
        validated.gold.push(kept);
    }
    Ok(validated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    fn four_digits(entry: &str) -> bool {
        entry.len() == 4 && entry.bytes().all(|byte| byte.is_ascii_digit())
    }

    #[test]
    fn validate_gold_rejects_with_record_id() {
        let ids = strings(&["w1", "w2"]);
        let gold = vec![strings(&["1105", "Ecology"]), strings(&["99999"])];

        let validated = validate_gold(&ids, &gold, four_digits).unwrap();

        assert_eq!(
            validated.gold,
            vec![strings(&["1105"]), Vec::<String>::new()]
        );
        assert_eq!(
            validated.rejected,
            vec![
                RejectedGold {
                    id: "w1".into(),
                    entry: "Ecology".into()
                },
                RejectedGold {
                    id: "w2".into(),
                    entry: "99999".into()
                },
            ]
        );
        assert_eq!(validated.empty_ids, strings(&["w2"]));
    }

    #[test]
    fn validate_gold_trims_and_deduplicates() {
        let ids = strings(&["w1"]);
        let gold = vec![strings(&[" 1105", "1105 ", "2303"])];

        let validated = validate_gold(&ids, &gold, four_digits).unwrap();

        assert_eq!(validated.gold, vec![strings(&["1105", "2303"])]);
        assert!(validated.rejected.is_empty());
    }

    #[test]
    fn validate_gold_checks_row_counts() {
        let error = validate_gold(&strings(&["w1"]), &[], four_digits).unwrap_err();

        assert_eq!(
            error,
            EvaluationError::RowCount {
                field: "ids",
                expected: 0,
                actual: 1
            }
        );
    }
}
