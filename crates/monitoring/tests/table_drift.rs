//! Drift between CSV feature tables, including a current batch with an entirely empty
//! column and a constant one.

use std::path::PathBuf;

use monitoring::{detect_table_drift, AlertKind, DriftConfig, StatTest};

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases").join(name)
}

fn close(actual: f64, expected: f64, relative: f64) -> bool {
    ((actual - expected) / expected).abs() <= relative
}

#[test]
fn empty_and_constant_columns_are_reported() {
    let report = detect_table_drift(&case("C18-drift-reference.csv"), &case("C18-drift-current.csv"), &DriftConfig::default())
        .expect("the report is produced");
    let feature = |name: &str| report.features.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name} missing"));

    // The DOI column is an identifier: reported, not tested.
    assert!(feature("doi").not_testable.as_deref().unwrap().contains("identifier"));

    // abstract_len is empty in the current batch: not testable, with a missing-value alert.
    let abstract_len = feature("abstract_len");
    assert!(!abstract_len.is_tested());
    assert_eq!(abstract_len.current.missing_share, 1.0);
    let missing_alert = report.alerts.iter().any(|a| a.kind == AlertKind::MissingValues && a.feature.as_deref() == Some("abstract_len"));
    assert!(missing_alert);
    let not_testable_alert = report.alerts.iter().any(|a| a.kind == AlertKind::NotTestable && a.feature.as_deref() == Some("abstract_len"));
    assert!(not_testable_alert);

    // Reference values from SciPy 1.17.1 on the same columns (200 reference, 50 current rows):
    // python3 -c "import csv; from scipy.stats import ks_2samp, chisquare
    //   r = list(csv.DictReader(open('C18-drift-reference.csv')))
    //   c = list(csv.DictReader(open('C18-drift-current.csv')))
    //   for col in ['title_len', 'n_authors']:
    //       a = [float(x[col]) for x in r if x[col]]; b = [float(x[col]) for x in c if x[col]]
    //       print(col, ks_2samp(a, b))
    //   print(chisquare([0, 50, 0], [67 * 50 / 200, 68 * 50 / 200, 65 * 50 / 200]))"
    // title_len: D 0.135, p 0.4380791583587595; n_authors: D 0.1, p 0.7981008526455478;
    // work_type: p 8.393522531397205e-22.
    let title_len = feature("title_len");
    assert_eq!(title_len.test, Some(StatTest::Ks));
    assert!(close(title_len.score.unwrap(), 0.4380791583587595, 1e-9));
    assert!(!title_len.drifted);
    let n_authors = feature("n_authors");
    assert!(close(n_authors.score.unwrap(), 0.7981008526455478, 1e-9));
    assert!(!n_authors.drifted);

    // work_type is constant (journal-article only) in the current batch: tested and marked.
    let work_type = feature("work_type");
    assert_eq!(work_type.test, Some(StatTest::ChiSquared));
    assert!(work_type.constant);
    assert!(close(work_type.score.unwrap(), 8.393522531397205e-22, 1e-6));
    assert!(work_type.drifted);

    // Tested columns: title_len, n_authors, work_type; one of three drifted.
    assert_eq!(report.tested_columns, 3);
    assert_eq!(report.drifted_columns, 1);
    assert!(!report.dataset_drift);
}

#[test]
fn tables_without_shared_columns_fail() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.csv");
    let current = dir.path().join("current.csv");
    std::fs::write(&reference, "a,b\n1,2\n").unwrap();
    std::fs::write(&current, "c\n3\n").unwrap();
    let error = detect_table_drift(&reference, &current, &DriftConfig::default()).unwrap_err();
    assert!(error.to_string().contains("share no column"), "{error}");
}

#[test]
fn shifted_column_drifts_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.csv");
    let current = dir.path().join("current.csv");
    let rows = |offset: i32| {
        let mut text = String::from("x,kind\n");
        for i in 0..200 {
            text.push_str(&format!("{},{}\n", i + offset, if i % 2 == 0 { "a" } else { "b" }));
        }
        text
    };
    std::fs::write(&reference, rows(0)).unwrap();
    std::fs::write(&current, rows(150)).unwrap();
    let report = detect_table_drift(&reference, &current, &DriftConfig::default()).unwrap();
    // x: D = 150/200, far beyond chance; kind: identical halves, z-test p = 1.
    assert_eq!(report.drifted_feature_names(), vec!["x"]);
    assert_eq!(report.tested_columns, 2);
    assert!(report.dataset_drift, "1 of 2 columns reaches the 0.5 share");
}
