//! Any bytes, read as a log file: the reader must agree with serde_json (SPEC section 2), however
//! the bytes are buffered, threaded or compressed, and the mapping's two entry points with each
//! other on every record it hands over. A panic anywhere is a finding too.

#![no_main]

use a4b_audit_core::reader::oracle::disagreement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Some(disagreement) = disagreement(bytes) {
        panic!(
            "{disagreement}\non the input {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
});
