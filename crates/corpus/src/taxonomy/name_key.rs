//! Matching keys for ASJC names, so that spelling variants of one name compare equal.
//!
//! Crossref `subject` names and the distributed ASJC tables spell the same subject in
//! several ways: "Neurology (clinical)" against "Neurology(clinical)", "Modelling" against
//! "Modeling", "Pediatrics, Perinatology, and Child Health" against "Pediatrics,
//! Perinatology and Child Health", trailing spaces, `&` for `and`. A key keeps only the
//! words: lower-cased, split at every character that is not a letter or digit, British and
//! misspelt words replaced by one spelling, and the word `and` dropped.

/// Words that the ASJC tables or Crossref spell in more than one way, with the spelling
/// that keys use. Both sides of a comparison go through this map, so only the word needs
/// listing, never the whole name.
const SPELLINGS: &[(&str, &str)] = &[
    ("ageing", "aging"),
    ("anaesthesiology", "anesthesiology"),
    ("archaeology", "archeology"),
    ("behaviour", "behavior"),
    ("behavioural", "behavioral"),
    ("gynaecology", "gynecology"),
    ("haematology", "hematology"),
    ("miscalleneous", "miscellaneous"),
    ("modelling", "modeling"),
    ("optimisation", "optimization"),
    ("organisational", "organizational"),
    ("orthopaedics", "orthopedics"),
    ("paediatrics", "pediatrics"),
    ("palaeontology", "paleontology"),
    ("phychiatric", "psychiatric"),
    ("pshychiatric", "psychiatric"),
    ("specialised", "specialized"),
];

/// Builds the matching key of an ASJC name ("Neurology (Clinical) " gives
/// "neurology clinical"); an empty key means the name has no letters or digits.
pub(crate) fn name_key(name: &str) -> String {
    let lowered = name.to_lowercase();
    let mut key = String::with_capacity(lowered.len());
    for word in lowered.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || word == "and" {
            continue;
        }
        let word = SPELLINGS
            .iter()
            .find(|(variant, _)| *variant == word)
            .map_or(word, |(_, canonical)| canonical);
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(word);
    }
    key
}

/// Returns the field part of a Crossref general-field name such as "Medicine(all)" or
/// "veterinary (all)", or None when the name has no `(all)` suffix.
pub(crate) fn strip_all_suffix(name: &str) -> Option<&str> {
    let trimmed = name.trim_end();
    let suffix_start = trimmed.len().checked_sub("(all)".len())?;
    let suffix = trimmed.get(suffix_start..)?;
    if !suffix.eq_ignore_ascii_case("(all)") {
        return None;
    }
    let field = trimmed[..suffix_start].trim();
    (!field.is_empty()).then_some(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ignores_case_spacing_and_punctuation() {
        assert_eq!(name_key("  Neurology (Clinical) "), "neurology clinical");
        assert_eq!(name_key("Neurology(clinical)"), "neurology clinical");
        assert_eq!(name_key("Biochemistry, medical"), "biochemistry medical");
    }

    #[test]
    fn key_treats_ampersand_as_and() {
        assert_eq!(
            name_key("Arts & Humanities"),
            name_key("Arts and Humanities")
        );
        assert_eq!(
            name_key("Pediatrics, Perinatology, and Child Health"),
            "pediatrics perinatology child health"
        );
    }

    #[test]
    fn key_merges_british_spellings() {
        assert_eq!(name_key("Ecological Modelling"), "ecological modeling");
        assert_eq!(name_key("Palaeontology"), "paleontology");
        assert_eq!(
            name_key("Obstetrics and Gynaecology"),
            "obstetrics gynecology"
        );
    }

    #[test]
    fn key_of_punctuation_only_is_empty() {
        assert_eq!(name_key(" -- & "), "");
    }

    #[test]
    fn all_suffix_is_stripped() {
        assert_eq!(strip_all_suffix("Medicine(all)"), Some("Medicine"));
        assert_eq!(strip_all_suffix("veterinary (ALL) "), Some("veterinary"));
        assert_eq!(strip_all_suffix("Medicine"), None);
        assert_eq!(strip_all_suffix("(all)"), None);
    }
}
