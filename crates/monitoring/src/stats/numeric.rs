//! Distances between numeric samples: the first Wasserstein distance (SciPy's
//! `wasserstein_distance`) and its normalised form used for drift, and the population standard
//! deviation (NumPy's `np.std`, `ddof=0`).

/// Floor of the normalising standard deviation, so a constant reference does not divide by 0
/// (Evidently's `max(np.std(reference), 0.001)`).
pub const MIN_NORMALISING_STD: f64 = 0.001;

/// Returns the first Wasserstein (earth mover's) distance between two samples with equal
/// weights: the integral of `|F_a(x) - F_b(x)|` over `x`. `None` when a sample is empty.
pub fn wasserstein_distance(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut sorted_a = a.to_vec();
    let mut sorted_b = b.to_vec();
    sorted_a.sort_by(f64::total_cmp);
    sorted_b.sort_by(f64::total_cmp);
    Some(wasserstein_distance_sorted(&sorted_a, &sorted_b))
}

/// As [`wasserstein_distance`] for samples sorted ascending and not empty. Walks the pooled
/// values once, adding `|F_a - F_b| * (x_next - x)` for each gap between consecutive values.
pub fn wasserstein_distance_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (m, n) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut distance = 0.0;
    let mut position = if a[0] <= b[0] { a[0] } else { b[0] };
    while i < a.len() || j < b.len() {
        while i < a.len() && a[i] <= position {
            i += 1;
        }
        while j < b.len() && b[j] <= position {
            j += 1;
        }
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        distance += (i as f64 / m - j as f64 / n).abs() * (next - position);
        position = next;
    }
    distance
}

/// Returns the population standard deviation (`ddof = 0`), or `None` for an empty sample.
pub fn population_std(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    let variance = values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / count;
    Some(variance.sqrt())
}

/// Returns the Wasserstein distance divided by `max(reference_std, 0.001)`.
pub fn normalised_wasserstein(reference_sorted: &[f64], current_sorted: &[f64], reference_std: f64) -> f64 {
    wasserstein_distance_sorted(reference_sorted, current_sorted) / reference_std.max(MIN_NORMALISING_STD)
}

#[cfg(test)]
mod tests {
    use super::*;

    // python3 -c "from scipy.stats import wasserstein_distance as w; import numpy as np
    //   print(repr(w([0, 1, 3], [5, 6, 8])), repr(w([0, 1], [0, 1, 1, 1])),
    //         repr(w([3.4, 3.9, 7.5, 7.8], [4.5, 1.4])),
    //         repr(np.std([3.4, 3.9, 7.5, 7.8])))"
    // prints 5.0 0.25 2.7 2.01059692628831
    #[test]
    fn wasserstein_matches_scipy() {
        assert!((wasserstein_distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]).unwrap() - 5.0).abs() < 1e-12);
        assert!((wasserstein_distance(&[0.0, 1.0], &[0.0, 1.0, 1.0, 1.0]).unwrap() - 0.25).abs() < 1e-12);
        assert!((wasserstein_distance(&[3.4, 3.9, 7.5, 7.8], &[4.5, 1.4]).unwrap() - 2.7).abs() < 1e-12);
    }

    #[test]
    fn std_is_population_std() {
        let std = population_std(&[3.4, 3.9, 7.5, 7.8]).unwrap();
        assert!((std - 2.01059692628831).abs() < 1e-12);
    }

    #[test]
    fn constant_reference_uses_std_floor() {
        // W([2, 2], [2, 3]) = 0.5; divided by the floor 0.001 gives 500.
        let value = normalised_wasserstein(&[2.0, 2.0], &[2.0, 3.0], 0.0);
        assert!((value - 500.0).abs() < 1e-9);
    }

    #[test]
    fn empty_sample_has_no_distance() {
        assert!(wasserstein_distance(&[], &[1.0]).is_none());
        assert!(population_std(&[]).is_none());
    }
}
