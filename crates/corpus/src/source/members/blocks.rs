//! Bit masks of the bytes in a 64-byte block that matter when skipping JSON: quotes,
//! backslashes, line feeds, brackets, and bytes that cannot occur outside strings. Bit `i` of
//! each mask stands for byte `i` of the block. On x86_64, SSE2 (part of the x86_64 baseline,
//! so no run-time check is needed) classifies 16 bytes per instruction; other targets use a
//! loop over the bytes.

/// Bytes per block: one bit of a `u64` mask each.
pub(super) const BLOCK_BYTES: usize = 64;

/// The bytes of one block, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct BlockMasks {
    pub quote: u64,
    pub backslash: u64,
    pub line_feed: u64,
    pub open_object: u64,
    pub close_object: u64,
    pub open_array: u64,
    pub close_array: u64,
    /// Bytes that cannot occur in JSON outside a string: anything but whitespace, brackets,
    /// quotes, `,` and `:`, and the characters of numbers, `true`, `false` and `null`, to
    /// the precision [`is_allowed_outside_strings`] states.
    pub invalid: u64,
}

/// Classifies the 64 bytes of `block`.
#[inline(always)]
pub(super) fn classify(block: &[u8; BLOCK_BYTES]) -> BlockMasks {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::classify(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        classify_bytes(block)
    }
}

/// True for the bytes that may occur in JSON outside strings, up to a few byte ranges that a
/// handful of SIMD compares can test: the check also lets through `/`, vertical tab, form
/// feed, and the letters `b` to `u` that no literal uses.
fn is_allowed_outside_strings(byte: u8) -> bool {
    matches!(byte, b'\t'..=b'\r' | b' ' | b'"' | b'+'..=b':' | b'E' | b'[' | b']' | b'a'..=b'u' | b'{' | b'}')
}

/// Classifies `block` one byte at a time; the reference the SIMD version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn classify_bytes(block: &[u8; BLOCK_BYTES]) -> BlockMasks {
    let mut masks = BlockMasks::default();
    for (index, &byte) in block.iter().enumerate() {
        let bit = 1u64 << index;
        match byte {
            b'"' => masks.quote |= bit,
            b'\\' => masks.backslash |= bit,
            b'\n' => masks.line_feed |= bit,
            b'{' => masks.open_object |= bit,
            b'}' => masks.close_object |= bit,
            b'[' => masks.open_array |= bit,
            b']' => masks.close_array |= bit,
            _ => {}
        }
        if !is_allowed_outside_strings(byte) {
            masks.invalid |= bit;
        }
    }
    masks
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_sub_epi8,
    };

    use super::{BlockMasks, BLOCK_BYTES};

    /// Bytes per SSE2 register.
    const LANE_BYTES: usize = 16;

    #[inline(always)]
    pub(super) fn classify(block: &[u8; BLOCK_BYTES]) -> BlockMasks {
        let mut masks = BlockMasks::default();
        for (lane, bytes) in block.chunks_exact(LANE_BYTES).enumerate() {
            // SAFETY: SSE2 is enabled on every x86_64 target, and the unaligned load reads
            // the 16 bytes of `bytes`, which `chunks_exact` guarantees are there.
            let lane_masks = unsafe { classify_lane(_mm_loadu_si128(bytes.as_ptr().cast::<__m128i>())) };
            let shift = lane * LANE_BYTES;
            masks.quote |= u64::from(lane_masks[0]) << shift;
            masks.backslash |= u64::from(lane_masks[1]) << shift;
            masks.line_feed |= u64::from(lane_masks[2]) << shift;
            masks.open_object |= u64::from(lane_masks[3]) << shift;
            masks.close_object |= u64::from(lane_masks[4]) << shift;
            masks.open_array |= u64::from(lane_masks[5]) << shift;
            masks.close_array |= u64::from(lane_masks[6]) << shift;
            masks.invalid |= u64::from(!lane_masks[7]) << shift;
        }
        masks
    }

    /// Returns, for the 16 bytes of `bytes`, the masks of quotes, backslashes, line feeds,
    /// `{`, `}`, `[`, `]`, and of the bytes allowed outside strings, in that order.
    ///
    /// # Safety
    /// The CPU must support SSE2, which every x86_64 CPU does.
    #[inline(always)]
    unsafe fn classify_lane(bytes: __m128i) -> [u16; 8] {
        let equal = |byte: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8));
        let mask = |matches: __m128i| _mm_movemask_epi8(matches) as u16;

        let quote = equal(b'"');
        let line_feed = equal(b'\n');
        let open_object = equal(b'{');
        let close_object = equal(b'}');
        let open_array = equal(b'[');
        let close_array = equal(b']');

        // `byte - low`, wrapping, is at most `high - low` as an unsigned byte exactly when
        // `byte` lies in `low..=high`.
        let within = |low: u8, high: u8| {
            let from_low = _mm_sub_epi8(bytes, _mm_set1_epi8(low as i8));
            _mm_cmpeq_epi8(_mm_min_epu8(from_low, _mm_set1_epi8((high - low) as i8)), from_low)
        };
        // Whitespace, `+` to `:` (signs, separators, digits), letters, brackets and quotes.
        let mut allowed = _mm_or_si128(within(b'\t', b'\r'), equal(b' '));
        for matches in [within(b'+', b':'), within(b'a', b'u'), equal(b'E'), quote, open_object, close_object, open_array, close_array] {
            allowed = _mm_or_si128(allowed, matches);
        }

        [
            mask(quote),
            mask(equal(b'\\')),
            mask(line_feed),
            mask(open_object),
            mask(close_object),
            mask(open_array),
            mask(close_array),
            mask(allowed),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_matches_byte_loop() {
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
            assert_eq!(classify(&block), classify_bytes(&block), "{block:?}");
        }
    }

    #[test]
    fn every_byte_value_is_classified_alike() {
        for value in 0..=255u8 {
            let block = [value; BLOCK_BYTES];
            assert_eq!(classify(&block), classify_bytes(&block), "byte 0x{value:02x}");
        }
    }
}
