//! The ASJC taxonomy: subject areas, general fields and subject codes.

use std::path::Path;

use crate::CorpusError;

/// The level of the ASJC hierarchy a label is expressed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Area,
    Field,
    Subject,
}

/// The ASJC hierarchy with names and alternative spellings.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {}

impl Taxonomy {
    /// Returns the compiled-in taxonomy.
    pub fn builtin() -> Taxonomy {
        Taxonomy {}
    }

    /// Loads alexandria3k's `Code;Field;Subject area` table.
    pub fn from_a3k_csv(_path: &Path) -> Result<Taxonomy, CorpusError> {
        Ok(Taxonomy {})
    }

    /// Loads the `asjcs` tables of an alexandria3k database.
    pub fn from_a3k_database(_conn: &rusqlite::Connection) -> Result<Taxonomy, CorpusError> {
        Ok(Taxonomy {})
    }

    pub fn name(&self, _code: &str) -> Option<&str> {
        None
    }

    pub fn level_of(&self, _code: &str) -> Option<Level> {
        None
    }

    /// Maps a code to its ancestor (or itself) at `level`; None for unknown codes or when
    /// the requested level is finer than the code.
    pub fn to_level(&self, _code: &str, _level: Level) -> Option<String> {
        None
    }

    pub fn codes_at(&self, _level: Level) -> Vec<&str> {
        Vec::new()
    }

    pub fn code_for_name(&self, _name: &str) -> Option<&str> {
        None
    }
}
