//! Naming rules for models, aliases, pipelines, steps, parameters and metrics, checked before
//! anything is written so that a name always prints, sorts and round-trips cleanly.

use crate::StoreError;

const MAX_MODEL_NAME_CHARS: usize = 128;
const MAX_ALIAS_CHARS: usize = 64;
const MAX_KEY_CHARS: usize = 256;

/// Checks a model name: 1 to 128 ASCII letters, digits, `.`, `_` or `-`, starting with a
/// letter or digit. `@` is excluded because lineage ids are `<model>@<version>`.
pub fn validate_model_name(name: &str) -> Result<(), StoreError> {
    let invalid = |reason| StoreError::InvalidName {
        kind: "model name",
        name: name.to_string(),
        reason,
    };
    if name.is_empty() || name.len() > MAX_MODEL_NAME_CHARS {
        return Err(invalid("use 1 to 128 characters"));
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return Err(invalid("start with a letter or digit"));
    }
    if !name.bytes().all(is_name_byte) {
        return Err(invalid("use only ASCII letters, digits, '.', '_' and '-'"));
    }
    Ok(())
}

/// Checks an alias: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter,
/// so that an alias can never be mistaken for a version number.
pub fn validate_alias(alias: &str) -> Result<(), StoreError> {
    let invalid = |reason| StoreError::InvalidName {
        kind: "alias",
        name: alias.to_string(),
        reason,
    };
    if alias.is_empty() || alias.len() > MAX_ALIAS_CHARS {
        return Err(invalid("use 1 to 64 characters"));
    }
    if !alias.as_bytes()[0].is_ascii_alphabetic() {
        return Err(invalid(
            "start with a letter, so it cannot be read as a version number",
        ));
    }
    if !alias.bytes().all(is_name_byte) {
        return Err(invalid("use only ASCII letters, digits, '.', '_' and '-'"));
    }
    Ok(())
}

/// Checks a pipeline, step, parameter or metric name: 1 to 256 characters, no control
/// characters and no leading or trailing whitespace.
pub fn validate_key(kind: &'static str, key: &str) -> Result<(), StoreError> {
    let invalid = |reason| StoreError::InvalidName {
        kind,
        name: key.to_string(),
        reason,
    };
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(invalid("use 1 to 256 characters"));
    }
    if key.chars().any(char::is_control) {
        return Err(invalid("remove control characters"));
    }
    if key.trim() != key {
        return Err(invalid("remove leading and trailing whitespace"));
    }
    Ok(())
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_accept_and_reject() {
        assert!(validate_model_name("asjc-classifier").is_ok());
        assert!(validate_model_name("v2.tfidf_linear").is_ok());
        assert!(validate_model_name("").is_err());
        assert!(validate_model_name("-leading-dash").is_err());
        assert!(validate_model_name("has@at").is_err());
        assert!(validate_model_name("has space").is_err());
        assert!(validate_model_name(&"m".repeat(129)).is_err());
    }

    #[test]
    fn alias_must_start_with_letter() {
        assert!(validate_alias("production").is_ok());
        assert!(validate_alias("champion-2").is_ok());
        assert!(validate_alias("7").is_err());
        assert!(validate_alias("7up").is_err());
        assert!(validate_alias("").is_err());
    }

    #[test]
    fn keys_reject_control_and_padding() {
        assert!(validate_key("metric name", "val/f1 micro").is_ok());
        assert!(validate_key("metric name", " val_loss").is_err());
        assert!(validate_key("metric name", "val\nloss").is_err());
        assert!(validate_key("metric name", "").is_err());
    }
}
