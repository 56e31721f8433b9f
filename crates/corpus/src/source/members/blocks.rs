//! Bit masks of the bytes in a 64-byte block that matter when skipping JSON: quotes,
//! backslashes, line feeds, brackets, and bytes that cannot occur outside strings. Bit `i` of
//! each mask stands for byte `i` of the block. x86_64 CPUs with AVX2 classify 32 bytes per
//! instruction; other CPUs use a loop over the bytes, which gives the same masks.

/// Bytes per block: one bit of a `u64` mask each.
pub(super) const BLOCK_BYTES: usize = 64;

/// The bytes of one block, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct BlockMasks {
    pub quote: u64,
    pub backslash: u64,
    pub line_feed: u64,
    /// `{` and `[`.
    pub open: u64,
    /// `}` and `]`.
    pub close: u64,
    /// Bytes that cannot occur in JSON outside a string, to the precision
    /// [`is_allowed_outside_strings`] states.
    pub invalid: u64,
}

/// True for the bytes that may occur in JSON outside strings, up to a few byte ranges that
/// SIMD compares test at once. Besides whitespace, brackets, quotes, `,`, `:` and the bytes
/// of numbers and literals, the check lets through the other control bytes, `/`, and the
/// letters `b` to `u` that no literal uses.
fn is_allowed_outside_strings(byte: u8) -> bool {
    matches!(byte, 0..=b' ' | b'"' | b'+'..=b':' | b'E' | b'[' | b']' | b'a'..=b'u' | b'{' | b'}')
}

/// Classifies `block` one byte at a time: the fallback for CPUs without AVX2, and the
/// reference the AVX2 version is tested against.
pub(super) fn classify_bytes(block: &[u8; BLOCK_BYTES]) -> BlockMasks {
    let mut masks = BlockMasks::default();
    for (index, &byte) in block.iter().enumerate() {
        let bit = 1u64 << index;
        match byte {
            b'"' => masks.quote |= bit,
            b'\\' => masks.backslash |= bit,
            b'\n' => masks.line_feed |= bit,
            b'{' | b'[' => masks.open |= bit,
            b'}' | b']' => masks.close |= bit,
            _ => {}
        }
        if !is_allowed_outside_strings(byte) {
            masks.invalid |= bit;
        }
    }
    masks
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_sub_epi8,
    };

    use super::{BlockMasks, BLOCK_BYTES};

    /// Bytes per AVX2 register.
    const LANE_BYTES: usize = 32;

    /// Classifies the 64 bytes of `block`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(in crate::source::members) unsafe fn classify(block: &[u8; BLOCK_BYTES]) -> BlockMasks {
        let (low, high) = block.split_at(LANE_BYTES);
        // SAFETY: each unaligned load reads the 32 bytes of its half of `block`.
        let low = classify_lane(_mm256_loadu_si256(low.as_ptr().cast::<__m256i>()));
        let high = classify_lane(_mm256_loadu_si256(high.as_ptr().cast::<__m256i>()));
        let join = |index: usize| u64::from(low[index]) | (u64::from(high[index]) << LANE_BYTES);
        BlockMasks {
            quote: join(0),
            backslash: join(1),
            line_feed: join(2),
            open: join(3),
            close: join(4),
            invalid: !join(5),
        }
    }

    /// Returns, for the 32 bytes of `bytes`, the masks of quotes, backslashes, line feeds,
    /// opening brackets, closing brackets, and bytes allowed outside strings, in that order.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn classify_lane(bytes: __m256i) -> [u32; 6] {
        let equal = |byte: u8| _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8(byte as i8));
        // `byte - low`, wrapping, is at most `high - low` as an unsigned byte exactly when
        // `byte` lies in `low..=high`.
        let within = |low: u8, high: u8| {
            let from_low = _mm256_sub_epi8(bytes, _mm256_set1_epi8(low as i8));
            _mm256_cmpeq_epi8(_mm256_min_epu8(from_low, _mm256_set1_epi8((high - low) as i8)), from_low)
        };
        let mask = |matches: __m256i| _mm256_movemask_epi8(matches) as u32;

        let quote = equal(b'"');
        let open = _mm256_or_si256(equal(b'{'), equal(b'['));
        let close = _mm256_or_si256(equal(b'}'), equal(b']'));
        let mut allowed = _mm256_or_si256(within(0, b' '), quote);
        for matches in [open, close, within(b'+', b':'), within(b'a', b'u'), equal(b'E')] {
            allowed = _mm256_or_si256(allowed, matches);
        }

        [mask(quote), mask(equal(b'\\')), mask(equal(b'\n')), mask(open), mask(close), mask(allowed)]
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// Classifies `block` with AVX2, or returns `None` on a CPU without it.
    fn classify_avx2(block: &[u8; BLOCK_BYTES]) -> Option<BlockMasks> {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("SKIPPED: this CPU has no AVX2");
            return None;
        }
        // SAFETY: the CPU supports AVX2, checked above.
        Some(unsafe { avx2::classify(block) })
    }

    #[test]
    fn avx2_matches_byte_loop() {
        // Blocks drawn from an alphabet of the bytes that matter and some that do not,
        // including bytes above 0x7f, which signed SIMD compares could confuse.
        let alphabet = b"\"\\\n{}[]09 \t\r,:+-.eEtrufalsnxyzAZ/\x00\x1f\x7f\x80\xc3\xff";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2000 {
            let mut block = [0u8; BLOCK_BYTES];
            for byte in &mut block {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *byte = alphabet[(state % alphabet.len() as u64) as usize];
            }
            let Some(masks) = classify_avx2(&block) else { return };
            assert_eq!(masks, classify_bytes(&block), "{block:?}");
        }
    }

    #[test]
    fn avx2_classifies_every_byte_value() {
        for value in 0..=255u8 {
            let mut block = [b' '; BLOCK_BYTES];
            block[value as usize % BLOCK_BYTES] = value;
            block[BLOCK_BYTES - 1] = value;
            let Some(masks) = classify_avx2(&block) else { return };
            assert_eq!(masks, classify_bytes(&block), "byte 0x{value:02x}");
        }
    }

    #[test]
    fn byte_loop_masks_of_known_block() {
        let mut block = [b' '; BLOCK_BYTES];
        // Bytes 0 to 10: `{`, `"`, `a`, `\`, `"`, `"`, `:`, ` `, `[`, `x`, `]`.
        block[..11].copy_from_slice(b"{\"a\\\"\": [x]");
        block[63] = b'\n';
        let masks = classify_bytes(&block);
        assert_eq!(masks.quote, (1 << 1) | (1 << 4) | (1 << 5));
        assert_eq!(masks.backslash, 1 << 3);
        assert_eq!(masks.open, 1 | (1 << 8));
        assert_eq!(masks.close, 1 << 10);
        assert_eq!(masks.invalid, (1 << 3) | (1 << 9));
        assert_eq!(masks.line_feed, 1 << 63);
    }
}
