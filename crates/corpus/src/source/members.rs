//! Selecting the top-level members of a JSON object that a parser reads, and skipping the
//! others without parsing them. Most of a Crossref record's bytes are reference and author
//! lists that topicops never reads. serde_json visits each of their tokens even to ignore
//! them, which cost as much CPU as decompressing the file. This module steps over them a
//! 64-byte block at a time and hands the parser a small object made of the members it reads.
//!
//! Skipped values are checked for balanced and matching brackets, closed strings without
//! raw line breaks, and bytes that cannot occur in JSON outside strings. They are not fully
//! parsed, so an error inside a skipped value that keeps its brackets and quotes balanced
//! goes unreported. simdjson's On-Demand API makes the same trade. A record that fails a
//! check is left to the full parse, which reports the error with its line and column. Every
//! record tries the selection first, wherever it sits in the file, so that a record gets the
//! same outcome at any position.

mod blocks;

use std::cell::RefCell;

use blocks::{classify_bytes, BlockMasks, BLOCK_BYTES};

/// Deepest nesting of a skipped value that the bracket check tracks, one bit per level.
/// Deeper values are left to the full parse, which skips them at any depth.
const MAX_DEPTH: u32 = 128;

thread_local! {
    /// The selected members of the record being parsed, reused between records.
    static SELECTED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Selects the members of the record at the start of `bytes` whose key `keep` accepts and
/// hands them to `parse` as the text of one JSON object. Returns the record's length in
/// bytes and what `parse` returned, or `None` when the selection fails (see
/// [`select_members`]), is not valid UTF-8, or `parse` returns `None`.
///
/// The UTF-8 check covers the selection only, which lets `parse` use `serde_json::from_str`
/// and skip serde_json's check of each string.
pub(crate) fn parse_selected<T>(
    bytes: &[u8],
    keep: impl Fn(&[u8]) -> bool,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Option<(usize, T)> {
    SELECTED.with_borrow_mut(|selected| {
        let length = select_members(bytes, keep, selected)?;
        let text = simdutf8::basic::from_utf8(selected).ok()?;
        Some((length, parse(text)?))
    })
}

/// Copies the members of the JSON object at the start of `bytes` whose key `keep` accepts
/// into `selected`, as one JSON object, and returns the length of the whole object in bytes.
///
/// Returns `None`, leaving the record to a full parse, when the object does not end within
/// `bytes`, a key contains an escape, or a check on a skipped value fails (see the module
/// documentation). `selected` is cleared first.
pub(crate) fn select_members(bytes: &[u8], keep: impl Fn(&[u8]) -> bool, selected: &mut Vec<u8>) -> Option<usize> {
    selected.clear();
    selected.push(b'{');
    if bytes.first() != Some(&b'{') {
        return None;
    }

    let mut index = skip_whitespace(bytes, 1);
    if bytes.get(index) == Some(&b'}') {
        selected.push(b'}');
        return Some(index + 1);
    }
    loop {
        if bytes.get(index) != Some(&b'"') {
            return None;
        }
        let key_end = skip_string(bytes, index)?;
        let key = &bytes[index + 1..key_end - 1];
        if memchr::memchr(b'\\', key).is_some() {
            return None;
        }
        let member_start = index;

        index = skip_whitespace(bytes, key_end);
        if bytes.get(index) != Some(&b':') {
            return None;
        }
        index = skip_whitespace(bytes, index + 1);
        let value_end = skip_value(bytes, index)?;
        if keep(key) {
            if selected.len() > 1 {
                selected.push(b',');
            }
            selected.extend_from_slice(&bytes[member_start..value_end]);
        }

        index = skip_whitespace(bytes, value_end);
        match bytes.get(index) {
            Some(b',') => index = skip_whitespace(bytes, index + 1),
            Some(b'}') => {
                selected.push(b'}');
                return Some(index + 1);
            }
            _ => return None,
        }
    }
}

/// True when `bytes` holds only JSON whitespace (space, tab, line feed, carriage return),
/// which unlike [`u8::is_ascii_whitespace`] excludes the form feed.
pub(crate) fn is_json_whitespace(bytes: &[u8]) -> bool {
    bytes.iter().all(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
}

fn skip_whitespace(bytes: &[u8], mut index: usize) -> usize {
    while bytes.get(index).is_some_and(|&byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')) {
        index += 1;
    }
    index
}

/// Returns the index after the string whose opening quote is at `start`. A raw line break
/// inside the string makes it `None`, also right after a backslash, which escapes no line
/// break in JSON. In JSON Lines the break means the record was cut, and the full parse
/// reports where.
fn skip_string(bytes: &[u8], start: usize) -> Option<usize> {
    let mut index = start + 1;
    loop {
        let found = index + memchr::memchr3(b'"', b'\\', b'\n', bytes.get(index..)?)?;
        match bytes[found] {
            b'"' => return Some(found + 1),
            b'\\' if bytes.get(found + 1) != Some(&b'\n') => index = found + 2,
            _ => return None,
        }
    }
}

/// Returns the index after the value starting at `start`.
fn skip_value(bytes: &[u8], start: usize) -> Option<usize> {
    match *bytes.get(start)? {
        b'"' => skip_string(bytes, start),
        b'{' | b'[' => skip_nested(bytes, start),
        b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
            // A number or literal ends at the first byte that none contains.
            let rest = &bytes[start..];
            let length = rest.iter().take_while(|byte| matches!(byte, b'0'..=b'9' | b'+' | b'-' | b'.' | b'E' | b'a'..=b'z')).count();
            Some(start + length)
        }
        _ => None,
    }
}

/// Returns the index after the object or array starting at `start`, checking that each
/// closing bracket matches its opening one.
///
/// Works on blocks of 64 bytes: the unescaped quotes of a block give the bytes inside
/// strings (a running XOR of the quote bits), and only the brackets outside strings are
/// visited one by one. Most bytes are therefore never looked at individually.
fn skip_nested(bytes: &[u8], start: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { skip_nested_avx2(bytes, start) };
    }
    skip_nested_with(bytes, start, classify_bytes)
}

/// [`skip_nested`] compiled for AVX2, so that the block classification inlines.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn skip_nested_avx2(bytes: &[u8], start: usize) -> Option<usize> {
    // SAFETY: this function only runs on CPUs with AVX2.
    skip_nested_with(bytes, start, |block| unsafe { blocks::avx2::classify(block) })
}

#[inline(always)]
fn skip_nested_with(bytes: &[u8], start: usize, classify: impl Fn(&[u8; BLOCK_BYTES]) -> BlockMasks) -> Option<usize> {
    // Bit 0 of `objects` is set when the innermost open container is an object, bit 1 when
    // the container around it is, and so on outwards.
    let mut objects: u128 = 0;
    let mut depth: u32 = 0;
    // All ones when the block before ended inside a string.
    let mut inside_carry: u64 = 0;
    // True when the block before ended with a backslash that escapes this block's first byte.
    let mut escape_carry = false;
    let mut block_start = start;
    loop {
        let rest = bytes.get(block_start..)?;
        if rest.is_empty() {
            return None;
        }
        // The last, partial block is copied and padded with zeros, which fall in none of the
        // masks. `in_block` marks the bytes that belong to the text.
        let mut padded = [0u8; BLOCK_BYTES];
        let (block, length) = match rest.first_chunk::<BLOCK_BYTES>() {
            Some(block) => (block, BLOCK_BYTES),
            None => {
                padded[..rest.len()].copy_from_slice(rest);
                (&padded, rest.len())
            }
        };
        let in_block = if length == BLOCK_BYTES { u64::MAX } else { (1u64 << length) - 1 };

        let masks = classify(block);
        let escaped = escaped_bytes(masks.backslash, &mut escape_carry);
        let inside = prefix_xor(masks.quote & !escaped) ^ inside_carry;
        inside_carry = 0u64.wrapping_sub(inside >> 63);
        let outside = !inside & in_block;
        if masks.line_feed & inside & in_block != 0 || masks.invalid & outside != 0 {
            return None;
        }

        let mut brackets = (masks.open | masks.close) & outside;
        while brackets != 0 {
            let index = brackets.trailing_zeros() as usize;
            brackets &= brackets - 1;
            let byte = block[index];
            if byte == b'{' || byte == b'[' {
                if depth == MAX_DEPTH {
                    return None;
                }
                objects = (objects << 1) | u128::from(byte == b'{');
                depth += 1;
            } else {
                if depth == 0 || (objects & 1 == 1) != (byte == b'}') {
                    return None;
                }
                objects >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Some(block_start + index + 1);
                }
            }
        }
        if length < BLOCK_BYTES {
            return None;
        }
        block_start += BLOCK_BYTES;
    }
}

/// Returns the mask of bytes escaped by a backslash, given the block's backslashes. A
/// backslash that is itself escaped escapes nothing. `carry` passes a backslash at the end of
/// one block on to the next.
fn escaped_bytes(backslashes: u64, carry: &mut bool) -> u64 {
    let mut escaped = 0u64;
    let mut escapers = backslashes;
    if std::mem::take(carry) {
        escaped = 1;
        escapers &= !1;
    }
    while escapers != 0 {
        let index = escapers.trailing_zeros();
        escapers &= escapers - 1;
        if index == 63 {
            *carry = true;
        } else {
            escaped |= 1 << (index + 1);
            escapers &= !(1 << (index + 1));
        }
    }
    escaped
}

/// Returns the running XOR of the bits of `quotes` from bit 0 up. Bit `i` is set when an odd
/// number of quotes lies at or before byte `i`, so when byte `i` is inside a string or is
/// its opening quote.
fn prefix_xor(quotes: u64) -> u64 {
    let mut inside = quotes;
    for shift in [1, 2, 4, 8, 16, 32] {
        inside ^= inside << shift;
    }
    inside
}

/// Returns the field names that serde's derive gives `T`, so that the keys a parser keeps
/// can be checked against the struct it deserializes.
#[cfg(test)]
pub(crate) fn struct_field_names<'de, T: serde::Deserialize<'de>>() -> Vec<&'static str> {
    /// A deserializer that records the field names passed to `deserialize_struct`.
    struct FieldNames(Vec<&'static str>);

    impl<'de> serde::Deserializer<'de> for &mut FieldNames {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("only structs are described"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields.to_vec();
            Err(serde::de::Error::custom("field names recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut names = FieldNames(Vec::new());
    let _ = T::deserialize(&mut names);
    names.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(text: &str, keys: &[&str]) -> Option<(usize, String)> {
        let mut selected = Vec::new();
        let length = select_members(text.as_bytes(), |key| keys.iter().any(|wanted| wanted.as_bytes() == key), &mut selected)?;
        Some((length, String::from_utf8(selected).unwrap()))
    }

    #[test]
    fn form_feed_is_not_json_whitespace() {
        assert!(is_json_whitespace(b" \t\r\n"));
        assert!(is_json_whitespace(b""));
        assert!(!is_json_whitespace(b" \x0c"));
    }

    #[test]
    fn keeps_wanted_members_in_order() {
        let text = r#"{"a": 1, "reference": [{"key": "r1", "x": [1, 2.5e3, true, null]}], "b" : "t\"x", "c": {}}"#;
        let (length, selected) = select(text, &["a", "b"]).unwrap();
        assert_eq!(length, text.len());
        assert_eq!(selected, r#"{"a": 1,"b" : "t\"x"}"#);
    }

    #[test]
    fn stops_at_end_of_object() {
        let text = "{\"a\": [\"]\"]}\n{\"a\": 2}";
        let (length, selected) = select(text, &["a"]).unwrap();
        assert_eq!(length, 12);
        assert_eq!(selected, r#"{"a": ["]"]}"#);
    }

    #[test]
    fn empty_object_and_no_wanted_members() {
        assert_eq!(select("{ }", &["a"]), Some((3, "{}".to_string())));
        assert_eq!(select(r#"{"z": [[]]}"#, &["a"]), Some((11, "{}".to_string())));
    }

    #[test]
    fn pretty_printed_object() {
        let text = "{\n  \"a\" : {\n    \"b\": [\n      1\n    ]\n  },\n  \"c\": null\n}";
        let (length, selected) = select(text, &["c"]).unwrap();
        assert_eq!(length, text.len());
        assert_eq!(selected, r#"{"c": null}"#);
    }

    #[test]
    fn escaped_backslash_before_quote() {
        let text = r#"{"a": "x\\", "b": 1}"#;
        assert_eq!(select(text, &["b"]), Some((text.len(), r#"{"b": 1}"#.to_string())));
    }

    #[test]
    fn unfinished_objects_are_left_to_parser() {
        for text in [r#"{"a": 1"#, r#"{"a": [1, 2}"#, r#"{"a": "open"#, r#"{"a": {"b": 1]}"#, r#"{"a": [1]]}"#, "{\"a\": [1}"] {
            assert_eq!(select(text, &["a"]), None, "{text}");
        }
    }

    #[test]
    fn invalid_bytes_are_left_to_parser() {
        for text in [r#"{"a": [1, x]}"#, r#"{"a" 1}"#, r#"{a: 1}"#, r#"{"a": 1 "b": 2}"#, r#"{"a": }"#, "[1]", r#"{"a": 1,}"#] {
            assert_eq!(select(text, &["a"]), None, "{text}");
        }
    }

    #[test]
    fn escaped_key_is_left_to_parser() {
        assert_eq!(select(r#"{"DO\u0049": "x"}"#, &["DOI"]), None);
    }

    #[test]
    fn line_break_in_string_is_left_to_parser() {
        assert_eq!(select("{\"z\": \"cut\n{\"a\": 1}", &["a"]), None);
    }

    #[test]
    fn escaped_line_break_is_left_to_parser() {
        // A line cut after a backslash, then a line whose first key closes the object. Taking
        // the backslash as an escape of the line feed would end the record on the next line.
        let text = "{\"a\": 1, \"z\": \"cut\\\n{\"}\": 2}\n";
        assert_eq!(select(text, &["a"]), None);
        assert_eq!(select("{\"a\": \"cut\\\n{\"}\": 2}\n", &["a"]), None);
        assert_eq!(select("{\"z\": [\"cut\\\n{\"]}\": 2}\n", &["a"]), None);
    }

    /// Writes a random JSON value: nested containers and strings full of escapes, quotes
    /// and brackets, so that string and escape state cross 64-byte block edges.
    fn random_value(state: &mut u64, depth: u32, out: &mut String) {
        fn step(state: &mut u64) -> u64 {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state
        }
        let pick = step(state) % 8;
        if depth > 5 || pick < 3 {
            let pieces = ["a", "\\\\", "\\\"", "[", "}", " ", "\\u00e9", "é", "\\n", "{\\\"x\\\": [1]}"];
            out.push('"');
            for _ in 0..step(state) % 40 {
                out.push_str(pieces[(step(state) % pieces.len() as u64) as usize]);
            }
            out.push('"');
        } else if pick < 4 {
            out.push_str(["12", "-3.5e7", "true", "false", "null"][(step(state) % 5) as usize]);
        } else {
            let object = pick < 6;
            out.push(if object { '{' } else { '[' });
            let members = step(state) % 6;
            for member in 0..members {
                if member > 0 {
                    out.push_str(if step(state) & 1 == 0 { "," } else { ",\n    " });
                }
                if object {
                    out.push_str("\"k\": ");
                }
                random_value(state, depth + 1, out);
            }
            out.push(if object { '}' } else { ']' });
        }
    }

    #[test]
    fn skipped_values_end_where_serde_json_ends() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for case in 0..3000 {
            let mut value = String::new();
            random_value(&mut state, 0, &mut value);
            let text = format!("{{\"z\":{}{value}, \"a\": 1}}", " ".repeat(case % 70));
            let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
            assert!(stream.next().unwrap().is_ok(), "case {case}: {text}");
            let selected = select(&text, &["a"]);
            assert_eq!(selected, Some((stream.byte_offset(), r#"{"a": 1}"#.to_string())), "case {case}: {text}");
        }
    }

    #[test]
    fn mutated_records_never_panic() {
        // Single-byte changes, cuts and insertions of a record: the selection may fail, but
        // when it succeeds on text serde_json accepts, both must agree on where it ends.
        let record = br#"{"DOI": "10.1/a", "reference": [{"key": "k\"1", "unstructured": "A [b] {c}"}, {"doi": "x"}],
            "title": ["T"], "issued": {"date-parts": [[2001, 2]]}, "score": -1.5e3, "x": [true, false, null]}"#;
        let alphabet = b"\"\\{}[],: \n9ex\xc3";
        let mut state = 0x1234_5678_9abc_def0_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut text = record.to_vec();
            let at = (state >> 8) as usize % text.len();
            let byte = alphabet[(state >> 40) as usize % alphabet.len()];
            match state % 3 {
                0 => text[at] = byte,
                1 => text.truncate(at),
                _ => text.insert(at, byte),
            }
            let mut selected = Vec::new();
            let Some(length) = select_members(&text, |key| key == b"title", &mut selected) else { continue };
            let mut stream = serde_json::Deserializer::from_slice(&text).into_iter::<serde::de::IgnoredAny>();
            if let Some(Ok(_)) = stream.next() {
                assert_eq!(length, stream.byte_offset(), "{}", String::from_utf8_lossy(&text));
            }
        }
    }

    #[test]
    fn deep_nesting_is_left_to_parser() {
        let nested = |depth: usize| format!("{{\"z\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
        assert!(select(&nested(128), &["a"]).is_some());
        assert_eq!(select(&nested(129), &["a"]), None);
    }
}
