//! Fuzzes the markup cleaner with any UTF-8 text and checks what its contract states:
//! cleaning never fails, the output has no whitespace at either end, and no run of two
//! spaces survives.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let cleaned = corpus::clean::clean_markup(raw);
    assert_eq!(cleaned.trim(), cleaned, "cleaned text keeps outer whitespace: {cleaned:?}");
    assert!(!cleaned.contains("  "), "cleaned text keeps a double space: {cleaned:?}");
    let _ = corpus::clean::count_residual_entities(&cleaned);
});
