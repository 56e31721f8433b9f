//! The two-sample Kolmogorov-Smirnov test, two-sided, with the p-value chosen as SciPy's
//! `ks_2samp(a, b, method='auto')` chooses it: exact when both samples have at most 10,000
//! values, else the asymptotic distribution of `D_n` with `n = round(m n / (m + n))`.

use serde::{Deserialize, Serialize};

use super::kolmogorov::kolmogorov_sf;

/// Largest sample for which the exact p-value is computed, as in SciPy's `method='auto'`.
pub const MAX_EXACT_SAMPLE: usize = 10_000;

/// How a KS p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMethod {
    Exact,
    Asymptotic,
}

/// The outcome of a two-sample KS test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsResult {
    /// `max |F_a(x) - F_b(x)|` over the pooled values.
    pub statistic: f64,
    pub p_value: f64,
    pub method: KsMethod,
}

/// Runs the two-sided two-sample KS test on unsorted samples. Returns `None` when either
/// sample is empty. NaN values must have been removed by the caller.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Option<KsResult> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut sorted_a = a.to_vec();
    let mut sorted_b = b.to_vec();
    sorted_a.sort_by(f64::total_cmp);
    sorted_b.sort_by(f64::total_cmp);
    Some(ks_2samp_sorted(&sorted_a, &sorted_b))
}

/// As [`ks_2samp`], for samples already sorted ascending and not empty.
pub fn ks_2samp_sorted(a: &[f64], b: &[f64]) -> KsResult {
    let statistic = ks_statistic_sorted(a, b);
    let (m, n) = (a.len(), b.len());
    if m.max(n) <= MAX_EXACT_SAMPLE {
        let (rounded, p_value) = exact_p_value(m, n, statistic);
        return KsResult { statistic: rounded, p_value, method: KsMethod::Exact };
    }
    let (large, small) = (m.max(n) as f64, m.min(n) as f64);
    let effective_n = (large * small / (large + small)).round().max(1.0) as u64;
    KsResult { statistic, p_value: kolmogorov_sf(effective_n, statistic), method: KsMethod::Asymptotic }
}

/// Returns `max |F_a(x) - F_b(x)|`, with both empirical CDFs evaluated right-continuously at
/// every pooled value, so tied values move both CDFs before they are compared.
pub fn ks_statistic_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (m, n) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut statistic = 0.0f64;
    while i < a.len() && j < b.len() {
        let value = if a[i] <= b[j] { a[i] } else { b[j] };
        while i < a.len() && a[i] <= value {
            i += 1;
        }
        while j < b.len() && b[j] <= value {
            j += 1;
        }
        statistic = statistic.max((i as f64 / m - j as f64 / n).abs());
    }
    statistic
}

/// Returns the statistic rounded to the lattice `h / lcm(m, n)` as SciPy does, and
/// `P(D >= d)` under the null hypothesis.
///
/// Under the null hypothesis the pooled order is a uniformly random interleaving, a lattice
/// path from `(0, 0)` to `(m, n)`. At `(i, j)` the ECDF difference is `(i n - j m) / (m n)`,
/// so `D >= h / lcm` exactly when the path touches `|i n - j m| >= h gcd(m, n)`. The loop
/// carries the probability of each interior point (a step along `a` from `(i, j)` has
/// probability `(m - i) / (m + n - i - j)`) and adds up the probability of first reaching
/// the boundary. Summing small positive terms keeps tiny p-values accurate.
fn exact_p_value(m: usize, n: usize, statistic: f64) -> (f64, f64) {
    let divisor = gcd(m, n);
    let lcm = (m / divisor) as f64 * n as f64;
    let h = (statistic * lcm).round();
    let rounded = h / lcm;
    if h == 0.0 {
        return (rounded, 1.0);
    }
    let boundary = h as u128 * divisor as u128;
    let outside = |i: usize, j: usize| -> bool {
        let left = i as u128 * n as u128;
        let right = j as u128 * m as u128;
        left.abs_diff(right) >= boundary
    };

    // Row i holds the probability of each interior point (i, j); rows are indexed by j.
    let mut previous = vec![0.0f64; n + 1];
    let mut current = vec![0.0f64; n + 1];
    let mut exit_probability = 0.0;
    previous[0] = 1.0;
    for j in 1..=n {
        // Row 0: steps along b only.
        if outside(0, j) {
            exit_probability += previous[j - 1] * step_b(m, n, 0, j - 1);
            break;
        }
        previous[j] = previous[j - 1] * step_b(m, n, 0, j - 1);
    }
    for i in 1..=m {
        current.iter_mut().for_each(|value| *value = 0.0);
        for j in 0..=n {
            let from_left = previous[j] * step_a(m, n, i - 1, j);
            let from_below = if j > 0 { current[j - 1] * step_b(m, n, i, j - 1) } else { 0.0 };
            let arriving = from_left + from_below;
            if arriving == 0.0 {
                continue;
            }
            if outside(i, j) {
                exit_probability += arriving;
            } else {
                current[j] = arriving;
            }
        }
        std::mem::swap(&mut previous, &mut current);
    }
    (rounded, exit_probability.clamp(0.0, 1.0))
}

/// Probability that the path steps along `a` from `(i, j)`.
fn step_a(m: usize, n: usize, i: usize, j: usize) -> f64 {
    if i >= m {
        return 0.0;
    }
    (m - i) as f64 / (m + n - i - j) as f64
}

/// Probability that the path steps along `b` from `(i, j)`.
fn step_b(m: usize, n: usize, i: usize, j: usize) -> f64 {
    if j >= n {
        return 0.0;
    }
    (n - j) as f64 / (m + n - i - j) as f64
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        let scale = expected.abs().max(1e-300);
        assert!(((actual - expected) / scale).abs() <= relative, "actual {actual:e}, expected {expected:e}");
    }

    #[test]
    fn empty_sample_is_not_testable() {
        assert!(ks_2samp(&[], &[1.0]).is_none());
        assert!(ks_2samp(&[1.0], &[]).is_none());
    }

    #[test]
    fn statistic_counts_ties_on_both_sides() {
        // a = [1, 2, 2, 3], b = [2, 2, 4]: at x = 2, F_a = 3/4 and F_b = 2/3; at x = 1,
        // F_a = 1/4 and F_b = 0; at x = 3, F_a = 1 and F_b = 2/3, so D = 1/3.
        let d = ks_statistic_sorted(&[1.0, 2.0, 2.0, 3.0], &[2.0, 2.0, 4.0]);
        assert_close(d, 1.0 / 3.0, 1e-15);
    }

    // python3 -c "from scipy.stats import ks_2samp
    //   a = [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06,
    //        0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47]
    //   b = [2.26, 1.22, 2.08, 0.98, 0.84, 1.02, 1.9, 0.5, 1.84, 0.22, 1.34, 1.44, 1.12,
    //        0.47, 1.63, 0.85, 1.71, 0.23, 1.17, 1.76]
    //   r = ks_2samp(a, b); print(repr(r.statistic), repr(r.pvalue))
    //   r = ks_2samp(a[:20], b); print(repr(r.statistic), repr(r.pvalue))"
    const SAMPLE_A: [f64; 25] = [
        0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82,
        0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47,
    ];
    const SAMPLE_B: [f64; 20] = [
        2.26, 1.22, 2.08, 0.98, 0.84, 1.02, 1.9, 0.5, 1.84, 0.22, 1.34, 1.44, 1.12, 0.47, 1.63,
        0.85, 1.71, 0.23, 1.17, 1.76,
    ];

    #[test]
    fn exact_p_value_unequal_sizes() {
        let result = ks_2samp(&SAMPLE_A, &SAMPLE_B).unwrap();
        assert_eq!(result.method, KsMethod::Exact);
        assert_close(result.statistic, KS_UNEQUAL.0, 1e-12);
        assert_close(result.p_value, KS_UNEQUAL.1, 1e-9);
    }

    #[test]
    fn exact_p_value_equal_sizes() {
        let result = ks_2samp(&SAMPLE_A[..20], &SAMPLE_B).unwrap();
        assert_close(result.statistic, KS_EQUAL.0, 1e-12);
        assert_close(result.p_value, KS_EQUAL.1, 1e-9);
    }

    #[test]
    fn asymptotic_p_value_above_exact_limit() {
        // a: 12,000 values i / 12,000; b: 900 values (i + 0.5)^1.05 / 900^1.05.
        // python3 -c "import numpy as np; from scipy.stats import ks_2samp
        //   a = np.arange(12000) / 12000; b = (np.arange(900) + .5)**1.05 / 900**1.05
        //   r = ks_2samp(a, b); print(repr(r.statistic), repr(r.pvalue))"
        let a: Vec<f64> = (0..12_000).map(|i| i as f64 / 12_000.0).collect();
        let b: Vec<f64> = (0..900).map(|i| (i as f64 + 0.5).powf(1.05) / 900f64.powf(1.05)).collect();
        let result = ks_2samp(&a, &b).unwrap();
        assert_eq!(result.method, KsMethod::Asymptotic);
        assert_close(result.statistic, KS_ASYMPTOTIC.0, 1e-12);
        assert_close(result.p_value, KS_ASYMPTOTIC.1, 1e-8);
    }

    const KS_UNEQUAL: (f64, f64) = (0.52, 0.002933880974459243);
    const KS_EQUAL: (f64, f64) = (0.55, 0.00396729438660086);
    const KS_ASYMPTOTIC: (f64, f64) = (0.018500000000000016, 0.9317166543241611);
}
