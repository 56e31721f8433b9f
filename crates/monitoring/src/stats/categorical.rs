//! Tests on category counts, as Evidently applies them to categorical features of small
//! reference samples: Pearson's chi-squared goodness-of-fit of the current counts against the
//! reference shares (SciPy's `chisquare(f_obs, f_exp)` with `f_exp` the reference counts scaled
//! to the current total), and the two-proportion z-test for two categories.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// Returns the p-value of the chi-squared goodness-of-fit test of `current` counts against
/// `reference` counts over the same categories. A category seen only in the current batch has
/// an expected count of 0 and makes the statistic infinite, so the p-value is 0. `None` when
/// either side has no values. With a single category the p-value is 1.
pub fn chi_squared_p_value(reference: &[u64], current: &[u64]) -> Option<f64> {
    let (statistic, degrees_of_freedom) = chi_squared_statistic(reference, current)?;
    if degrees_of_freedom == 0 {
        return Some(1.0);
    }
    if statistic.is_infinite() {
        return Some(0.0);
    }
    let distribution = ChiSquared::new(degrees_of_freedom as f64).ok()?;
    Some(distribution.sf(statistic).clamp(0.0, 1.0))
}

/// Returns the chi-squared statistic and its degrees of freedom (categories present on either
/// side, minus one).
pub fn chi_squared_statistic(reference: &[u64], current: &[u64]) -> Option<(f64, usize)> {
    let reference_total: u64 = reference.iter().sum();
    let current_total: u64 = current.iter().sum();
    if reference.len() != current.len() || reference_total == 0 || current_total == 0 {
        return None;
    }
    let scale = current_total as f64 / reference_total as f64;
    let mut statistic = 0.0;
    let mut categories = 0usize;
    for (&expected_count, &observed) in reference.iter().zip(current) {
        if expected_count == 0 && observed == 0 {
            continue;
        }
        categories += 1;
        let expected = expected_count as f64 * scale;
        if expected == 0.0 {
            statistic = f64::INFINITY;
            continue;
        }
        statistic += (observed as f64 - expected).powi(2) / expected;
    }
    Some((statistic, categories.saturating_sub(1)))
}

/// Returns the two-sided p-value of the two-proportion z-test on a feature with at most two
/// categories: the share of the first category (in `counts` order) in the reference against
/// the current batch, with the pooled share in the standard error. The p-value is 1 when both
/// sides contain only the same single category. `None` when either side has no values.
pub fn two_proportion_z_p_value(reference: &[u64], current: &[u64]) -> Option<f64> {
    let reference_total: u64 = reference.iter().sum();
    let current_total: u64 = current.iter().sum();
    if reference.len() != current.len() || reference_total == 0 || current_total == 0 {
        return None;
    }
    let present: Vec<usize> = (0..reference.len()).filter(|&i| reference[i] + current[i] > 0).collect();
    if present.len() <= 1 {
        return Some(1.0);
    }
    let first = present[0];
    let (n1, n2) = (reference_total as f64, current_total as f64);
    // Evidently codes the first category as 0 and every other as 1.
    let p1 = (reference_total - reference[first]) as f64 / n1;
    let p2 = (current_total - current[first]) as f64 / n2;
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if standard_error == 0.0 {
        return Some(1.0);
    }
    let z = (p1 - p2) / standard_error;
    let normal = Normal::new(0.0, 1.0).ok()?;
    Some((2.0 * normal.sf(z.abs())).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        assert!(((actual - expected) / expected).abs() <= relative, "actual {actual:e}, expected {expected:e}");
    }

    // python3 -c "from scipy.stats import chisquare, norm; import numpy as np
    //   r = np.array([50, 30, 20]); c = np.array([20, 25, 15])
    //   print(repr(chisquare(c, r * c.sum() / r.sum()).pvalue))
    //   p1, p2 = 30 / 100, 45 / 60; P = (30 + 45) / 160
    //   z = (p1 - p2) / np.sqrt(P * (1 - P) * (1 / 100 + 1 / 60)); print(repr(2 * (1 - norm.cdf(abs(z)))))"
    #[test]
    fn chi_squared_matches_scipy() {
        let p = chi_squared_p_value(&[50, 30, 20], &[20, 25, 15]).unwrap();
        assert_close(p, CHI_SQUARED_P, 1e-9);
    }

    #[test]
    fn new_category_gives_zero_p_value() {
        assert_eq!(chi_squared_p_value(&[10, 10, 0], &[5, 5, 1]), Some(0.0));
    }

    #[test]
    fn single_category_is_no_drift() {
        assert_eq!(chi_squared_p_value(&[10, 0], &[4, 0]), Some(1.0));
        assert_eq!(two_proportion_z_p_value(&[10, 0], &[4, 0]), Some(1.0));
    }

    #[test]
    fn empty_side_is_not_testable() {
        assert_eq!(chi_squared_p_value(&[0, 0], &[1, 2]), None);
        assert_eq!(two_proportion_z_p_value(&[3, 1], &[0, 0]), None);
    }

    #[test]
    fn z_test_matches_scipy() {
        // Reference: 70 of category A, 30 of B; current: 15 of A, 45 of B.
        let p = two_proportion_z_p_value(&[70, 30], &[15, 45]).unwrap();
        assert_close(p, Z_TEST_P, 1e-6);
    }

    const CHI_SQUARED_P: f64 = 0.033280695068423294;
    // NumPy computes 1 - cdf, which loses about 1e-9 of relative precision at this size.
    const Z_TEST_P: f64 = 3.348803723213223e-08;
}
