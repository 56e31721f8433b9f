//! Deterministic train / validation / test split, plus a second test set of whole venues held
//! out of every other split.
//!
//! Labels derived from a journal's ASJC codes make a random split optimistic: the model sees
//! other works of the same journal in training. Deployed models mostly meet venues never
//! seen (books, proceedings, journals outside Scopus), so a fraction of venues is held out
//! entirely and evaluated as its own test set.

use serde::{Deserialize, Serialize};

use corpus::Work;

/// The split a work belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Validation,
    Test,
    /// Works of venues held out of every other split.
    HeldoutVenues,
}

impl Split {
    pub const ALL: [Split; 4] = [Split::Train, Split::Validation, Split::Test, Split::HeldoutVenues];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
            Split::HeldoutVenues => "heldout_venues",
        }
    }
}

/// Fractions and seed of the split. Fractions of works for validation and test, fraction of
/// venues for the held-out-venue set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitConfig {
    pub validation_fraction: f64,
    pub test_fraction: f64,
    pub heldout_venue_fraction: f64,
    /// A venue holding more than this share of all works is never held out, because one
    /// giant venue would turn the held-out set into a single-journal test.
    pub heldout_max_venue_share: f64,
    pub seed: u64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            validation_fraction: 0.1,
            test_fraction: 0.1,
            heldout_venue_fraction: 0.1,
            heldout_max_venue_share: 0.05,
            seed: 42,
        }
    }
}

/// Errors in the split settings.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error(
        "invalid split fractions: validation {validation} + test {test} must be in [0, 1) and \
         the held-out venue fraction {venues} in [0, 1); fix [split] in topicops.toml"
    )]
    InvalidFractions { validation: f64, test: f64, venues: f64 },
}

/// Returns the venue key of a work: its first ISSN, else its lower-cased venue name, else
/// None (a work without a venue can never be held out by venue).
pub fn venue_key(work: &Work) -> Option<String> {
    if let Some(issn) = work.issns.first() {
        return Some(format!("issn:{issn}"));
    }
    let name = work.venue.as_deref()?.trim();
    if name.is_empty() {
        return None;
    }
    Some(format!("name:{}", name.to_lowercase()))
}

/// Maps a key and seed to a uniform number in [0, 1) with BLAKE3, stable across platforms
/// and releases.
fn unit_hash(seed: u64, domain: &str, key: &str) -> f64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    hasher.update(domain.as_bytes());
    hasher.update(&[0]);
    hasher.update(key.as_bytes());
    let bytes = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    // 53 high bits give an exactly representable fraction.
    (u64::from_le_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

/// Assigns every work to a split. The assignment of a work depends only on its identifier,
/// its venue, the seed and the fractions, and on the venue sizes for the share cap.
pub fn assign_splits(works: &[Work], config: &SplitConfig) -> Result<Vec<Split>, SplitError> {
    let random_fraction = config.validation_fraction + config.test_fraction;
    let valid_fraction = |f: f64| (0.0..1.0).contains(&f);
    if !valid_fraction(config.validation_fraction)
        || !valid_fraction(config.test_fraction)
        || !valid_fraction(random_fraction)
        || !valid_fraction(config.heldout_venue_fraction)
    {
        return Err(SplitError::InvalidFractions {
            validation: config.validation_fraction,
            test: config.test_fraction,
            venues: config.heldout_venue_fraction,
        });
    }

    let keys: Vec<Option<String>> = works.iter().map(venue_key).collect();
    let mut venue_sizes: rustc_hash::FxHashMap<&str, usize> = Default::default();
    for key in keys.iter().flatten() {
        *venue_sizes.entry(key.as_str()).or_default() += 1;
    }
    let max_venue_works = config.heldout_max_venue_share * works.len() as f64;

    let splits = works
        .iter()
        .zip(&keys)
        .map(|(work, key)| {
            if let Some(key) = key {
                let small_enough = venue_sizes[key.as_str()] as f64 <= max_venue_works;
                let held_out = unit_hash(config.seed, "venue", key) < config.heldout_venue_fraction;
                if small_enough && held_out {
                    return Split::HeldoutVenues;
                }
            }
            let draw = unit_hash(config.seed, "work", &work.id);
            if draw < config.validation_fraction {
                Split::Validation
            } else if draw < random_fraction {
                Split::Test
            } else {
                Split::Train
            }
        })
        .collect();
    Ok(splits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(id: &str, issn: Option<&str>, venue: Option<&str>) -> Work {
        Work {
            id: id.to_string(),
            issns: issn.map(|i| vec![i.to_string()]).unwrap_or_default(),
            venue: venue.map(str::to_string),
            ..Work::default()
        }
    }

    #[test]
    fn split_is_deterministic_and_seeded() {
        let works: Vec<Work> = (0..2000).map(|i| work(&format!("10.1/{i}"), None, None)).collect();
        let config = SplitConfig::default();
        let first = assign_splits(&works, &config).unwrap();
        let second = assign_splits(&works, &config).unwrap();
        assert_eq!(first, second);

        let reseeded = assign_splits(&works, &SplitConfig { seed: 7, ..config }).unwrap();
        assert_ne!(first, reseeded);
    }

    #[test]
    fn split_fractions_are_close_to_config() {
        let works: Vec<Work> = (0..20_000).map(|i| work(&format!("10.1/{i}"), None, None)).collect();
        let splits = assign_splits(&works, &SplitConfig::default()).unwrap();
        let count = |s: Split| splits.iter().filter(|&&x| x == s).count() as f64 / 20_000.0;
        // Binomial standard deviation at n = 20,000 and p = 0.1 is 0.0021; allow 4 sigma.
        assert!((count(Split::Validation) - 0.1).abs() < 0.0085);
        assert!((count(Split::Test) - 0.1).abs() < 0.0085);
        assert_eq!(count(Split::HeldoutVenues), 0.0);
    }

    #[test]
    fn heldout_venue_is_never_split() {
        // 200 venues of 10 works each; every venue is either wholly held out or wholly not.
        let works: Vec<Work> = (0..2000)
            .map(|i| work(&format!("10.1/{i}"), Some(&format!("{:08}", i / 10)), None))
            .collect();
        let splits = assign_splits(&works, &SplitConfig::default()).unwrap();
        let mut heldout_venues = 0;
        for venue in 0..200 {
            let venue_splits = &splits[venue * 10..venue * 10 + 10];
            let held = venue_splits.iter().filter(|&&s| s == Split::HeldoutVenues).count();
            assert!(held == 0 || held == 10, "venue {venue} straddles splits");
            heldout_venues += usize::from(held == 10);
        }
        // 10% of 200 venues expected; binomial sd is 4.2.
        assert!((5..=35).contains(&heldout_venues), "{heldout_venues} venues held out");
    }

    #[test]
    fn giant_venue_is_not_held_out() {
        let mut works: Vec<Work> = (0..100)
            .map(|i| work(&format!("10.1/{i}"), None, Some(&format!("Venue {i}"))))
            .collect();
        for i in 0..100 {
            works.push(work(&format!("10.2/{i}"), None, Some("Giant")));
        }
        let config = SplitConfig { heldout_venue_fraction: 0.999_999, ..SplitConfig::default() };
        let splits = assign_splits(&works, &config).unwrap();
        assert!(splits[100..].iter().all(|&s| s != Split::HeldoutVenues));
        assert!(splits[..100].iter().all(|&s| s == Split::HeldoutVenues));
    }

    #[test]
    fn venue_key_prefers_issn() {
        assert_eq!(venue_key(&work("a", Some("12345678"), Some("J"))).as_deref(), Some("issn:12345678"));
        assert_eq!(venue_key(&work("a", None, Some(" Journal X "))).as_deref(), Some("name:journal x"));
        assert_eq!(venue_key(&work("a", None, Some("  "))), None);
    }

    #[test]
    fn invalid_fractions_are_rejected() {
        let config = SplitConfig { validation_fraction: 0.6, test_fraction: 0.5, ..SplitConfig::default() };
        assert!(assign_splits(&[], &config).is_err());
    }
}
