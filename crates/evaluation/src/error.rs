//! Errors of the evaluation crate: inputs whose shape or content makes metrics impossible to
//! compute. Problems with single gold labels (unseen, invalid, empty) are not errors: they are
//! counted and reported in the [`Evaluation`](crate::Evaluation).

/// An input to [`evaluate`](crate::evaluate) or [`validate_gold`](crate::validate_gold) that
/// cannot be evaluated. Each variant names the offending field, record or label.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluationError {
    /// A per-work field has a different number of rows than `gold`.
    #[error(
        "`{field}` has {actual} rows but `gold` has {expected}; pass exactly one row per work"
    )]
    RowCount {
        field: &'static str,
        expected: usize,
        actual: usize,
    },

    /// A work's score row does not have one score per label of the label set.
    #[error(
        "scores of record `{id}` have {actual} values but the label set has {expected} labels; \
         pass one score per label, in label-set order"
    )]
    ScoreWidth {
        id: String,
        expected: usize,
        actual: usize,
    },

    /// A score is NaN or infinite, which would make the ranking metrics meaningless.
    #[error(
        "score of label `{label}` for record `{id}` is {value}, not a finite number; \
         check the model's output for this record"
    )]
    NonFiniteScore {
        id: String,
        label: String,
        value: f32,
    },

    /// A work's predicted labels include one the model does not have.
    #[error(
        "record `{id}` has the predicted label `{label}`, which is not in the model's label set; \
         predictions must come from the same model as the label set"
    )]
    UnknownPredictedLabel { id: String, label: String },

    /// The label set names a label twice, so score columns would be ambiguous.
    #[error("label `{label}` appears more than once in the label set; label names must be unique")]
    DuplicateLabel { label: String },
}
