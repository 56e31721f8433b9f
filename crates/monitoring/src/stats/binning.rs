//! Turning two samples into matched proportion vectors, as Evidently's `get_binned_data` does
//! before Jensen-Shannon and PSI: numeric samples with more than 20 distinct reference values
//! are cut into Sturges bins over the pooled values, anything else is counted per distinct
//! value. The distances themselves (SciPy's `jensenshannon`, Evidently's PSI) live here too.

use rustc_hash::FxHashMap;

/// Distinct reference values above which a numeric sample is binned rather than counted per
/// value.
pub const MAX_DISTINCT_FOR_COUNTING: usize = 20;

/// Proportions of reference and current values in the same buckets, in bucket order.
#[derive(Debug, Clone, PartialEq)]
pub struct Proportions {
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// Logarithm base of the Jensen-Shannon distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogBase {
    /// Natural logarithm: SciPy's default and Evidently's, so the distance lies in
    /// `[0, sqrt(ln 2)]`, about `[0, 0.833]`.
    E,
    /// Base 2: the distance lies in `[0, 1]`.
    Two,
}

/// Returns the proportions of two numeric samples in common buckets. Empty samples give
/// empty proportion vectors.
pub fn numeric_proportions(reference: &[f64], current: &[f64]) -> Proportions {
    if reference.is_empty() || current.is_empty() {
        return Proportions { reference: Vec::new(), current: Vec::new() };
    }
    if count_distinct(reference) > MAX_DISTINCT_FOR_COUNTING {
        let edges = sturges_edges(reference, current);
        Proportions { reference: histogram(reference, &edges), current: histogram(current, &edges) }
    } else {
        value_proportions(reference, current)
    }
}

fn count_distinct(values: &[f64]) -> usize {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    sorted.len()
}

/// Bin edges of NumPy's `histogram_bin_edges(pooled, bins="sturges")`: `ceil(log2(n)) + 1`
/// equal bins from the pooled minimum to the pooled maximum (widened by 0.5 on each side when
/// they are equal).
pub fn sturges_edges(reference: &[f64], current: &[f64]) -> Vec<f64> {
    let pooled = reference.len() + current.len();
    let bins = ((pooled as f64).log2() + 1.0).ceil().max(1.0) as usize;
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for &value in reference.iter().chain(current) {
        low = low.min(value);
        high = high.max(value);
    }
    if low == high {
        low -= 0.5;
        high += 0.5;
    }
    (0..=bins).map(|i| low + (high - low) * i as f64 / bins as f64).collect()
}

/// Returns the share of `values` in each bin of `edges` (NumPy's `histogram` divided by the
/// sample size): bins are half-open `[e_i, e_{i+1})` except the last, which is closed.
pub fn histogram(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len() - 1;
    let mut counts = vec![0u64; bins];
    let (low, high) = (edges[0], edges[bins]);
    for &value in values {
        if !(low..=high).contains(&value) {
            continue;
        }
        let mut index = (((value - low) / (high - low)) * bins as f64) as usize;
        index = index.min(bins - 1);
        // The division can land one bin off; the edges decide.
        if value < edges[index] {
            index -= 1;
        } else if index + 1 < bins && value >= edges[index + 1] {
            index += 1;
        }
        counts[index] += 1;
    }
    let total = values.len() as f64;
    counts.into_iter().map(|count| count as f64 / total).collect()
}

/// Proportions of each distinct value in either sample.
fn value_proportions(reference: &[f64], current: &[f64]) -> Proportions {
    let mut keys: Vec<u64> = reference.iter().chain(current).map(|value| value.to_bits()).collect();
    keys.sort_unstable();
    keys.dedup();
    let index: FxHashMap<u64, usize> = keys.iter().enumerate().map(|(i, key)| (*key, i)).collect();
    let shares = |values: &[f64]| {
        let mut counts = vec![0.0; keys.len()];
        for value in values {
            counts[index[&value.to_bits()]] += 1.0;
        }
        counts.iter().map(|count| count / values.len() as f64).collect()
    };
    Proportions { reference: shares(reference), current: shares(current) }
}

/// Returns proportions of two count vectors over the same categories.
pub fn count_proportions(reference: &[u64], current: &[u64]) -> Proportions {
    let share = |counts: &[u64]| {
        let total: u64 = counts.iter().sum();
        counts.iter().map(|&count| if total == 0 { 0.0 } else { count as f64 / total as f64 }).collect()
    };
    Proportions { reference: share(reference), current: share(current) }
}

/// Returns SciPy's `jensenshannon(p, q, base)`: each vector is normalised to sum 1, then
/// `sqrt((KL(p || m) + KL(q || m)) / 2)` with `m = (p + q) / 2`. `None` when a vector sums
/// to zero.
pub fn jensen_shannon_distance(p: &[f64], q: &[f64], base: LogBase) -> Option<f64> {
    let p_total: f64 = p.iter().sum();
    let q_total: f64 = q.iter().sum();
    if p.len() != q.len() || p_total <= 0.0 || q_total <= 0.0 {
        return None;
    }
    let mut divergence = 0.0;
    for (&p_raw, &q_raw) in p.iter().zip(q) {
        let p_value = p_raw / p_total;
        let q_value = q_raw / q_total;
        let middle = (p_value + q_value) / 2.0;
        divergence += relative_entropy(p_value, middle) + relative_entropy(q_value, middle);
    }
    if base == LogBase::Two {
        divergence /= std::f64::consts::LN_2;
    }
    Some((divergence / 2.0).max(0.0).sqrt())
}

fn relative_entropy(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Replaces zero proportions as Evidently does before PSI: by the smallest non-zero
/// proportion divided by 10^6 when that is at most 0.0001, else by 0.0001.
pub fn fill_zeroes(proportions: &mut [f64]) {
    let smallest = proportions.iter().copied().filter(|value| *value != 0.0).fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return;
    }
    let fill = if smallest <= 0.0001 { smallest / 1e6 } else { 0.0001 };
    proportions.iter_mut().filter(|value| **value == 0.0).for_each(|value| *value = fill);
}

/// Returns the population stability index `sum (r - c) ln(r / c)` after [`fill_zeroes`] on
/// both sides. `None` for empty or mismatched vectors.
pub fn population_stability_index(proportions: &Proportions) -> Option<f64> {
    if proportions.reference.is_empty() || proportions.reference.len() != proportions.current.len() {
        return None;
    }
    let mut reference = proportions.reference.clone();
    let mut current = proportions.current.clone();
    fill_zeroes(&mut reference);
    fill_zeroes(&mut current);
    Some(reference.iter().zip(&current).map(|(r, c)| (r - c) * (r / c).ln()).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance, "actual {actual}, expected {expected}");
    }

    // python3 -c "from scipy.spatial.distance import jensenshannon as js
    //   print(repr(js([.5, .3, .2], [.2, .3, .5])), repr(js([.5, .3, .2], [.2, .3, .5], 2)),
    //         repr(js([1, 0], [0, 1])), repr(js([3, 1], [1, 1])))"
    #[test]
    fn jensen_shannon_matches_scipy() {
        let e = jensen_shannon_distance(&[0.5, 0.3, 0.2], &[0.2, 0.3, 0.5], LogBase::E).unwrap();
        assert_close(e, JS_E, 1e-14);
        let two = jensen_shannon_distance(&[0.5, 0.3, 0.2], &[0.2, 0.3, 0.5], LogBase::Two).unwrap();
        assert_close(two, JS_TWO, 1e-14);
        let disjoint = jensen_shannon_distance(&[1.0, 0.0], &[0.0, 1.0], LogBase::E).unwrap();
        assert_close(disjoint, JS_DISJOINT, 1e-14);
        let unnormalised = jensen_shannon_distance(&[3.0, 1.0], &[1.0, 1.0], LogBase::E).unwrap();
        assert_close(unnormalised, JS_UNNORMALISED, 1e-14);
    }

    #[test]
    fn zero_vector_has_no_distance() {
        assert!(jensen_shannon_distance(&[0.0, 0.0], &[1.0, 0.0], LogBase::E).is_none());
    }

    // The Evidently PSI recomputed with NumPy, zeroes filled with 0.0001:
    // python3 -c "import numpy as np; r = np.array([.4, .35, .25, 0]); c = np.array([.25, .25, .3, .2])
    //   r[r == 0] = 1e-4; print(repr(float(np.sum((r - c) * np.log(r / c)))))"
    #[test]
    fn psi_fills_zero_shares() {
        let proportions = Proportions { reference: vec![0.4, 0.35, 0.25, 0.0], current: vec![0.25, 0.25, 0.3, 0.2] };
        assert_close(population_stability_index(&proportions).unwrap(), PSI_FILLED, 1e-12);
    }

    // python3 -c "import numpy as np; a = np.arange(30.0); b = np.arange(10.0, 50.0)
    //   e = np.histogram_bin_edges(np.concatenate([a, b]), bins='sturges')
    //   print(len(e) - 1, list(np.histogram(a, e)[0]), list(np.histogram(b, e)[0]))"
    #[test]
    fn sturges_bins_match_numpy() {
        let reference: Vec<f64> = (0..30).map(f64::from).collect();
        let current: Vec<f64> = (10..50).map(f64::from).collect();
        let proportions = numeric_proportions(&reference, &current);
        let reference_counts: Vec<f64> = proportions.reference.iter().map(|share| (share * 30.0).round()).collect();
        let current_counts: Vec<f64> = proportions.current.iter().map(|share| (share * 40.0).round()).collect();
        assert_eq!(reference_counts, STURGES_REFERENCE.to_vec());
        assert_eq!(current_counts, STURGES_CURRENT.to_vec());
    }

    #[test]
    fn few_distinct_values_are_counted() {
        // Reference {1: 2, 2: 1}, current {2: 1, 3: 1}; keys sorted 1, 2, 3.
        let proportions = numeric_proportions(&[1.0, 1.0, 2.0], &[2.0, 3.0]);
        assert_eq!(proportions.reference, vec![2.0 / 3.0, 1.0 / 3.0, 0.0]);
        assert_eq!(proportions.current, vec![0.0, 0.5, 0.5]);
    }

    const JS_E: f64 = 0.25770974832606103;
    const JS_TWO: f64 = 0.3095409536771482;
    const JS_DISJOINT: f64 = 0.8325546111576977;
    const JS_UNNORMALISED: f64 = 0.18390779094047432;
    const PSI_FILLED: f64 = 1.6326842475511418;
    const STURGES_REFERENCE: [f64; 8] = [7.0, 6.0, 6.0, 6.0, 5.0, 0.0, 0.0, 0.0];
    const STURGES_CURRENT: [f64; 8] = [0.0, 3.0, 6.0, 6.0, 6.0, 6.0, 6.0, 7.0];
}
