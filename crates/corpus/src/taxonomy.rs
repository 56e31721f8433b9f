//! The ASJC taxonomy: subject areas, general fields and subject codes, with their names.
//!
//! Codes of the three levels:
//! - subject areas use these string codes, chosen for this project because Elsevier numbers
//!   none of them: `health` (Health Sciences), `life` (Life Sciences), `physical`
//!   (Physical Sciences), `social` (Social Sciences & Humanities) and `multidisciplinary`;
//! - general fields are the 27 four-digit codes ending in `00` (`2700` Medicine);
//! - subject codes are the other four-digit codes (`2708` Dermatology), each below the
//!   field that shares its first two digits.
//!
//! `1000` Multidisciplinary is a general field with no subject codes below it.
//! The taxonomy comes compiled in ([`Taxonomy::builtin`]) or from alexandria3k's ASJC table
//! (`a3k.rs`). Name matching tolerates the spelling variants described in `name_key.rs`.

mod a3k;
mod name_key;

use std::fmt;
use std::str::FromStr;

use rustc_hash::FxHashMap;

use name_key::{name_key, strip_all_suffix};

/// The level of the ASJC hierarchy a label is expressed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Area,
    Field,
    Subject,
}

impl Level {
    /// Position from coarse to fine: areas 0, fields 1, subject codes 2.
    fn depth(self) -> u8 {
        match self {
            Level::Area => 0,
            Level::Field => 1,
            Level::Subject => 2,
        }
    }

    /// Returns the lower-case name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Area => "area",
            Level::Field => "field",
            Level::Subject => "subject",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    /// Parses `area`, `field` or `subject` (any case).
    fn from_str(text: &str) -> Result<Level, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "area" => Ok(Level::Area),
            "field" => Ok(Level::Field),
            "subject" => Ok(Level::Subject),
            other => Err(format!(
                "invalid ASJC level `{other}`; expected `area`, `field` or `subject`"
            )),
        }
    }
}

/// The compiled-in table; its header comment names the sources and the column layout.
const BUILTIN_TSV: &str = include_str!("../data/asjc.tsv");

/// Area codes of the five standard subject areas, keyed by the name the tables use.
const STANDARD_AREAS: &[(&str, &str)] = &[
    ("Health Sciences", "health"),
    ("Life Sciences", "life"),
    ("Physical Sciences", "physical"),
    ("Social Sciences & Humanities", "social"),
    ("Multidisciplinary", "multidisciplinary"),
];

/// The ASJC hierarchy with names and alternative spellings.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    /// Areas first (in the order of `codes_at`), then fields, then subject codes by code.
    entries: Vec<Entry>,
    by_code: FxHashMap<String, usize>,
    /// Name keys of fields and subject codes.
    by_name: FxHashMap<String, usize>,
    /// Name keys of areas, looked up after `by_name` because "Multidisciplinary" names
    /// both an area and the field `1000`.
    area_by_name: FxHashMap<String, usize>,
}

#[derive(Debug, Clone)]
struct Entry {
    code: String,
    level: Level,
    parent: Option<usize>,
    name: String,
    alternative_names: Vec<String>,
}

impl Taxonomy {
    /// Returns the compiled-in taxonomy: 5 areas, 27 general fields and the subject codes
    /// of Elsevier's ASJC list.
    pub fn builtin() -> Taxonomy {
        // NOTE: the table is part of the binary and a unit test parses it, so a failure
        // here is a build defect, not something input can cause.
        parse_builtin(BUILTIN_TSV).expect("the compiled-in ASJC table is valid")
    }

    /// Returns the name of a code: "Dermatology" for `2708`, "Medicine" for `2700`,
    /// "Health Sciences" for `health`.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.entry(code).map(|entry| entry.name.as_str())
    }

    /// Returns the level of a code, or None for a code the taxonomy does not contain.
    pub fn level_of(&self, code: &str) -> Option<Level> {
        self.entry(code).map(|entry| entry.level)
    }

    /// Returns the parent of a code: the field of a subject code, the area of a field.
    pub fn parent(&self, code: &str) -> Option<&str> {
        let parent = self.entry(code)?.parent?;
        Some(self.entries[parent].code.as_str())
    }

    /// Maps a code to its ancestor (or itself) at `level`; None for unknown codes or when
    /// the requested level is finer than the code.
    pub fn to_level(&self, code: &str, level: Level) -> Option<String> {
        let mut index = *self.by_code.get(code.trim())?;
        if self.entries[index].level.depth() < level.depth() {
            return None;
        }
        while self.entries[index].level != level {
            index = self.entries[index].parent?;
        }
        Some(self.entries[index].code.clone())
    }

    /// Returns the codes of one level: areas in the order health, life, physical, social,
    /// multidisciplinary (any other area after them), fields and subject codes sorted.
    pub fn codes_at(&self, level: Level) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|entry| entry.level == level)
            .map(|entry| entry.code.as_str())
            .collect()
    }

    /// Finds the code that a name designates, tolerating the spelling variants of Crossref
    /// and the ASJC tables (case, spacing, punctuation, `&`, British spellings, known
    /// misspellings). Also accepted: a field's short name ("Medicine"), its Crossref form
    /// ("Medicine(all)"), an area name ("Life Sciences") and a code itself ("2708").
    pub fn code_for_name(&self, name: &str) -> Option<&str> {
        let trimmed = name.trim();
        if let Some(&index) = self.by_code.get(trimmed) {
            return Some(&self.entries[index].code);
        }

        let key = name_key(trimmed);
        if key.is_empty() {
            return None;
        }
        if let Some(&index) = self.by_name.get(&key) {
            return Some(&self.entries[index].code);
        }
        if let Some(field) = strip_all_suffix(trimmed) {
            let index = *self.by_name.get(&name_key(field))?;
            let entry = &self.entries[index];
            return (entry.level == Level::Field).then_some(entry.code.as_str());
        }
        self.area_by_name
            .get(&key)
            .map(|&index| self.entries[index].code.as_str())
    }

    /// Returns the number of codes over all three levels.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True for a taxonomy without codes (never the case for the loaders of this module).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, code: &str) -> Option<&Entry> {
        self.by_code
            .get(code.trim())
            .map(|&index| &self.entries[index])
    }
}

/// Codes and names collected from a table, checked and indexed by [`Draft::build`].
#[derive(Debug, Default)]
struct Draft {
    entries: Vec<DraftEntry>,
    by_code: FxHashMap<String, usize>,
}

#[derive(Debug)]
struct DraftEntry {
    code: String,
    level: Level,
    parent: Option<String>,
    /// The first name is the primary one.
    names: Vec<String>,
}

impl Draft {
    /// Adds a code, or adds `name` as an alternative spelling of a code already added.
    fn add(&mut self, level: Level, code: &str, parent: Option<&str>, name: &str) {
        let name = name.trim();
        if let Some(&index) = self.by_code.get(code) {
            let names = &mut self.entries[index].names;
            if !name.is_empty() && !names.iter().any(|known| known == name) {
                names.push(name.to_string());
            }
            return;
        }
        self.by_code.insert(code.to_string(), self.entries.len());
        self.entries.push(DraftEntry {
            code: code.to_string(),
            level,
            parent: parent.map(str::to_string),
            names: if name.is_empty() {
                Vec::new()
            } else {
                vec![name.to_string()]
            },
        });
    }

    /// Orders and links the entries and indexes their names. Fails with a message when a
    /// parent is missing or at the wrong level, or when the table has no subject code.
    fn build(mut self) -> Result<Taxonomy, String> {
        if !self
            .entries
            .iter()
            .any(|entry| entry.level == Level::Subject)
        {
            return Err("the table contains no subject code".to_string());
        }
        // Areas in the order of STANDARD_AREAS (others after them), then fields and subject
        // codes numerically.
        self.entries.sort_by_key(|entry| {
            let area_rank = STANDARD_AREAS
                .iter()
                .position(|(_, code)| *code == entry.code)
                .unwrap_or(STANDARD_AREAS.len());
            (
                entry.level.depth(),
                if entry.level == Level::Area {
                    area_rank
                } else {
                    0
                },
                entry.code.clone(),
            )
        });

        let by_code: FxHashMap<String, usize> = self
            .entries
            .iter()
            .enumerate()
            .map(|(index, entry)| (entry.code.clone(), index))
            .collect();
        let mut entries = Vec::with_capacity(self.entries.len());
        for draft in self.entries {
            let parent = match &draft.parent {
                None if draft.level == Level::Area => None,
                None => return Err(format!("{} `{}` has no parent", draft.level, draft.code)),
                Some(parent_code) => Some(*by_code.get(parent_code).ok_or_else(|| {
                    format!(
                        "{} `{}` names parent `{parent_code}`, which is not in the table",
                        draft.level, draft.code
                    )
                })?),
            };
            let mut names = draft.names.into_iter();
            let name = names.next().unwrap_or_else(|| draft.code.clone());
            entries.push(Entry {
                code: draft.code,
                level: draft.level,
                parent,
                name,
                alternative_names: names.collect(),
            });
        }
        check_parent_levels(&entries)?;
        Ok(index_names(entries, by_code))
    }
}

/// Fails when a field's parent is not an area or a subject code's parent is not a field.
fn check_parent_levels(entries: &[Entry]) -> Result<(), String> {
    for entry in entries {
        let Some(parent) = entry.parent else { continue };
        let parent = &entries[parent];
        if parent.level.depth() + 1 != entry.level.depth() {
            return Err(format!(
                "{} `{}` has parent `{}`, which is a {} instead of a {}",
                entry.level,
                entry.code,
                parent.code,
                parent.level,
                if entry.level == Level::Field {
                    "area"
                } else {
                    "field"
                }
            ));
        }
    }
    Ok(())
}

/// Indexes primary names before alternative spellings, so that on a clash between two
/// codes a primary name wins; between equals, the earlier code keeps the name.
fn index_names(entries: Vec<Entry>, by_code: FxHashMap<String, usize>) -> Taxonomy {
    let mut by_name = FxHashMap::default();
    let mut area_by_name = FxHashMap::default();
    let primary = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| (index, &entry.name));
    let alternatives = entries.iter().enumerate().flat_map(|(index, entry)| {
        entry
            .alternative_names
            .iter()
            .map(move |name| (index, name))
    });
    for (index, name) in primary.chain(alternatives) {
        let key = name_key(name);
        if key.is_empty() {
            continue;
        }
        let index_of_level = if entries[index].level == Level::Area {
            &mut area_by_name
        } else {
            &mut by_name
        };
        let kept = *index_of_level.entry(key).or_insert(index);
        if kept != index {
            tracing::debug!(
                name = name.as_str(),
                kept = entries[kept].code.as_str(),
                ignored = entries[index].code.as_str(),
                "ASJC name designates two codes; the first keeps it"
            );
        }
    }
    Taxonomy {
        entries,
        by_code,
        by_name,
        area_by_name,
    }
}

/// Returns the code of a subject area name: a standard code for the five standard areas,
/// else the name's key with hyphens ("Space Sciences" gives `space-sciences`).
fn area_code_for(name: &str) -> String {
    let key = name_key(name);
    STANDARD_AREAS
        .iter()
        .find(|(standard, _)| name_key(standard) == key)
        .map_or_else(|| key.replace(' ', "-"), |(_, code)| code.to_string())
}

/// Parses the compiled-in table (layout in its header comment).
fn parse_builtin(text: &str) -> Result<Taxonomy, String> {
    let mut draft = Draft::default();
    for (line_index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        let [kind, code, parent, names @ ..] = columns.as_slice() else {
            return Err(format!(
                "line {}: expected at least 4 columns",
                line_index + 1
            ));
        };
        let level = match *kind {
            "area" => Level::Area,
            "field" => Level::Field,
            "subject" => Level::Subject,
            other => return Err(format!("line {}: unknown kind `{other}`", line_index + 1)),
        };
        let parent = (!parent.is_empty()).then_some(*parent);
        for name in names {
            draft.add(level, code, parent, name);
        }
    }
    draft.build()
}

#[cfg(test)]
mod tests;
