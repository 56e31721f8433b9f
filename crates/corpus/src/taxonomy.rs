//! The ASJC taxonomy: subject areas, general fields and subject codes.

/// The level of the ASJC hierarchy a label is expressed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Area,
    Field,
    Subject,
}
