//! JSON whitespace, for the record scanner and for the reading of one value alike.

/// JSON whitespace. Bytes above the space are answered by one comparison: they are nearly all of
/// them, and CloudTrail writes its JSON without whitespace (callgrind on the 20 MB benchmark file:
/// the four-way test took 15 % of the scan's instructions).
#[inline(always)]
pub(crate) fn is_ws(byte: u8) -> bool {
    byte <= b' ' && matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

/// The first index from `at` on that is not whitespace (`bytes.len()` if none).
#[inline(always)]
pub(crate) fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|&byte| is_ws(byte)) {
        at += 1;
    }
    at
}
