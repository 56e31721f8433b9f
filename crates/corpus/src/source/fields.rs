//! Tolerant field extraction shared by the readers. It covers string lists that arrive as a
//! bare string, null or an object, ISSN and DOI normalisation, and years and timestamps from
//! the date shapes Crossref, OpenAlex and arXiv use.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

pub use crate::labels::normalize_issn;

/// A field that should be a list of strings, read whatever shape it arrived in. A bare string
/// becomes a one-element list and null an empty one; an object, a number or a boolean is
/// dropped and named in `unexpected`. Strings without escapes borrow from the record text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StringList<'a> {
    pub values: Vec<Cow<'a, str>>,
    /// The JSON type found where a string or list of strings was expected, if any.
    pub unexpected: Option<&'static str>,
}

impl<'a> StringList<'a> {
    /// Returns the first value that is not blank after `clean`, cleaned.
    pub fn first_cleaned(&self, clean: impl Fn(&str) -> String) -> Option<String> {
        self.values.iter().map(|value| clean(value)).find(|value| !value.is_empty())
    }

    /// Returns the first value that is not blank, trimmed.
    pub fn first_trimmed(&self) -> Option<String> {
        self.values.iter().map(|value| value.trim()).find(|value| !value.is_empty()).map(str::to_string)
    }
}

struct StringListVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StringListVisitor<'a> {
    type Value = StringList<'a>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string or a list of strings")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(StringList { values: vec![Cow::Borrowed(value)], unexpected: None })
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(StringList { values: vec![Cow::Owned(value.to_string())], unexpected: None })
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(StringList { values: vec![Cow::Owned(value)], unexpected: None })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StringList::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StringList::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(StringList { values: Vec::new(), unexpected: Some("a boolean") })
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(StringList { values: Vec::new(), unexpected: Some("a number") })
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(StringList { values: Vec::new(), unexpected: Some("a number") })
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(StringList { values: Vec::new(), unexpected: Some("a number") })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = StringList::default();
        while let Some(element) = seq.next_element::<ListElement<'a>>()? {
            match element {
                ListElement::Text(text) => list.values.push(text),
                ListElement::Null => {}
                ListElement::Other(kind) => list.unexpected = Some(kind),
            }
        }
        Ok(list)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(StringList { values: Vec::new(), unexpected: Some("an object") })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StringList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringListVisitor(PhantomData))
    }
}

/// One element of a string list: a string, a null to skip, or something else to report.
enum ListElement<'a> {
    Text(Cow<'a, str>),
    Null,
    Other(&'static str),
}

struct ListElementVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ListElementVisitor<'a> {
    type Value = ListElement<'a>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(ListElement::Text(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(ListElement::Text(Cow::Owned(value.to_string())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(ListElement::Text(Cow::Owned(value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ListElement::Null)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ListElement::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(ListElement::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(ListElement::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ListElement::Other("a number"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ListElement::Other("a nested list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ListElement::Other("an object"))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ListElement<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListElementVisitor(PhantomData))
    }
}

/// Appends the normalised form of `issn` to `issns` unless it is invalid or already there.
pub fn push_issn(issns: &mut Vec<String>, issn: &str) {
    if let Some(normalized) = normalize_issn(issn) {
        if !issns.contains(&normalized) {
            issns.push(normalized);
        }
    }
}

/// Normalises a DOI for use as a work id: trimmed and lower-cased, since DOIs are
/// case-insensitive. Returns `None` for a blank DOI.
pub fn normalize_doi(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_lowercase())
}

/// Trims names, drops blank ones and keeps the first of exact repeats, in order.
pub fn dedup_trimmed(names: &[Cow<'_, str>]) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let trimmed = name.trim();
        if !trimmed.is_empty() && !unique.iter().any(|seen| seen == trimmed) {
            unique.push(trimmed.to_string());
        }
    }
    unique
}

/// Smallest and largest year accepted from a record; values outside are treated as missing.
const YEAR_RANGE: std::ops::RangeInclusive<i64> = 1..=9999;

/// Reads a year from a JSON number or a numeric string (`2015`, `"2015"`, `2015.0`).
pub fn year_from_value(value: &Value) -> Option<i32> {
    let year = match value {
        Value::Number(number) => number.as_i64().or_else(|| number.as_f64().map(|f| f as i64))?,
        Value::String(text) => text.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    YEAR_RANGE.contains(&year).then_some(year as i32)
}

/// Reads the year at the start of an ISO 8601 date (`2024-04-01...`).
pub fn year_from_iso(text: &str) -> Option<i32> {
    let digits = text.trim().get(0..4)?;
    let year = digits.parse::<i64>().ok()?;
    YEAR_RANGE.contains(&year).then_some(year as i32)
}

/// Converts an ISO 8601 date or date-time to milliseconds since the Unix epoch. Accepts an
/// offset (`2024-04-01T00:00:00Z`), no offset (read as UTC, as OpenAlex writes it) or a bare
/// date.
pub fn millis_from_iso(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(moment) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(moment.timestamp_millis());
    }
    if let Ok(moment) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(moment.and_utc().timestamp_millis());
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> StringList<'_> {
        match serde_json::from_str(text) {
            Ok(list) => list,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    #[test]
    fn string_list_accepts_every_shape() {
        assert_eq!(list(r#"["a", "b"]"#).values, vec!["a", "b"]);
        assert_eq!(list(r#""bare""#).values, vec!["bare"]);
        assert!(list("null").values.is_empty());
        assert!(list("[]").values.is_empty());
        assert_eq!(list(r#"["a", null, "b"]"#).values, vec!["a", "b"]);

        let object = list(r#"{"value": "x"}"#);
        assert!(object.values.is_empty());
        assert_eq!(object.unexpected, Some("an object"));

        let mixed = list(r#"["a", 3]"#);
        assert_eq!(mixed.values, vec!["a"]);
        assert_eq!(mixed.unexpected, Some("a number"));
    }

    #[test]
    fn string_list_borrows_unescaped_text() {
        let parsed = list(r#"["plain", "esc\u00e9"]"#);
        assert!(matches!(parsed.values[0], Cow::Borrowed("plain")));
        assert!(matches!(&parsed.values[1], Cow::Owned(text) if text == "escé"));
    }

    #[test]
    fn issn_normalisation() {
        assert_eq!(normalize_issn("0028-083x").as_deref(), Some("0028083X"));
        assert_eq!(normalize_issn(" 1234-5678 ").as_deref(), Some("12345678"));
        assert_eq!(normalize_issn("00280836").as_deref(), Some("00280836"));
        assert_eq!(normalize_issn("0028-08"), None);
        assert_eq!(normalize_issn("0028-083X1"), None);
        assert_eq!(normalize_issn("X028-0836"), None);
        assert_eq!(normalize_issn("http://id.crossref.org/issn/0028-0836").as_deref(), Some("00280836"));
        assert_eq!(normalize_issn("http://id.crossref.org/issn/"), None);
        assert_eq!(normalize_issn(""), None);
    }

    #[test]
    fn doi_is_trimmed_and_lower_cased() {
        assert_eq!(normalize_doi(" 10.5555/SYNTH.C04.A ").as_deref(), Some("10.5555/synth.c04.a"));
        assert_eq!(normalize_doi("  "), None);
    }

    #[test]
    fn timestamps_from_each_shape() {
        // 2024-04-01T00:00:00Z is 1,711,929,600 s after the epoch (`date -d 2024-04-01Z +%s`).
        let expected = 1_711_929_600_000;
        assert_eq!(millis_from_iso("2024-04-01T00:00:00Z"), Some(expected));
        assert_eq!(millis_from_iso("2024-04-01T00:00:00.000"), Some(expected));
        assert_eq!(millis_from_iso("2024-04-01"), Some(expected));
        assert_eq!(millis_from_iso("April 2024"), None);
    }

    #[test]
    fn names_trimmed_and_deduplicated() {
        let names = vec![Cow::Borrowed("Ecology "), Cow::Borrowed(" Ecology"), Cow::Borrowed(""), Cow::Borrowed("Law")];
        assert_eq!(dedup_trimmed(&names), vec!["Ecology", "Law"]);
    }
}
