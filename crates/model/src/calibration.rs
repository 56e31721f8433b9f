//! Per-label score calibration and decision thresholds, fitted on validation decision values.
//!
//! Scores are Platt's sigmoid `p = 1 / (1 + exp(A f + B))` of the decision value `f`, fitted
//! by the Newton method with backtracking line search of Lin, Lin and Weng, "A note on Platt's
//! probabilistic outputs for support vector machines" (Machine Learning 68, 2007), on
//! regularised targets `(N₊ + 1) / (N₊ + 2)` and `1 / (N₋ + 2)`. A fitted `A < 0` makes the
//! score increase with the decision value. When the validation split cannot support a fit
//! (no positive or no negative works) or the fit is not increasing (`A >= 0`), the
//! fallback `A = -2, B = 0` is used, which maps decision value 0 to score 0.5.
//!
//! The threshold is then chosen on the score scale to maximise the label's F1 on the
//! validation works. With no validation positive it is the score of decision value 0.

use serde::{Deserialize, Serialize};

/// Platt slope of the fallback sigmoid.
const FALLBACK_A: f64 = -2.0;
const NEWTON_MAX_ITERATIONS: usize = 100;
const LINE_SEARCH_MIN_STEP: f64 = 1e-10;
/// Added to the Hessian diagonal so it stays positive definite.
const HESSIAN_RIDGE: f64 = 1e-12;

/// Parameters of `p = 1 / (1 + exp(a f + b))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Platt {
    pub const FALLBACK: Platt = Platt { a: FALLBACK_A, b: 0.0 };

    /// Score of decision value `f`, computed without overflow.
    pub fn score(&self, f: f64) -> f64 {
        let z = self.a * f + self.b;
        if z >= 0.0 {
            let e = (-z).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + z.exp())
        }
    }
}

/// Fits Platt's sigmoid to decision values and binary outcomes. Returns `None` when there is
/// no positive or no negative outcome.
pub fn fit_platt(decision_values: &[f64], positive: &[bool]) -> Option<Platt> {
    debug_assert_eq!(decision_values.len(), positive.len());
    let positives = positive.iter().filter(|&&p| p).count() as f64;
    let negatives = positive.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let high_target = (positives + 1.0) / (positives + 2.0);
    let low_target = 1.0 / (negatives + 2.0);
    let targets: Vec<f64> = positive.iter().map(|&p| if p { high_target } else { low_target }).collect();

    // Negative log-likelihood of targets t under p(f), written to avoid overflow.
    let objective = |a: f64, b: f64| -> f64 {
        decision_values
            .iter()
            .zip(&targets)
            .map(|(&f, &t)| {
                let z = f * a + b;
                if z >= 0.0 {
                    t * z + (-z).exp().ln_1p()
                } else {
                    (t - 1.0) * z + z.exp().ln_1p()
                }
            })
            .sum()
    };

    let mut a = 0.0;
    let mut b = ((negatives + 1.0) / (positives + 1.0)).ln();
    let mut value = objective(a, b);
    for _ in 0..NEWTON_MAX_ITERATIONS {
        // Gradient (g1, g2) and Hessian [[h11, h21], [h21, h22]] with respect to (a, b).
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (HESSIAN_RIDGE, HESSIAN_RIDGE, 0.0, 0.0, 0.0);
        for (&f, &t) in decision_values.iter().zip(&targets) {
            let p = Platt { a, b }.score(f);
            let q = 1.0 - p;
            let d2 = p * q;
            h11 += f * f * d2;
            h22 += d2;
            h21 += f * d2;
            let d1 = t - p;
            g1 += f * d1;
            g2 += d1;
        }
        if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
            break;
        }

        let determinant = h11 * h22 - h21 * h21;
        let delta_a = -(h22 * g1 - h21 * g2) / determinant;
        let delta_b = -(-h21 * g1 + h11 * g2) / determinant;
        let directional = g1 * delta_a + g2 * delta_b;

        let mut step = 1.0;
        while step >= LINE_SEARCH_MIN_STEP {
            let (new_a, new_b) = (a + step * delta_a, b + step * delta_b);
            let new_value = objective(new_a, new_b);
            if new_value < value + 1e-4 * step * directional {
                (a, b, value) = (new_a, new_b, new_value);
                break;
            }
            step /= 2.0;
        }
        if step < LINE_SEARCH_MIN_STEP {
            break;
        }
    }
    Some(Platt { a, b })
}

/// Calibration of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelCalibration {
    pub platt: Platt,
    /// A work gets the label when its score is at least this.
    pub threshold: f64,
    /// F1 on the validation works at `threshold`, when the label has validation positives.
    pub validation_f1: Option<f64>,
    /// Reason a fallback was used, if one was.
    pub note: Option<String>,
}

/// Fits the sigmoid and chooses the F1-maximising threshold for one label.
pub fn calibrate_label(decision_values: &[f64], positive: &[bool]) -> LabelCalibration {
    let positives = positive.iter().filter(|&&p| p).count();
    let (platt, mut note) = match fit_platt(decision_values, positive) {
        Some(platt) if platt.a < 0.0 => (platt, None),
        Some(platt) => (
            Platt::FALLBACK,
            Some(format!("sigmoid fit not increasing (A = {:.4}); fallback sigmoid used", platt.a)),
        ),
        None if decision_values.is_empty() => (Platt::FALLBACK, Some("no validation works; fallback sigmoid used".to_string())),
        None => (
            Platt::FALLBACK,
            Some(format!("validation has {positives} positive of {} works; fallback sigmoid used", positive.len())),
        ),
    };

    if positives == 0 {
        let reason = "no validation positives; threshold at decision value 0";
        note = Some(match note {
            Some(previous) => format!("{previous}; {reason}"),
            None => reason.to_string(),
        });
        return LabelCalibration { platt, threshold: platt.score(0.0), validation_f1: None, note };
    }

    let scores: Vec<f64> = decision_values.iter().map(|&f| platt.score(f)).collect();
    let (threshold, f1) = best_f1_threshold(&scores, positive);
    LabelCalibration { platt, threshold, validation_f1: Some(f1), note }
}

/// Returns the threshold `t` maximising F1 of the rule `score >= t`, and that F1.
///
/// Candidate rules take the `k` highest scores, with tied scores always taken together. The
/// threshold lies halfway between the lowest score taken and the highest score left out
/// (or equals the lowest score when all are taken). Ties in F1 keep the higher threshold.
pub fn best_f1_threshold(scores: &[f64], positive: &[bool]) -> (f64, f64) {
    let total_positives = positive.iter().filter(|&&p| p).count() as f64;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));

    let mut best = (f64::INFINITY, 0.0);
    let mut true_positives = 0.0;
    let mut position = 0;
    while position < order.len() {
        let group_score = scores[order[position]];
        while position < order.len() && scores[order[position]] == group_score {
            if positive[order[position]] {
                true_positives += 1.0;
            }
            position += 1;
        }
        let predicted = position as f64;
        let f1 = 2.0 * true_positives / (predicted + total_positives);
        if f1 > best.1 {
            let threshold = match order.get(position) {
                Some(&next) => 0.5 * (group_score + scores[next]),
                None => group_score,
            };
            best = (threshold, f1);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_monotone_and_bounded() {
        let platt = Platt { a: -3.0, b: 0.5 };
        let mut previous = 0.0;
        for step in -40..=40 {
            let score = platt.score(f64::from(step) * 50.0);
            assert!((0.0..=1.0).contains(&score));
            assert!(score >= previous);
            previous = score;
        }
    }

    // Reference: scikit-learn 1.x, whose sigmoid calibration minimises the same regularised
    // log-loss:
    //   import numpy as np
    //   from sklearn.calibration import _sigmoid_calibration
    //   a, b = _sigmoid_calibration(np.array([-2., -1.5, -1., -0.5, 0.2, 0.3, 0.5, 1., 1.5, -0.2]),
    //                        np.array([0, 0, 0, 1, 0, 1, 1, 1, 1, 0]))
    #[test]
    fn platt_matches_scikit_learn() {
        let decision_values = [-2.0, -1.5, -1.0, -0.5, 0.2, 0.3, 0.5, 1.0, 1.5, -0.2];
        let positive = [false, false, false, true, false, true, true, true, true, false];
        let platt = fit_platt(&decision_values, &positive).unwrap();
        assert!((platt.a - PLATT_A_REFERENCE).abs() < 1e-3, "{platt:?}");
        assert!((platt.b - PLATT_B_REFERENCE).abs() < 1e-3, "{platt:?}");
    }
    // scikit-learn 1.9.1 output.
    const PLATT_A_REFERENCE: f64 = -1.192962674116032;
    const PLATT_B_REFERENCE: f64 = -0.17475884501361738;

    #[test]
    fn single_class_has_no_platt_fit() {
        assert_eq!(fit_platt(&[0.1, 0.2], &[false, false]), None);
        assert_eq!(fit_platt(&[], &[]), None);
    }

    // Scores 0.9 (+), 0.8 (−), 0.7 (+), 0.2 (−), 2 positives. Taking the top 1: F1 = 2/3;
    // top 2: 2·1/(2+2) = 0.5; top 3: 2·2/(3+2) = 0.8; top 4: 4/6. Best: top 3, threshold
    // halfway between 0.7 and 0.2.
    #[test]
    fn threshold_maximises_f1_by_hand() {
        let (threshold, f1) = best_f1_threshold(&[0.9, 0.8, 0.7, 0.2], &[true, false, true, false]);
        assert!((threshold - 0.45).abs() < 1e-12);
        assert!((f1 - 0.8).abs() < 1e-12);
    }

    #[test]
    fn tied_scores_are_taken_together() {
        // Taking the tied pair gives TP 1 of 2 predicted: F1 = 2/(2+1); nothing better exists.
        let (threshold, f1) = best_f1_threshold(&[0.5, 0.5, 0.1], &[true, false, false]);
        assert!((threshold - 0.3).abs() < 1e-12);
        assert!((f1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn no_validation_positive_falls_back_to_zero() {
        let calibration = calibrate_label(&[-1.0, -0.5, 0.3], &[false, false, false]);
        assert_eq!(calibration.platt, Platt::FALLBACK);
        assert_eq!(calibration.threshold, 0.5);
        assert_eq!(calibration.validation_f1, None);
        assert!(calibration.note.unwrap().contains("no validation positives"));
    }
}
