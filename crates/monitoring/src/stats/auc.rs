//! ROC AUC (scikit-learn's `roc_auc_score` for binary labels) and the null distribution of
//! the AUC of random scores, which decides text drift on small batches.

/// A SplitMix64 generator: small, seeded, and the same on every platform, so reservoir
/// samples, data splits and random-AUC thresholds are reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `[0, bound)`; `bound` must be positive.
    pub fn below(&mut self, bound: u64) -> u64 {
        // Multiply-shift keeps the bias below 2^-64 * bound, negligible for sample sizes.
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }
}

/// Returns the area under the ROC curve of `scores` for `labels` (true = positive class),
/// counting tied scores as half, which equals scikit-learn's `roc_auc_score`. `None` unless
/// both classes are present.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    if labels.len() != scores.len() {
        return None;
    }
    let positives = labels.iter().filter(|&&label| label).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));

    // Mann-Whitney: AUC = (sum of positive ranks - P (P + 1) / 2) / (P N), with tied scores
    // sharing their average rank.
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        positive_rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Returns the `quantile` (e.g. 0.95) of the AUCs that `iterations` vectors of uniform random
/// scores reach on `labels`, with NumPy's default linear interpolation between order
/// statistics. This is the chance level a domain classifier must beat on a small batch.
pub fn random_auc_quantile(labels: &[bool], quantile: f64, iterations: usize, seed: u64) -> Option<f64> {
    let mut generator = SplitMix64::new(seed);
    let mut aucs = Vec::with_capacity(iterations);
    let mut scores = vec![0.0; labels.len()];
    for _ in 0..iterations {
        scores.iter_mut().for_each(|score| *score = generator.next_f64());
        aucs.push(roc_auc(labels, &scores)?);
    }
    Some(percentile(&mut aucs, quantile))
}

/// NumPy's `np.percentile(values, 100 * quantile)` with linear interpolation.
pub fn percentile(values: &mut [f64], quantile: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let position = quantile.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let fraction = position - lower as f64;
    values[lower] + (values[upper] - values[lower]) * fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    // By hand: positives score 0.8, 0.4, 0.4; negatives 0.4, 0.1. Pairs (pos > neg) count 1,
    // ties 1/2: 0.8 beats both (2), each 0.4 ties 0.4 (0.5) and beats 0.1 (1), so
    // (2 + 1.5 + 1.5) / 6 = 5/6.
    #[test]
    fn auc_counts_ties_as_half() {
        let labels = [true, true, true, false, false];
        let scores = [0.8, 0.4, 0.4, 0.4, 0.1];
        assert!((roc_auc(&labels, &scores).unwrap() - 5.0 / 6.0).abs() < 1e-15);
    }

    // The AUC equals the Mann-Whitney U of the positives divided by P N:
    // python3 -c "from scipy.stats import mannwhitneyu
    //   pos = [0.9, 0.35, 0.7, 0.35, 0.62, 0.1, 0.81]; neg = [0.3, 0.35, 0.5, 0.2, 0.66, 0.05]
    //   print(repr(mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg))))"
    #[test]
    fn auc_matches_mann_whitney() {
        let scores = [0.9, 0.35, 0.7, 0.35, 0.62, 0.1, 0.81, 0.3, 0.35, 0.5, 0.2, 0.66, 0.05];
        let labels: Vec<bool> = (0..13).map(|i| i < 7).collect();
        assert!((roc_auc(&labels, &scores).unwrap() - 0.7380952380952381).abs() < 1e-15);
    }

    #[test]
    fn auc_needs_both_classes() {
        assert!(roc_auc(&[true, true], &[0.1, 0.2]).is_none());
    }

    #[test]
    fn percentile_interpolates_linearly() {
        // np.percentile([1, 2, 3, 4], 95) = 3 + 0.85 = 3.85
        assert!((percentile(&mut [4.0, 1.0, 3.0, 2.0], 0.95) - 3.85).abs() < 1e-12);
    }

    #[test]
    fn random_auc_threshold_exceeds_half() {
        // The AUC of random scores has mean 0.5 and, for 100 + 100 labels, standard deviation
        // sqrt((100 + 100 + 1) / (12 * 100 * 100)) = 0.0409; the 95th percentile is near
        // 0.5 + 1.645 * 0.0409 = 0.567.
        let labels: Vec<bool> = (0..200).map(|i| i % 2 == 0).collect();
        let threshold = random_auc_quantile(&labels, 0.95, 1000, 42).unwrap();
        assert!((threshold - 0.567).abs() < 0.01, "threshold {threshold}");
    }
}
