//! Training settings of the one-vs-rest classifier.

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::solver::{Loss, SolverSettings};

/// Settings of the per-label linear classifiers' training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Cost of a margin violation (inverse regularisation strength), the same for all labels.
    pub c: f64,
    pub loss: Loss,
    /// Stopping tolerance of the dual solver: on the spread of the projected gradient for
    /// the SVM losses, on the largest sub-problem gradient of a pass for `logistic`.
    pub tolerance: f64,
    /// Maximum passes over the training works per label.
    pub max_iter: usize,
    /// Drop coordinates stuck at a bound during training (faster, same optimum).
    pub shrinking: bool,
    /// Value of the constant bias feature appended to every work; 0 trains without bias.
    pub bias: f64,
    /// Seed of the coordinate order; label `k` uses a generator seeded from `seed` and `k`.
    pub seed: u64,
    /// Labels with fewer positive training works are dropped and reported.
    pub min_label_support: usize,
    /// Worker threads for featurizing and training; 0 uses rayon's global pool.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            c: 0.5,
            loss: Loss::SquaredHinge,
            tolerance: 0.1,
            max_iter: 1000,
            shrinking: true,
            bias: 1.0,
            seed: 42,
            min_label_support: 5,
            threads: 0,
        }
    }
}

impl TrainConfig {
    /// Rejects settings the solver cannot use, naming the field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |field: &'static str, reason: String| Err(ModelError::InvalidConfig { field, reason });
        if !(self.c.is_finite() && self.c > 0.0) {
            return invalid("c", format!("must be a finite number > 0, got {}", self.c));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return invalid("tolerance", format!("must be a finite number > 0, got {}", self.tolerance));
        }
        if self.max_iter == 0 {
            return invalid("max_iter", "must be at least 1".to_string());
        }
        if !(self.bias.is_finite() && self.bias >= 0.0) {
            return invalid("bias", format!("must be a finite number >= 0, got {}", self.bias));
        }
        if self.min_label_support == 0 {
            return invalid("min_label_support", "must be at least 1".to_string());
        }
        Ok(())
    }

    /// Returns the solver settings these options select.
    pub fn solver_settings(&self) -> SolverSettings {
        SolverSettings {
            c: self.c,
            loss: self.loss,
            tolerance: self.tolerance,
            max_iter: self.max_iter,
            shrinking: self.shrinking,
            bias: self.bias,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        assert!(TrainConfig::default().validate().is_ok());
    }

    #[test]
    fn zero_cost_is_rejected() {
        let error = TrainConfig { c: 0.0, ..TrainConfig::default() }.validate().unwrap_err();
        assert!(error.to_string().contains("`c`"), "{error}");
    }

    #[test]
    fn loss_reads_snake_case() {
        let config: TrainConfig = serde_json::from_str(r#"{"loss": "hinge", "c": 2.0}"#).unwrap();
        assert_eq!(config.loss, Loss::Hinge);
        assert_eq!(config.c, 2.0);
        assert_eq!(config.min_label_support, 5);
    }
}
