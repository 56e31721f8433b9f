//! Bounded summaries of one feature over a stream of values: a numeric summary (exact count,
//! mean, standard deviation and range, plus a reservoir sample of the raw values) and a
//! categorical summary (exact counts of the most frequent categories, the rest pooled as
//! "other"). Both have a fixed maximum size whatever the stream length.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::stats::auc::SplitMix64;

/// The name of the pooled bucket of categories outside the kept top-k.
pub const OTHER_CATEGORY: &str = "(other)";

/// A uniform random sample of at most `capacity` items of a stream (Vitter's algorithm R,
/// seeded, so the same stream gives the same sample).
#[derive(Debug, Clone)]
pub struct Reservoir<T> {
    capacity: usize,
    seen: u64,
    items: Vec<T>,
    generator: SplitMix64,
}

impl<T> Reservoir<T> {
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self { capacity, seen: 0, items: Vec::with_capacity(capacity.min(4096)), generator: SplitMix64::new(seed) }
    }

    /// Returns the slot the next item of the stream goes to, or `None` when it is not
    /// sampled. Callers build the item only when a slot is returned, then call [`Self::put`].
    pub fn next_slot(&mut self) -> Option<usize> {
        self.seen += 1;
        if self.items.len() < self.capacity {
            return Some(self.items.len());
        }
        if self.capacity == 0 {
            return None;
        }
        let position = self.generator.below(self.seen) as usize;
        (position < self.capacity).then_some(position)
    }

    /// Stores `item` in a slot returned by [`Self::next_slot`].
    pub fn put(&mut self, slot: usize, item: T) {
        if slot == self.items.len() {
            self.items.push(item);
        } else {
            self.items[slot] = item;
        }
    }

    /// Offers one item of the stream.
    pub fn offer(&mut self, item: T) {
        if let Some(slot) = self.next_slot() {
            self.put(slot, item);
        }
    }

    pub fn into_items(self) -> Vec<T> {
        self.items
    }
}

/// Summary of a numeric feature: exact moments of every value seen and a sample of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Values present.
    pub count: u64,
    /// Rows where the value was missing.
    pub missing: u64,
    pub mean: Option<f64>,
    /// Population standard deviation (`ddof = 0`).
    pub std: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Uniform sample of the values; every value when `count` is at most the sample size.
    pub sample: Vec<f64>,
}

impl NumericSummary {
    /// Share of rows with a missing value (0 for an empty summary).
    pub fn missing_share(&self) -> f64 {
        share(self.missing, self.count + self.missing)
    }

    /// Summarises every value of a column in memory (`None` marks a missing value).
    pub fn from_values(values: &[Option<f64>]) -> Self {
        let mut accumulator = NumericAccumulator::new(usize::MAX, 0);
        for value in values {
            accumulator.observe(*value);
        }
        accumulator.finish()
    }
}

/// Builds a [`NumericSummary`] from a stream; Welford's update keeps the moments exact.
#[derive(Debug, Clone)]
pub struct NumericAccumulator {
    count: u64,
    missing: u64,
    mean: f64,
    sum_squared_deviations: f64,
    min: f64,
    max: f64,
    reservoir: Reservoir<f64>,
}

impl NumericAccumulator {
    pub fn new(sample_size: usize, seed: u64) -> Self {
        Self {
            count: 0,
            missing: 0,
            mean: 0.0,
            sum_squared_deviations: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            reservoir: Reservoir::new(sample_size, seed),
        }
    }

    /// Adds one value; `None`, NaN and infinities count as missing.
    pub fn observe(&mut self, value: Option<f64>) {
        let Some(value) = value.filter(|value| value.is_finite()) else {
            self.missing += 1;
            return;
        };
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.sum_squared_deviations += delta * (value - self.mean);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.reservoir.offer(value);
    }

    pub fn finish(self) -> NumericSummary {
        let present = self.count > 0;
        NumericSummary {
            count: self.count,
            missing: self.missing,
            mean: present.then_some(self.mean),
            std: present.then(|| (self.sum_squared_deviations / self.count as f64).max(0.0).sqrt()),
            min: present.then_some(self.min),
            max: present.then_some(self.max),
            sample: self.reservoir.into_items(),
        }
    }
}

/// Summary of a categorical feature: counts of the most frequent categories and one pooled
/// count for the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalSummary {
    pub count: u64,
    pub missing: u64,
    /// Kept categories with their counts, most frequent first (ties by name).
    pub top: Vec<(String, u64)>,
    /// Values in categories not kept.
    pub other: u64,
    /// Distinct categories seen, capped by the tracking limit of the accumulator.
    pub distinct: u64,
}

impl CategoricalSummary {
    pub fn missing_share(&self) -> f64 {
        share(self.missing, self.count + self.missing)
    }

    /// Summarises every value of a column in memory, keeping at most `top_k` categories.
    pub fn from_values(values: &[Option<&str>], top_k: usize) -> Self {
        let mut accumulator = CategoricalAccumulator::new(usize::MAX);
        for value in values {
            accumulator.observe(*value);
        }
        accumulator.finish(top_k)
    }

    /// Counts of `categories` in this summary, in that order; values outside them (including
    /// this summary's own "other" bucket) are added to the entry named [`OTHER_CATEGORY`] if
    /// `categories` has one.
    pub fn counts_for(&self, categories: &[String]) -> Vec<u64> {
        let known: BTreeMap<&str, u64> = self.top.iter().map(|(name, count)| (name.as_str(), *count)).collect();
        let mut counts = Vec::with_capacity(categories.len());
        let mut matched = 0;
        for category in categories {
            let count = known.get(category.as_str()).copied().unwrap_or(0);
            matched += count;
            counts.push(count);
        }
        if let Some(position) = categories.iter().position(|category| category == OTHER_CATEGORY) {
            counts[position] = self.count - matched;
        }
        counts
    }
}

/// Builds a [`CategoricalSummary`] from a stream. At most `max_tracked` distinct categories
/// are counted individually; values of later new categories go to the pooled bucket.
#[derive(Debug, Clone)]
pub struct CategoricalAccumulator {
    counts: FxHashMap<String, u64>,
    untracked: u64,
    missing: u64,
    max_tracked: usize,
}

impl CategoricalAccumulator {
    pub fn new(max_tracked: usize) -> Self {
        Self { counts: FxHashMap::default(), untracked: 0, missing: 0, max_tracked }
    }

    /// Adds one value; `None` and blank strings count as missing.
    pub fn observe(&mut self, value: Option<&str>) {
        let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
            self.missing += 1;
            return;
        };
        if let Some(count) = self.counts.get_mut(value) {
            *count += 1;
        } else if self.counts.len() < self.max_tracked {
            self.counts.insert(value.to_string(), 1);
        } else {
            self.untracked += 1;
        }
    }

    pub fn finish(self, top_k: usize) -> CategoricalSummary {
        let distinct = self.counts.len() as u64;
        let mut entries: Vec<(String, u64)> = self.counts.into_iter().collect();
        entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let kept = entries.len().min(top_k);
        let other = self.untracked + entries[kept..].iter().map(|(_, count)| count).sum::<u64>();
        entries.truncate(kept);
        let count = entries.iter().map(|(_, count)| count).sum::<u64>() + other;
        CategoricalSummary { count, missing: self.missing, top: entries, other, distinct }
    }
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_moments_are_exact() {
        // Values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population std 2.
        let values: Vec<Option<f64>> =
            [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].iter().map(|v| Some(*v)).chain([None, Some(f64::NAN)]).collect();
        let summary = NumericSummary::from_values(&values);
        assert_eq!(summary.count, 8);
        assert_eq!(summary.missing, 2);
        assert_eq!(summary.mean, Some(5.0));
        assert_eq!(summary.std, Some(2.0));
        assert_eq!(summary.min, Some(2.0));
        assert_eq!(summary.max, Some(9.0));
        assert_eq!(summary.sample.len(), 8);
    }

    #[test]
    fn reservoir_keeps_capacity_items() {
        let mut reservoir = Reservoir::new(100, 7);
        for value in 0..10_000u32 {
            reservoir.offer(value);
        }
        let items = reservoir.into_items();
        assert_eq!(items.len(), 100);
        // A uniform sample of 0..10,000 has a mean near 5,000 (standard error 289 for 100).
        let mean = items.iter().map(|&v| f64::from(v)).sum::<f64>() / 100.0;
        assert!((mean - 5000.0).abs() < 1200.0, "mean {mean}");
    }

    #[test]
    fn categories_beyond_top_k_are_pooled() {
        let values = [Some("a"), Some("b"), Some("a"), Some("c"), Some(" "), None, Some("a"), Some("b")];
        let summary = CategoricalSummary::from_values(&values, 2);
        assert_eq!(summary.top, vec![("a".to_string(), 3), ("b".to_string(), 2)]);
        assert_eq!(summary.other, 1);
        assert_eq!(summary.count, 6);
        assert_eq!(summary.missing, 2);
        assert_eq!(summary.distinct, 3);
    }

    #[test]
    fn counts_for_moves_unknown_to_other() {
        let summary = CategoricalSummary::from_values(&[Some("a"), Some("x"), Some("y"), Some("a")], 10);
        let categories = vec!["a".to_string(), "b".to_string(), OTHER_CATEGORY.to_string()];
        assert_eq!(summary.counts_for(&categories), vec![2, 0, 2]);
    }
}
