//! Exact storage of metric values, including NaN and the infinities: SQLite turns NaN into
//! NULL, so each value is stored as a nullable REAL plus a kind (`finite`, `nan`, `inf`,
//! `-inf`). JSON has no non-finite numbers either, so [`nonfinite_f64`] writes them as the
//! strings `NaN`, `Infinity` and `-Infinity` and reads them back.

use crate::StoreError;

/// Splits a value into the `metrics.value` and `metrics.value_kind` columns.
///
/// NOTE: SQLite stores -0.0 as 0.0, so a negative zero reads back as positive zero.
pub(crate) fn encode(value: f64) -> (Option<f64>, &'static str) {
    if value.is_nan() {
        (None, "nan")
    } else if value == f64::INFINITY {
        (None, "inf")
    } else if value == f64::NEG_INFINITY {
        (None, "-inf")
    } else {
        (Some(value), "finite")
    }
}

/// Rebuilds a value from the `metrics.value` and `metrics.value_kind` columns.
pub(crate) fn decode(value: Option<f64>, kind: &str) -> Result<f64, StoreError> {
    match (kind, value) {
        ("finite", Some(value)) => Ok(value),
        ("nan", None) => Ok(f64::NAN),
        ("inf", None) => Ok(f64::INFINITY),
        ("-inf", None) => Ok(f64::NEG_INFINITY),
        _ => Err(StoreError::InvalidRecord {
            table: "metrics",
            column: "value_kind",
            value: format!("{kind} with value {value:?}"),
        }),
    }
}

/// Reads a metric value from JSON: a number, or one of the strings `NaN`, `Infinity`, `+Infinity`,
/// `-Infinity`, `inf` and `-inf` (any letter case). Returns `None` for anything else.
pub fn parse_metric_value(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(number) => number.as_f64(),
        serde_json::Value::String(text) => parse_nonfinite(text),
        _ => None,
    }
}

fn parse_nonfinite(text: &str) -> Option<f64> {
    match text.trim().to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "+infinity" | "inf" | "+inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Serde helpers for an `f64` field that may be non-finite: finite values are JSON numbers,
/// the others the strings `NaN`, `Infinity` and `-Infinity`. Use with
/// `#[serde(with = "store::nonfinite_f64")]`.
pub mod nonfinite_f64 {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a finite value as a number and a non-finite one as a string.
    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_nan() {
            serializer.serialize_str("NaN")
        } else if *value == f64::INFINITY {
            serializer.serialize_str("Infinity")
        } else if *value == f64::NEG_INFINITY {
            serializer.serialize_str("-Infinity")
        } else {
            serializer.serialize_f64(*value)
        }
    }

    /// Reads a number, or a string accepted by [`super::parse_metric_value`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        super::parse_metric_value(&value).ok_or_else(|| {
            D::Error::custom(format!(
                "invalid metric value {value}: expected a number or \"NaN\", \"Infinity\" or \"-Infinity\""
            ))
        })
    }
}

/// Serde helpers for a `BTreeMap<String, f64>` whose values may be non-finite, written as
/// [`nonfinite_f64`] writes single values.
pub mod nonfinite_map {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Converts the map to a JSON object, non-finite values as strings.
    pub fn to_json(map: &BTreeMap<String, f64>) -> serde_json::Value {
        let object = map
            .iter()
            .map(|(key, value)| (key.clone(), value_to_json(*value)))
            .collect();
        serde_json::Value::Object(object)
    }

    /// Reads a JSON object written by [`to_json`]; fails on anything else.
    pub fn from_json(json: &serde_json::Value) -> Result<BTreeMap<String, f64>, String> {
        let Some(object) = json.as_object() else {
            return Err(format!(
                "expected a JSON object of metric values, found {json}"
            ));
        };
        object
            .iter()
            .map(|(key, value)| match super::parse_metric_value(value) {
                Some(number) => Ok((key.clone(), number)),
                None => Err(format!("invalid value {value} for metric `{key}`")),
            })
            .collect()
    }

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        to_json(map).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        let json = serde_json::Value::deserialize(deserializer)?;
        from_json(&json).map_err(D::Error::custom)
    }

    fn value_to_json(value: f64) -> serde_json::Value {
        match serde_json::Number::from_f64(value) {
            Some(number) => serde_json::Value::Number(number),
            None if value.is_nan() => serde_json::Value::from("NaN"),
            None if value > 0.0 => serde_json::Value::from("Infinity"),
            None => serde_json::Value::from("-Infinity"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trips_every_kind() {
        for value in [
            0.82,
            -3.5,
            0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let (column, kind) = encode(value);
            assert_eq!(decode(column, kind).unwrap(), value);
        }
        let (column, kind) = encode(f64::NAN);
        assert_eq!((column, kind), (None, "nan"));
        assert!(decode(column, kind).unwrap().is_nan());
    }

    #[test]
    fn decode_rejects_mismatched_columns() {
        assert!(decode(None, "finite").is_err());
        assert!(decode(Some(1.0), "nan").is_err());
        assert!(decode(None, "huge").is_err());
    }

    #[test]
    fn json_strings_parse_as_nonfinite() {
        assert_eq!(
            parse_metric_value(&serde_json::json!("Infinity")),
            Some(f64::INFINITY)
        );
        assert_eq!(
            parse_metric_value(&serde_json::json!("-Infinity")),
            Some(f64::NEG_INFINITY)
        );
        assert!(parse_metric_value(&serde_json::json!("NaN"))
            .unwrap()
            .is_nan());
        assert_eq!(parse_metric_value(&serde_json::json!(0.41)), Some(0.41));
        assert_eq!(parse_metric_value(&serde_json::json!("0.41")), None);
        assert_eq!(parse_metric_value(&serde_json::json!(null)), None);
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Wrapped(#[serde(with = "nonfinite_f64")] f64);

    #[test]
    fn serde_helper_writes_strings_for_nonfinite() {
        assert_eq!(
            serde_json::to_string(&Wrapped(f64::NEG_INFINITY)).unwrap(),
            "\"-Infinity\""
        );
        assert_eq!(
            serde_json::to_string(&Wrapped(f64::NAN)).unwrap(),
            "\"NaN\""
        );
        assert_eq!(serde_json::to_string(&Wrapped(0.5)).unwrap(), "0.5");
        let back: Wrapped = serde_json::from_str("\"Infinity\"").unwrap();
        assert_eq!(back.0, f64::INFINITY);
    }

    #[test]
    fn metric_map_round_trips_through_json() {
        let mut map = std::collections::BTreeMap::new();
        map.insert("val_loss".to_string(), f64::NEG_INFINITY);
        map.insert("val_f1_micro".to_string(), f64::NAN);
        map.insert("train_loss".to_string(), 0.25);

        let json = nonfinite_map::to_json(&map);
        let back = nonfinite_map::from_json(&json).unwrap();

        assert_eq!(
            json.to_string(),
            r#"{"train_loss":0.25,"val_f1_micro":"NaN","val_loss":"-Infinity"}"#
        );
        assert_eq!(back["val_loss"], f64::NEG_INFINITY);
        assert!(back["val_f1_micro"].is_nan());
        assert_eq!(back["train_loss"], 0.25);
    }
}
