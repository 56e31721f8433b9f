//! The ISSN-to-ASJC table: which subject codes Scopus gives each journal ISSN.
//!
//! Three layouts load into the same table: a CSV file `issn,subject_code` (alexandria3k's
//! `issn_subject_codes` layout), the pair of tab-separated files of the tidied Scopus source
//! list (`issn.tsv` with `scopus_id`, `issn`, `linking_issn`, and `titles-asjc-codes.tsv`
//! with `scopus_id`, `asjc_code`), and alexandria3k's `issn_subject_codes` database table.
//! ISSNs are normalised to eight characters without the hyphen and with an upper-case `X`.

use std::collections::hash_map::Entry;
use std::path::Path;

use rusqlite::types::Value;
use rustc_hash::FxHashMap;

use crate::CorpusError;

/// ISSN-to-ASJC subject code table.
#[derive(Debug, Clone, Default)]
pub struct IssnTable {
    /// Codes of each normalised ISSN, sorted and distinct.
    codes: FxHashMap<[u8; 8], Vec<String>>,
    pair_count: usize,
}

impl IssnTable {
    /// Loads a comma-separated `issn,subject_code` file with that header row. A file that
    /// starts like `issn.tsv` gets an error saying that it goes with `titles-asjc-codes.tsv`.
    pub fn from_csv(path: &Path) -> Result<IssnTable, CorpusError> {
        if open_table(path, b'\t', &["scopus_id"]).is_ok() {
            let message = "this is the `issn.tsv` of the Scopus tables (a `scopus_id` column), which needs its \
                           pair: pass `titles-asjc-codes.tsv` after it, or an `issn,subject_code` CSV alone";
            return Err(table_error(path, 1, message.to_string()));
        }
        let mut reader = open_table(path, b',', &["issn", "subject_code"])?;
        let mut table = IssnTable::default();
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|error| csv_error(path, error))?
        {
            let line = record_line(&record);
            let (Some(issn), Some(code)) = (record.get(0), record.get(1)) else {
                return Err(table_error(
                    path,
                    line,
                    "expected 2 columns: issn, subject_code".into(),
                ));
            };
            table
                .insert(issn, code)
                .map_err(|message| table_error(path, line, message))?;
        }
        Ok(table.finish())
    }

    /// Loads the tab-separated pair of the tidied Scopus source list: `issn_tsv` maps each
    /// Scopus source id to its print or electronic ISSN and linking ISSN, `titles_tsv` maps
    /// source ids to ASJC codes. Every ISSN of a source receives all codes of that source.
    pub fn from_tsv_pair(issn_tsv: &Path, titles_tsv: &Path) -> Result<IssnTable, CorpusError> {
        let mut issns_of_source: FxHashMap<String, Vec<String>> = FxHashMap::default();
        let mut reader = open_table(issn_tsv, b'\t', &["scopus_id"])?;
        let header = reader
            .headers()
            .map_err(|error| csv_error(issn_tsv, error))?
            .clone();
        let issn_column = column_index(&header, "issn")
            .ok_or_else(|| table_error(issn_tsv, 1, "the header has no `issn` column".into()))?;
        let linking_column = column_index(&header, "linking_issn");
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|error| csv_error(issn_tsv, error))?
        {
            let source_id = record.get(0).unwrap_or_default().trim();
            let issns = issns_of_source.entry(source_id.to_string()).or_default();
            let columns = std::iter::once(issn_column).chain(linking_column);
            for issn in columns.filter_map(|column| record.get(column)) {
                if !issn.trim().is_empty() && !issns.iter().any(|known| known == issn) {
                    issns.push(issn.to_string());
                }
            }
        }

        let mut reader = open_table(titles_tsv, b'\t', &["scopus_id", "asjc_code"])?;
        let mut table = IssnTable::default();
        while reader
            .read_record(&mut record)
            .map_err(|error| csv_error(titles_tsv, error))?
        {
            let line = record_line(&record);
            let (Some(source_id), Some(code)) = (record.get(0), record.get(1)) else {
                return Err(table_error(
                    titles_tsv,
                    line,
                    "expected 2 columns: scopus_id, asjc_code".into(),
                ));
            };
            for issn in issns_of_source.get(source_id.trim()).into_iter().flatten() {
                table
                    .insert(issn, code)
                    .map_err(|message| table_error(titles_tsv, line, message))?;
            }
        }
        Ok(table.finish())
    }

    /// Loads alexandria3k's `issn_subject_codes(id, issn, subject_code)` table.
    pub fn from_a3k_database(conn: &rusqlite::Connection) -> Result<IssnTable, CorpusError> {
        const TABLE: &str = "issn_subject_codes";
        let query_error = |source| CorpusError::A3kQuery {
            table: TABLE.into(),
            source,
        };
        let mut statement = conn
            .prepare("SELECT issn, subject_code FROM issn_subject_codes")
            .map_err(query_error)?;
        let mut rows = statement.query([]).map_err(query_error)?;
        let mut table = IssnTable::default();
        while let Some(row) = rows.next().map_err(query_error)? {
            let issn = value_text(row.get::<_, Value>(0).map_err(query_error)?);
            let code = value_text(row.get::<_, Value>(1).map_err(query_error)?);
            table
                .insert(&issn, &code)
                .map_err(|message| CorpusError::A3kTable {
                    table: TABLE.into(),
                    message,
                })?;
        }
        if table.codes.is_empty() {
            return Err(CorpusError::A3kTable {
                table: TABLE.into(),
                message:
                    "the table is empty; fill it with `a3k populate DATABASE issn-subject-codes`"
                        .into(),
            });
        }
        Ok(table.finish())
    }

    /// Builds a table from `(issn, code)` pairs; fails with a message on an invalid ISSN
    /// or code.
    #[cfg(test)]
    pub(crate) fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<IssnTable, String> {
        let mut table = IssnTable::default();
        for (issn, code) in pairs {
            table.insert(issn, code)?;
        }
        Ok(table.finish())
    }

    /// Returns the sorted ASJC codes of an ISSN written in any usual form (`0028-0836`,
    /// `00280836`, lower-case `x`); empty for an unknown or invalid ISSN.
    pub fn codes_for(&self, issn: &str) -> &[String] {
        issn_key(issn)
            .and_then(|key| self.codes.get(&key))
            .map_or(&[], Vec::as_slice)
    }

    /// Returns the number of distinct ISSNs.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True for a table without ISSNs.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Returns the number of distinct (ISSN, code) pairs.
    pub fn pair_count(&self) -> usize {
        self.pair_count
    }

    /// Adds one pair; a pair seen before is ignored.
    fn insert(&mut self, issn: &str, code: &str) -> Result<(), String> {
        let key = issn_key(issn).ok_or_else(|| format!("invalid ISSN `{issn}`"))?;
        let code = code.trim();
        if code.len() != 4 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!("invalid ASJC code `{code}` for ISSN `{issn}`"));
        }
        match self.codes.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(vec![code.to_string()]);
            }
            Entry::Occupied(mut slot) => {
                if slot.get().iter().any(|known| known == code) {
                    return Ok(());
                }
                slot.get_mut().push(code.to_string());
            }
        }
        self.pair_count += 1;
        Ok(())
    }

    fn finish(mut self) -> IssnTable {
        for codes in self.codes.values_mut() {
            codes.sort_unstable();
        }
        self
    }
}

/// Normalises an ISSN to eight characters without the hyphen and with an upper-case check
/// character (`0028-083x` gives `0028083X`); None when it is not an ISSN.
///
/// Spaces, hyphens and dashes are dropped, and an `ISSN` prefix or a URL ending in the ISSN
/// (`http://id.crossref.org/issn/0028-0836`, found in old Crossref records) is accepted.
///
/// NOTE: the check digit is not verified. Publishers print, and the Scopus source list
/// indexes, ISSNs whose check digit is wrong (13 of the 56,407 ISSNs in the July 2021 list),
/// and dropping them would lose those journals' labels.
pub fn normalize_issn(text: &str) -> Option<String> {
    let key = issn_key(text)?;
    Some(key.iter().map(|&byte| char::from(byte)).collect())
}

fn issn_key(text: &str) -> Option<[u8; 8]> {
    // Old Crossref records give ISSNs as URLs (`http://id.crossref.org/issn/0028-0836`).
    let text = text.trim();
    let text = text.rsplit('/').next().unwrap_or(text);
    let text = match text.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("issn") => {
            text[4..].trim_start_matches([':', ' '])
        }
        _ => text,
    };
    let mut key = [0u8; 8];
    let mut length = 0;
    for character in text.chars() {
        match character {
            '0'..='9' | 'x' | 'X' => {
                if length == key.len() {
                    return None;
                }
                key[length] = character.to_ascii_uppercase() as u8;
                length += 1;
            }
            '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' => {}
            _ if character.is_whitespace() => {}
            _ => return None,
        }
    }
    let digits_valid = key[..7].iter().all(u8::is_ascii_digit);
    (length == key.len() && digits_valid).then_some(key)
}

/// Opens a delimited table and checks that its header starts with `expected` columns.
fn open_table(
    path: &Path,
    delimiter: u8,
    expected: &[&str],
) -> Result<csv::Reader<std::fs::File>, CorpusError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_path(path)
        .map_err(|error| csv_error(path, error))?;
    let header = reader.headers().map_err(|error| csv_error(path, error))?;
    let matches = expected.iter().enumerate().all(|(column, name)| {
        header
            .get(column)
            .is_some_and(|found| found.trim().eq_ignore_ascii_case(name))
    });
    if !matches {
        let separator = char::from(delimiter).to_string();
        return Err(table_error(
            path,
            1,
            format!(
                "expected a header starting with `{}`, found `{}`",
                expected.join(&separator),
                header.iter().collect::<Vec<_>>().join(&separator)
            ),
        ));
    }
    Ok(reader)
}

fn column_index(header: &csv::StringRecord, name: &str) -> Option<usize> {
    header
        .iter()
        .position(|found| found.trim().eq_ignore_ascii_case(name))
}

fn record_line(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |position| position.line())
}

fn table_error(path: &Path, line: u64, message: String) -> CorpusError {
    CorpusError::Table {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn csv_error(path: &Path, error: csv::Error) -> CorpusError {
    let line = error.position().map_or(0, |position| position.line());
    match error.into_kind() {
        csv::ErrorKind::Io(source) => CorpusError::Open {
            path: path.to_path_buf(),
            source,
        },
        kind => table_error(path, line, format!("{kind:?}")),
    }
}

/// Renders an SQLite value as text; alexandria3k stores `subject_code` as an integer.
fn value_text(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(number) => number.to_string(),
        Value::Real(number) => number.to_string(),
        Value::Text(text) => text,
        Value::Blob(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_issn_tsv_names_its_pair() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("issn.tsv");
        std::fs::write(&path, "scopus_id\tissn_type\tissn\tlinking_issn\n12000\tprint\t1527-6228\t1527-6228\n").unwrap();
        let message = IssnTable::from_csv(&path).unwrap_err().to_string();
        assert!(message.contains("titles-asjc-codes.tsv"), "{message}");
        assert!(message.contains("issn.tsv"), "{message}");
    }

    #[test]
    fn issn_forms_normalise_alike() {
        assert_eq!(normalize_issn("0028-0836").as_deref(), Some("00280836"));
        assert_eq!(normalize_issn(" 0028 083x ").as_deref(), Some("0028083X"));
        assert_eq!(
            normalize_issn("ISSN: 1234–5678").as_deref(),
            Some("12345678")
        );
        assert_eq!(
            normalize_issn("issn 1234-5678").as_deref(),
            Some("12345678")
        );
        let url = "http://id.crossref.org/issn/0028-0836";
        assert_eq!(normalize_issn(url).as_deref(), Some("00280836"));
    }

    #[test]
    fn malformed_issns_are_rejected() {
        for text in [
            "",
            "0028-083",
            "0028-08361",
            "X028-0836",
            "0028-O836",
            "00280836X",
        ] {
            assert_eq!(normalize_issn(text), None, "text {text:?}");
        }
    }

    #[test]
    fn pairs_deduplicate_and_sort() {
        let table = IssnTable::from_pairs([
            ("0028-0836", "2708"),
            ("00280836", "1000"),
            ("00280836", "2708"),
            ("1234567x", "2700"),
        ])
        .expect("valid pairs");
        assert_eq!(table.len(), 2);
        assert_eq!(table.pair_count(), 3);
        assert_eq!(table.codes_for("0028-0836"), ["1000", "2708"]);
        assert_eq!(table.codes_for("1234-567X"), ["2700"]);
        assert!(table.codes_for("9999-9999").is_empty());
        assert!(table.codes_for("not an issn").is_empty());
    }

    #[test]
    fn invalid_code_is_rejected() {
        let error = IssnTable::from_pairs([("0028-0836", "27O8")]).expect_err("letter O");
        assert!(error.contains("27O8"), "{error}");
    }
}
