//! Finding where a JSON string's plain run ends: the first `"`, `\` or control character.
//!
//! Most of a CloudTrail file is strings, most of them short (keys, names, times, ARNs), so this is
//! the scanner's innermost loop. It looks at sixteen bytes a step with the vector unit that every
//! CPU of the architecture has (SSE2 on x86-64, NEON on AArch64, no run-time detection): one step
//! finds the end of most strings, so the branch that leaves the loop is well predicted. Other
//! architectures take the same steps in plain integer arithmetic.

/// Bytes looked at per step.
pub(crate) const BLOCK: usize = 16;

/// The offset of the first `"`, `\` or byte below 0x20 in `bytes`, if any.
#[inline(always)]
pub(crate) fn string_stop(bytes: &[u8]) -> Option<usize> {
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        if let Ok(block) = <&[u8; BLOCK]>::try_from(block)
            && let Some(at) = first_stop_in_block(block)
        {
            return Some(offset + at);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&byte| is_stop(byte))
        .map(|at| offset + at)
}

#[inline]
fn is_stop(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

#[cfg(target_arch = "x86_64")]
pub(crate) use sse2::first_stop_in_block;

#[cfg(target_arch = "aarch64")]
pub(crate) use neon::first_stop_in_block;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) use portable::first_stop_in_block;

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    use super::BLOCK;

    #[inline]
    #[allow(unsafe_code)] // The crate denies unsafe code but for these SIMD loads.
    pub(crate) fn first_stop_in_block(block: &[u8; BLOCK]) -> Option<usize> {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions exist on every CPU
        // this code is built for; the unaligned load reads exactly the sixteen bytes that `block`
        // borrows.
        let mask = unsafe {
            let bytes = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
            // Unsigned `byte <= 0x1f` is `min(byte, 0x1f) == byte`.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1f)), bytes);
            let stops = _mm_or_si128(_mm_or_si128(quote, backslash), control);
            // One bit per byte, byte 0 in bit 0.
            _mm_movemask_epi8(stops) as u32
        };
        (mask != 0).then(|| mask.trailing_zeros() as usize)
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use std::arch::aarch64::{
        vceqq_u8, vcltq_u8, vdupq_n_u8, vget_lane_u64, vld1q_u8, vorrq_u8, vreinterpret_u64_u8,
        vreinterpretq_u16_u8, vshrn_n_u16,
    };

    use super::BLOCK;

    #[inline]
    #[allow(unsafe_code)] // The crate denies unsafe code but for these SIMD loads.
    pub(crate) fn first_stop_in_block(block: &[u8; BLOCK]) -> Option<usize> {
        // SAFETY: NEON is part of the AArch64 baseline, so these instructions exist on every CPU
        // this code is built for; the load reads exactly the sixteen bytes that `block` borrows.
        let nibbles = unsafe {
            let bytes = vld1q_u8(block.as_ptr());
            let quote = vceqq_u8(bytes, vdupq_n_u8(b'"'));
            let backslash = vceqq_u8(bytes, vdupq_n_u8(b'\\'));
            let control = vcltq_u8(bytes, vdupq_n_u8(0x20));
            let stops = vorrq_u8(vorrq_u8(quote, backslash), control);
            // Shifting each 16-bit lane right by 4 and narrowing keeps four bits of every byte's
            // all-ones or all-zeros result: byte i becomes bits 4i..4i+4 of one u64.
            vget_lane_u64::<0>(vreinterpret_u64_u8(vshrn_n_u16::<4>(vreinterpretq_u16_u8(
                stops,
            ))))
        };
        (nibbles != 0).then(|| (nibbles.trailing_zeros() / 4) as usize)
    }
}

/// Two 64-bit words at a time, for architectures without a baseline vector unit (and as the
/// reference the vector versions are tested against).
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), allow(dead_code))]
mod portable {
    use super::BLOCK;

    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;

    #[inline]
    pub(crate) fn first_stop_in_block(block: &[u8; BLOCK]) -> Option<usize> {
        let (low, high) = block.split_at(BLOCK / 2);
        word_stop(low).or_else(|| word_stop(high).map(|at| at + BLOCK / 2))
    }

    /// The first stop byte of an eight-byte word. The lowest flagged byte is exact: a zero byte of
    /// a xor, or a byte below 0x20 (a borrow only runs upwards, past the first flagged byte).
    #[inline]
    fn word_stop(word: &[u8]) -> Option<usize> {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let word = u64::from_le_bytes(le);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGHS;
        (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{BLOCK, is_stop, portable, string_stop};

    fn naive(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&byte| is_stop(byte))
    }

    fn bytes_with_stops() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                8 => 0x20u8..=0xff,
                1 => Just(b'"'),
                1 => Just(b'\\'),
                1 => 0u8..0x20,
                // Neighbours of the stop bytes, which a wrong comparison would confuse with them.
                1 => prop::sample::select(vec![0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff]),
            ],
            0..200,
        )
    }

    proptest! {
        #[test]
        fn string_stop_finds_the_first_quote_backslash_or_control_character(
            bytes in bytes_with_stops(),
            plain_prefix in 0usize..120,
        ) {
            let text = [vec![b'a'; plain_prefix], bytes].concat();
            prop_assert_eq!(string_stop(&text), naive(&text));
        }

        #[test]
        fn the_portable_block_search_agrees_with_the_naive_one(bytes in bytes_with_stops()) {
            for block in bytes.chunks_exact(BLOCK) {
                let block = <&[u8; BLOCK]>::try_from(block).unwrap();
                prop_assert_eq!(portable::first_stop_in_block(block), naive(block));
            }
        }
    }

    #[test]
    fn every_byte_value_at_every_position_of_a_block() {
        for position in 0..BLOCK {
            for value in 0..=u8::MAX {
                let mut block = [b'a'; BLOCK];
                block[position] = value;
                let expected = is_stop(value).then_some(position);
                assert_eq!(string_stop(&block), expected, "{value:#04x} at {position}");
                assert_eq!(portable::first_stop_in_block(&block), expected);
            }
        }
    }
}
