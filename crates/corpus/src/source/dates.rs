//! Typed, allocation-free readers for two small Crossref objects: date objects
//! (`{"date-parts": [[2020, 4, 7]], "date-time": "...", "timestamp": ...}`) and `issn-type`
//! entries. Both tolerate the shapes seen in 2015-2025 records. These are `[[null]]`,
//! numbers as strings, missing keys, and a bare value where an object or list belongs.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::fields::{millis_from_iso, year_from_iso};

/// Smallest and largest year accepted; values outside are treated as missing.
const YEAR_RANGE: std::ops::RangeInclusive<i64> = 1..=9999;

/// The parts of a Crossref date object that topicops uses.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CrossrefDate {
    /// First element of `date-parts[0]`.
    pub year: Option<i32>,
    /// `timestamp`, in milliseconds since the Unix epoch.
    pub timestamp_ms: Option<i64>,
    /// `date-time` converted to milliseconds since the Unix epoch.
    pub date_time_ms: Option<i64>,
    /// Year of `date-time`, used when `date-parts` gives none.
    pub date_time_year: Option<i32>,
}

impl CrossrefDate {
    /// Returns the year from `date-parts`, else from `date-time`.
    pub fn year(&self) -> Option<i32> {
        self.year.or(self.date_time_year)
    }

    /// Returns `timestamp`, else `date-time`, in milliseconds.
    pub fn millis(&self) -> Option<i64> {
        self.timestamp_ms.or(self.date_time_ms)
    }
}

/// A JSON number or numeric string read as an integer; anything else reads as `None`.
struct LooseInteger(Option<i64>);

impl<'de> Deserialize<'de> for LooseInteger {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseIntegerVisitor;
        impl<'de> Visitor<'de> for LooseIntegerVisitor {
            type Value = LooseInteger;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<LooseInteger, E> {
                Ok(LooseInteger(Some(value)))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<LooseInteger, E> {
                Ok(LooseInteger(i64::try_from(value).ok()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<LooseInteger, E> {
                Ok(LooseInteger(value.is_finite().then_some(value as i64)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<LooseInteger, E> {
                Ok(LooseInteger(value.trim().parse().ok()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LooseInteger, E> {
                Ok(LooseInteger(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LooseInteger, E> {
                Ok(LooseInteger(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LooseInteger, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LooseInteger(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LooseInteger, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LooseInteger(None))
            }
        }
        deserializer.deserialize_any(LooseIntegerVisitor)
    }
}

/// The first integer of the first list of `date-parts` (`[[2020, 4, 7]]` gives 2020).
struct FirstPart(Option<i64>);

impl<'de> Deserialize<'de> for FirstPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstPartVisitor {
            /// 0 for the outer list, 1 for the first inner list.
            level: u8,
        }
        impl<'de> Visitor<'de> for FirstPartVisitor {
            type Value = FirstPart;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("date parts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FirstPart, A::Error> {
                let first = if self.level == 0 {
                    seq.next_element_seed(FirstPartSeed)?.and_then(|part| part.0)
                } else {
                    seq.next_element::<LooseInteger>()?.and_then(|value| value.0)
                };
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstPart(first))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<FirstPart, E> {
                Ok(FirstPart((self.level == 1).then_some(value)))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<FirstPart, E> {
                Ok(FirstPart(if self.level == 1 { i64::try_from(value).ok() } else { None }))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<FirstPart, E> {
                Ok(FirstPart(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<FirstPart, E> {
                Ok(FirstPart(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<FirstPart, E> {
                Ok(FirstPart(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<FirstPart, E> {
                Ok(FirstPart(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstPart, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(FirstPart(None))
            }
        }

        /// Reads the first inner list.
        struct FirstPartSeed;
        impl<'de> de::DeserializeSeed<'de> for FirstPartSeed {
            type Value = FirstPart;
            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<FirstPart, D::Error> {
                deserializer.deserialize_any(FirstPartVisitor { level: 1 })
            }
        }

        deserializer.deserialize_any(FirstPartVisitor { level: 0 })
    }
}

impl<'de> Deserialize<'de> for CrossrefDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl<'de> Visitor<'de> for DateVisitor {
            type Value = CrossrefDate;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a Crossref date object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CrossrefDate, A::Error> {
                let mut date = CrossrefDate::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "date-parts" => {
                            let year = map.next_value::<FirstPart>()?.0;
                            date.year = year.filter(|year| YEAR_RANGE.contains(year)).map(|year| year as i32);
                        }
                        "timestamp" => date.timestamp_ms = map.next_value::<LooseInteger>()?.0,
                        "date-time" => {
                            if let Some(text) = map.next_value::<Option<Cow<'de, str>>>().ok().flatten() {
                                date.date_time_ms = millis_from_iso(&text);
                                date.date_time_year = year_from_iso(&text);
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(date)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CrossrefDate, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(CrossrefDate::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<CrossrefDate, E> {
                Ok(CrossrefDate::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<CrossrefDate, E> {
                Ok(CrossrefDate::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<CrossrefDate, E> {
                Ok(CrossrefDate::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<CrossrefDate, E> {
                Ok(CrossrefDate::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<CrossrefDate, E> {
                Ok(CrossrefDate::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<CrossrefDate, E> {
                Ok(CrossrefDate::default())
            }
        }
        deserializer.deserialize_any(DateVisitor)
    }
}

/// The ISSNs of an `issn-type` field: the `value` of each `{"value", "type"}` entry; a single
/// entry or bare strings are accepted too.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IssnTypes<'a>(pub Vec<Cow<'a, str>>);

struct IssnTypesVisitor<'a> {
    /// True inside the list, where an element is one entry.
    in_list: bool,
    marker: PhantomData<&'a ()>,
}

impl<'de: 'a, 'a> Visitor<'de> for IssnTypesVisitor<'a> {
    type Value = IssnTypes<'a>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("issn-type entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IssnTypes<'a>, A::Error> {
        let mut values = Vec::new();
        if self.in_list {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(IssnTypes(values));
        }
        while let Some(entry) = seq.next_element_seed(IssnTypesSeed(PhantomData))? {
            values.extend(entry.0);
        }
        Ok(IssnTypes(values))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IssnTypes<'a>, A::Error> {
        let mut values = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "value" {
                values.extend(map.next_value::<super::fields::StringList<'a>>()?.values);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(IssnTypes(values))
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<IssnTypes<'a>, E> {
        Ok(IssnTypes(vec![Cow::Borrowed(value)]))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<IssnTypes<'a>, E> {
        Ok(IssnTypes(vec![Cow::Owned(value.to_string())]))
    }
    fn visit_unit<E: de::Error>(self) -> Result<IssnTypes<'a>, E> {
        Ok(IssnTypes::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<IssnTypes<'a>, E> {
        Ok(IssnTypes::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<IssnTypes<'a>, E> {
        Ok(IssnTypes::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<IssnTypes<'a>, E> {
        Ok(IssnTypes::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<IssnTypes<'a>, E> {
        Ok(IssnTypes::default())
    }
}

/// Reads one element of the `issn-type` list.
struct IssnTypesSeed<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for IssnTypesSeed<'a> {
    type Value = IssnTypes<'a>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<IssnTypes<'a>, D::Error> {
        deserializer.deserialize_any(IssnTypesVisitor { in_list: true, marker: PhantomData })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for IssnTypes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IssnTypesVisitor { in_list: false, marker: PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> CrossrefDate {
        match serde_json::from_str(text) {
            Ok(date) => date,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    #[test]
    fn date_shapes_give_year() {
        assert_eq!(date(r#"{"date-parts": [[2015, 6, 2]]}"#).year(), Some(2015));
        assert_eq!(date(r#"{"date-parts": [["2015", "6"]]}"#).year(), Some(2015));
        assert_eq!(date(r#"{"date-parts": [[null]]}"#).year(), None);
        assert_eq!(date(r#"{"date-parts": []}"#).year(), None);
        assert_eq!(date(r#"{"date-parts": [[0]]}"#).year(), None);
        assert_eq!(date(r#"{"date-parts": [[null]], "date-time": "2019-01-02T00:00:00Z"}"#).year(), Some(2019));
        assert_eq!(date(r#"{"date-parts": 2015}"#).year(), None);
        assert_eq!(date("{}").year(), None);
        assert_eq!(date("null"), CrossrefDate::default());
        assert_eq!(date(r#""2015""#), CrossrefDate::default());
    }

    #[test]
    fn date_timestamp_then_date_time() {
        // 2024-04-01T00:00:00Z is 1,711,929,600 s after the epoch (`date -d 2024-04-01Z +%s`).
        let expected = 1_711_929_600_000;
        assert_eq!(date(r#"{"timestamp": 1711929600000, "date-time": "2000-01-01T00:00:00Z"}"#).millis(), Some(expected));
        assert_eq!(date(r#"{"timestamp": "1711929600000"}"#).millis(), Some(expected));
        assert_eq!(date(r#"{"date-time": "2024-04-01T00:00:00Z"}"#).millis(), Some(expected));
        assert_eq!(date(r#"{"timestamp": null, "date-time": 5}"#).millis(), None);
    }

    #[test]
    fn issn_type_shapes() {
        let parse = |text: &str| -> Vec<String> {
            let types: IssnTypes<'_> = serde_json::from_str(text).unwrap();
            types.0.into_iter().map(Cow::into_owned).collect()
        };
        assert_eq!(parse(r#"[{"value": "0003-987X", "type": "print"}, {"type": "electronic", "value": "2168-6068"}]"#), vec!["0003-987X", "2168-6068"]);
        assert_eq!(parse(r#"{"value": "0003-987X", "type": "print"}"#), vec!["0003-987X"]);
        assert_eq!(parse(r#"["0003-987X", {"type": "print"}, 5]"#), vec!["0003-987X"]);
        assert!(parse("null").is_empty());
    }
}
