//! Fitting and transforming through the public API: TF-IDF values against scikit-learn,
//! metadata namespaces, empty and out-of-vocabulary documents, batch determinism and
//! rebuilding from saved parts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use corpus::Work;
use features::{EmptyReason, FeatureError, Featurizer, FeaturizerConfig, NamespaceConfig};

fn titled(title: &str) -> Work {
    Work { id: title.to_string(), title: Some(title.to_string()), ..Work::default() }
}

fn text_config(min_df: u32) -> FeaturizerConfig {
    FeaturizerConfig { min_df, stop_words: false, ..FeaturizerConfig::text_only() }
}

/// The work's vector as one value per vocabulary term, in alphabetical term order (the
/// column order of scikit-learn's vectorizer), zeros included.
fn dense(featurizer: &Featurizer, work: &Work) -> Vec<f32> {
    let mut by_term: BTreeMap<&str, f32> = featurizer.vocabulary().iter().map(|term| (term.as_str(), 0.0)).collect();
    for (index, value) in featurizer.transform(work).iter() {
        by_term.insert(&featurizer.vocabulary()[index as usize], value);
    }
    by_term.into_values().collect()
}

fn sorted_vocabulary(featurizer: &Featurizer) -> Vec<&str> {
    let mut terms: Vec<&str> = featurizer.vocabulary().iter().map(String::as_str).collect();
    terms.sort_unstable();
    terms
}

fn assert_close(actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len());
    for (position, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() < 1e-6, "entry {position}: {a} != {e}");
    }
}

fn corpus() -> Vec<Work> {
    vec![titled("soil fungi soil"), titled("soil roots"), titled("fungi roots growth roots")]
}

// Reference values from scikit-learn 1.x:
//   TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
//       .fit_transform(["soil fungi soil", "soil roots", "fungi roots growth roots"])
#[test]
fn tfidf_matches_scikit_learn_bigrams() {
    let works = corpus();
    let featurizer = Featurizer::fit(&works, &text_config(1)).unwrap();
    assert_eq!(
        sorted_vocabulary(&featurizer),
        ["fungi", "fungi roots", "fungi soil", "growth", "growth roots", "roots", "roots growth", "soil", "soil fungi", "soil roots"]
    );
    assert_close(&dense(&featurizer, &works[0]), &[0.3694954, 0.0, 0.4858421, 0.0, 0.0, 0.0, 0.0, 0.6256101, 0.4858421, 0.0]);
    assert_close(&dense(&featurizer, &works[1]), &[0.0, 0.0, 0.0, 0.0, 0.0, 0.5178561, 0.0, 0.5178561, 0.0, 0.6809186]);
    assert_close(
        &dense(&featurizer, &works[2]),
        &[0.3045388, 0.4004319, 0.0, 0.4004319, 0.4004319, 0.515629, 0.4004319, 0.0, 0.0, 0.0],
    );
}

// Same corpus, TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).
#[test]
fn min_df_prunes_rare_terms() {
    let works = corpus();
    let featurizer = Featurizer::fit(&works, &text_config(2)).unwrap();
    assert_eq!(sorted_vocabulary(&featurizer), ["fungi", "roots", "soil"]);
    assert_close(&dense(&featurizer, &works[0]), &[0.5085423, 0.0, 0.861037]);
    // scikit-learn prints 0.7071068 = 1/√2 for both words of "soil roots".
    let half = std::f32::consts::FRAC_1_SQRT_2;
    assert_close(&dense(&featurizer, &works[1]), &[0.0, half, half]);
}

fn with_venue(title: &str, venue: &str) -> Work {
    Work { venue: Some(venue.to_string()), ..titled(title) }
}

#[test]
fn venue_words_generalise_to_new_venue() {
    let works = [with_venue("soil fungi", "Soil Biology"), with_venue("soil roots", "Soil Biology")];
    let config = FeaturizerConfig { min_df: 2, ..FeaturizerConfig::default() };
    let featurizer = Featurizer::fit(&works, &config).unwrap();
    assert_eq!(sorted_vocabulary(&featurizer), ["soil", "venue:soil biology", "venue_word:biology", "venue_word:soil"]);

    // An unseen venue sharing a word: only the venue-word feature fires, not the venue name.
    let (vector, status) = featurizer.transform_with_status(&with_venue("", "Soil Research"));
    assert_eq!(vector.indices.len(), 1);
    assert_eq!(featurizer.vocabulary()[vector.indices[0] as usize], "venue_word:soil");
    assert_eq!(status.known_metadata_terms, 1);
    assert_eq!(status.empty_reason(), None);
}

#[test]
fn blocks_are_weighted_then_normalised() {
    // Text block: one feature; venue-name block: one feature with weight 0.6, the other
    // namespaces off. Values: 1 / sqrt(1 + 0.36) and 0.6 / sqrt(1 + 0.36).
    let works = [with_venue("soil", "Geoderma"), with_venue("soil", "Geoderma")];
    let config = FeaturizerConfig {
        min_df: 1,
        venue_name: NamespaceConfig::on(0.6),
        ..FeaturizerConfig::text_only()
    };
    let featurizer = Featurizer::fit(&works, &config).unwrap();
    assert_eq!(sorted_vocabulary(&featurizer), ["soil", "venue:geoderma"]);
    assert_close(&dense(&featurizer, &works[0]), &[0.857_492_9, 0.514_495_8]);
}

#[test]
fn frequent_terms_get_low_indices() {
    let works = [titled("rare common"), titled("common often"), titled("common often")];
    let featurizer = Featurizer::fit(&works, &text_config(1)).unwrap();
    // Document frequencies: common 3; "common often" and often 2; rare and "rare common" 1.
    // Equal frequencies go by text.
    assert_eq!(featurizer.vocabulary(), ["common", "common often", "often", "rare", "rare common"]);
}

#[test]
fn disabled_namespace_adds_no_features() {
    let works = [with_venue("soil", "Geoderma"), with_venue("soil", "Geoderma")];
    let featurizer = Featurizer::fit(&works, &text_config(1)).unwrap();
    assert_eq!(featurizer.vocabulary(), ["soil"]);
}

fn empty_and_unknown_cases() -> Vec<Work> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases/C16-empty-oov-docs.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |name: &str| value[name].as_str().map(corpus::clean::clean_markup);
            Work { id: field("id").unwrap(), title: field("title"), abstract_text: field("abstract"), ..Work::default() }
        })
        .collect()
}

#[test]
fn tokenless_documents_fail_fit_clearly() {
    // Empty, whitespace, numbers, empty markup and one-letter words: no token at all.
    let works: Vec<Work> = empty_and_unknown_cases().into_iter().take(6).filter(|work| work.id != "c16-4").collect();
    assert_eq!(works.len(), 5);
    let error = Featurizer::fit(&works, &text_config(1)).unwrap_err();
    assert!(matches!(error, FeatureError::NoUsableTokens { documents: 5, .. }), "{error:?}");
    assert!(error.to_string().contains("no usable tokens"), "{error}");
}

#[test]
fn empty_and_unknown_documents_get_reasons() {
    let training = [titled("grazing pressure plant diversity"), titled("plant diversity grasslands")];
    let featurizer = Featurizer::fit(&training, &text_config(1)).unwrap();
    let reasons: Vec<(String, Option<EmptyReason>)> = empty_and_unknown_cases()
        .iter()
        .map(|work| (work.id.clone(), featurizer.transform_with_status(work).1.empty_reason()))
        .collect();
    let expected = [
        ("c16-0", Some(EmptyReason::NoText)),
        ("c16-1", Some(EmptyReason::NoText)),
        ("c16-2", Some(EmptyReason::NoText)),
        ("c16-3", Some(EmptyReason::NoText)),
        ("c16-4", Some(EmptyReason::NoKnownTerms { tokens: 3 })),
        ("c16-5", Some(EmptyReason::NoText)),
        ("c16-6", None),
    ];
    assert_eq!(reasons.len(), expected.len());
    for ((id, reason), (expected_id, expected_reason)) in reasons.iter().zip(expected) {
        assert_eq!(id, expected_id);
        assert_eq!(*reason, expected_reason, "reason of {id}");
    }
}

#[test]
fn batch_rows_equal_single_transforms() {
    let works: Vec<Work> = (0..5000).map(|i| titled(&format!("soil fungi term{} roots term{}", i % 97, i % 13))).collect();
    let featurizer = Featurizer::fit(&works, &text_config(2)).unwrap();
    let matrix = featurizer.transform_batch(&works);
    assert_eq!(matrix.n_rows(), works.len());
    for (row, work) in works.iter().enumerate() {
        let single = featurizer.transform(work);
        assert_eq!(matrix.row(row), (&single.indices[..], &single.values[..]), "row {row}");
    }
}

#[test]
fn refit_in_other_pool_is_identical() {
    let works: Vec<Work> = (0..3000).map(|i| titled(&format!("alpha{} beta{} gamma", i % 31, i % 7))).collect();
    let config = text_config(2);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let first = one.install(|| Featurizer::fit(&works, &config)).unwrap();
    let second = two.install(|| Featurizer::fit(&works, &config)).unwrap();
    assert_eq!(first.vocabulary(), second.vocabulary());
    assert_eq!(first.idf(), second.idf());
}

#[test]
fn rebuilt_featurizer_transforms_identically() {
    let works = [with_venue("soil fungi ökologie", "Soil Biology"), with_venue("soil roots 機械", "Soil Biology")];
    let featurizer = Featurizer::fit(&works, &FeaturizerConfig { min_df: 1, ..FeaturizerConfig::default() }).unwrap();
    let state = serde_json::to_string(&featurizer.state()).unwrap();
    let rebuilt = Featurizer::from_parts(serde_json::from_str(&state).unwrap(), featurizer.idf().to_vec()).unwrap();
    for work in &works {
        assert_eq!(rebuilt.transform(work), featurizer.transform(work));
    }
}

#[test]
fn mismatched_idf_length_is_rejected() {
    let featurizer = Featurizer::fit(&corpus(), &text_config(1)).unwrap();
    let error = Featurizer::from_parts(featurizer.state(), vec![1.0; 2]).unwrap_err();
    assert!(error.to_string().contains("10 terms but 2 idf weights"), "{error}");
}
