//! Tests of the taxonomy: the compiled-in table, name matching, level mapping and the
//! alexandria3k loaders.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;
use crate::CorpusError;

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative)
}

fn write_temp(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("create temporary file");
    file.write_all(contents.as_bytes())
        .expect("write temporary file");
    file
}

#[test]
fn builtin_level_counts_match_asjc() {
    // 27 general fields and 307 subject codes: `cut -d';' -f1 a3k-asjc.csv | sort -u`
    // gives 334 distinct codes, 27 of them ending in 00.
    let taxonomy = Taxonomy::builtin();
    assert_eq!(taxonomy.codes_at(Level::Area).len(), 5);
    assert_eq!(taxonomy.codes_at(Level::Field).len(), 27);
    assert_eq!(taxonomy.codes_at(Level::Subject).len(), 307);
    assert_eq!(taxonomy.len(), 5 + 27 + 307);
}

#[test]
fn builtin_areas_use_documented_codes() {
    let taxonomy = Taxonomy::builtin();
    assert_eq!(
        taxonomy.codes_at(Level::Area),
        ["health", "life", "physical", "social", "multidisciplinary"]
    );
    assert_eq!(
        taxonomy.name("social"),
        Some("Social Sciences & Humanities")
    );
    assert_eq!(taxonomy.level_of("health"), Some(Level::Area));
}

#[test]
fn builtin_names_codes_of_each_level() {
    let taxonomy = Taxonomy::builtin();
    assert_eq!(taxonomy.name("2708"), Some("Dermatology"));
    assert_eq!(taxonomy.name("2700"), Some("Medicine"));
    assert_eq!(taxonomy.name("1000"), Some("Multidisciplinary"));
    assert_eq!(taxonomy.name(" 2708 "), Some("Dermatology"));
    assert_eq!(taxonomy.name("9999"), None);
    assert_eq!(taxonomy.level_of("2708"), Some(Level::Subject));
    assert_eq!(taxonomy.level_of("2700"), Some(Level::Field));
    assert_eq!(taxonomy.parent("2708"), Some("2700"));
    assert_eq!(taxonomy.parent("2700"), Some("health"));
    assert_eq!(taxonomy.parent("health"), None);
}

#[test]
fn every_builtin_name_finds_its_own_code() {
    // A name that found another code would mean two codes share a matching key. The area
    // Multidisciplinary is the exception: its name finds the field 1000.
    let taxonomy = Taxonomy::builtin();
    for entry in taxonomy
        .entries
        .iter()
        .filter(|entry| entry.code != "multidisciplinary")
    {
        for name in std::iter::once(&entry.name).chain(&entry.alternative_names) {
            assert_eq!(
                taxonomy.code_for_name(name),
                Some(entry.code.as_str()),
                "name {name:?}"
            );
        }
    }
}

#[test]
fn to_level_maps_up_never_down() {
    let taxonomy = Taxonomy::builtin();
    assert_eq!(
        taxonomy.to_level("2708", Level::Subject).as_deref(),
        Some("2708")
    );
    assert_eq!(
        taxonomy.to_level("2708", Level::Field).as_deref(),
        Some("2700")
    );
    assert_eq!(
        taxonomy.to_level("2708", Level::Area).as_deref(),
        Some("health")
    );
    assert_eq!(
        taxonomy.to_level("2808", Level::Area).as_deref(),
        Some("life")
    );
    assert_eq!(
        taxonomy.to_level("2700", Level::Field).as_deref(),
        Some("2700")
    );
    assert_eq!(taxonomy.to_level("2700", Level::Subject), None);
    assert_eq!(
        taxonomy.to_level("1000", Level::Area).as_deref(),
        Some("multidisciplinary")
    );
    assert_eq!(
        taxonomy.to_level("health", Level::Area).as_deref(),
        Some("health")
    );
    assert_eq!(taxonomy.to_level("health", Level::Field), None);
    assert_eq!(taxonomy.to_level("2799", Level::Field), None);
    assert_eq!(taxonomy.to_level("", Level::Area), None);
}

#[test]
fn crossref_spelling_variants_match() {
    let taxonomy = Taxonomy::builtin();
    let cases = [
        ("Neurology (clinical)", "2728"),
        ("Clinical Neurology", "2728"),
        ("Neurology", "2808"),
        ("Ecological Modelling", "2302"),
        ("Modelling and Simulation", "2611"),
        ("Modeling and Simulation", "2611"),
        ("Pharmacology (medical)", "2736"),
        ("Pharmacology", "3004"),
        ("Architecture ", "2216"),
        ("  ecology, evolution, behaviour & systematics", "1105"),
        ("Arts and Humanities (miscellaneous)", "1201"),
        ("Genetics(clinical)", "2716"),
        ("Palaeontology", "1911"),
        ("Obstetrics and Gynaecology", "2729"),
        ("Phychiatric Mental Health", "2921"),
        ("Veterinary (miscalleneous)", "3401"),
        ("Pediatrics", "2919"),
    ];
    for (name, code) in cases {
        assert_eq!(taxonomy.code_for_name(name), Some(code), "name {name:?}");
    }
}

#[test]
fn general_field_names_map_per_table() {
    let taxonomy = Taxonomy::builtin();
    assert_eq!(taxonomy.code_for_name("General Medicine"), Some("2700"));
    assert_eq!(taxonomy.code_for_name("Medicine"), Some("2700"));
    assert_eq!(taxonomy.code_for_name("Medicine(all)"), Some("2700"));
    assert_eq!(taxonomy.code_for_name("veterinary(all)"), Some("3400"));
    assert_eq!(
        taxonomy.code_for_name("Medicine (miscellaneous)"),
        Some("2701")
    );
    assert_eq!(taxonomy.code_for_name("Multidisciplinary"), Some("1000"));
    assert_eq!(taxonomy.code_for_name("Life Sciences"), Some("life"));
}

#[test]
fn ambiguous_short_names_follow_crossref_usage() {
    // Crossref gives "Critical Care" and "Emergency" to nursing journals (Journal of
    // Emergency Nursing has ASJC 2907 only), and "Archaeology" to journals of 1204.
    let taxonomy = Taxonomy::builtin();
    assert_eq!(taxonomy.code_for_name("Critical Care"), Some("2906"));
    assert_eq!(taxonomy.code_for_name("Emergency"), Some("2907"));
    assert_eq!(
        taxonomy.code_for_name("Critical Care and Intensive Care Medicine"),
        Some("2706")
    );
    assert_eq!(taxonomy.code_for_name("Emergency Medicine"), Some("2711"));
    assert_eq!(taxonomy.code_for_name("Archaeology"), Some("1204"));
    assert_eq!(
        taxonomy.code_for_name("Archeology (social sciences)"),
        Some("3302")
    );
}

#[test]
fn non_asjc_names_match_nothing() {
    let taxonomy = Taxonomy::builtin();
    for name in [
        "General",
        "Not An ASJC Name",
        "",
        "   ",
        "(all)",
        "Oncology(all)",
        "Medicine all",
    ] {
        assert_eq!(taxonomy.code_for_name(name), None, "name {name:?}");
    }
}

#[test]
fn level_parses_and_displays() {
    assert_eq!("Field".parse::<Level>(), Ok(Level::Field));
    assert_eq!(" subject ".parse::<Level>(), Ok(Level::Subject));
    assert!("journal".parse::<Level>().is_err());
    assert_eq!(Level::Area.to_string(), "area");
}

#[test]
fn a3k_csv_agrees_with_builtin() {
    let loaded = Taxonomy::from_a3k_csv(&shared("data/asjc/a3k-asjc.csv")).expect("load a3k csv");
    let builtin = Taxonomy::builtin();
    for level in [Level::Area, Level::Field, Level::Subject] {
        assert_eq!(
            loaded.codes_at(level),
            builtin.codes_at(level),
            "level {level}"
        );
    }
    for code in builtin.codes_at(Level::Subject) {
        assert_eq!(loaded.parent(code), builtin.parent(code), "code {code}");
    }
    assert_eq!(loaded.name("2700"), Some("Medicine"));
    assert_eq!(loaded.code_for_name("General Medicine"), Some("2700"));
    assert_eq!(loaded.code_for_name("Archeology"), Some("1204"));
    // alexandria3k's own alias, kept when its table is the one loaded.
    assert_eq!(loaded.code_for_name("Critical Care"), Some("2706"));
}

#[test]
fn a3k_database_agrees_with_builtin() {
    let conn = rusqlite::Connection::open_with_flags(
        shared("data/a3k/crossref-sample.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open a3k database");
    let loaded = Taxonomy::from_a3k_database(&conn).expect("load a3k tables");
    let builtin = Taxonomy::builtin();
    for level in [Level::Area, Level::Field, Level::Subject] {
        assert_eq!(
            loaded.codes_at(level),
            builtin.codes_at(level),
            "level {level}"
        );
    }
    assert_eq!(loaded.name("2700"), Some("Medicine"));
    assert_eq!(loaded.name("2708"), Some("Dermatology"));
    assert_eq!(
        loaded.to_level("2708", Level::Area).as_deref(),
        Some("health")
    );
}

#[test]
fn a3k_database_without_tables_names_table() {
    let conn = rusqlite::Connection::open_in_memory().expect("open in-memory database");
    let error = Taxonomy::from_a3k_database(&conn).expect_err("tables are missing");
    assert!(matches!(&error, CorpusError::A3kQuery { table, .. } if table == "asjc_subject_areas"));
}

#[test]
fn a3k_database_with_empty_asjcs_is_rejected() {
    let conn = rusqlite::Connection::open_in_memory().expect("open in-memory database");
    conn.execute_batch(
        "CREATE TABLE asjcs(id, field, subject_area_id, general_field_id);
         CREATE TABLE asjc_general_fields(id INT, name);
         CREATE TABLE asjc_subject_areas(id, name);",
    )
    .expect("create tables");
    let error = Taxonomy::from_a3k_database(&conn).expect_err("asjcs is empty");
    assert!(error.to_string().contains("a3k populate"), "{error}");
}

#[test]
fn a3k_csv_with_wrong_header_is_rejected() {
    let file = write_temp("issn,subject_code\n00002561,2200\n");
    let error = Taxonomy::from_a3k_csv(file.path()).expect_err("wrong header");
    assert!(
        matches!(error, CorpusError::Table { line: 1, .. }),
        "{error}"
    );
}

#[test]
fn a3k_csv_invalid_code_names_line() {
    let file = write_temp(
        "Code;Field;Subject area\n2700;General Medicine;Health Sciences\n27x8;Dermatology;Health Sciences\n",
    );
    let error = Taxonomy::from_a3k_csv(file.path()).expect_err("invalid code");
    assert!(
        matches!(error, CorpusError::Table { line: 3, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("27x8"), "{error}");
}

#[test]
fn a3k_csv_subject_without_field_is_rejected() {
    let file = write_temp("Code;Field;Subject area\n2708;Dermatology;Health Sciences\n");
    let error = Taxonomy::from_a3k_csv(file.path()).expect_err("field 2700 is missing");
    assert!(error.to_string().contains("2700"), "{error}");
}

#[test]
fn a3k_csv_missing_file_is_open_error() {
    let error =
        Taxonomy::from_a3k_csv(Path::new("/nonexistent/a3k-asjc.csv")).expect_err("no file");
    assert!(matches!(error, CorpusError::Open { .. }), "{error}");
}

#[test]
fn a3k_csv_unknown_area_gets_slug_code() {
    let file = write_temp(
        "Code;Field;Subject area\n4100;General Space Studies;Space Sciences\n4101;Orbits;Space Sciences\n",
    );
    let taxonomy = Taxonomy::from_a3k_csv(file.path()).expect("load small table");
    assert_eq!(
        taxonomy.to_level("4101", Level::Area).as_deref(),
        Some("space-sciences")
    );
    assert_eq!(taxonomy.name("4100"), Some("Space Studies"));
}
