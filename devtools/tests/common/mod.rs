//! Shared by the integration tests.

use std::path::PathBuf;

/// The echo Lambda example. Plain `cargo test -p a4b-audit-devtools` builds it next to the test
/// binaries; `cargo test --test NAME` does not, so refuse a missing or stale one.
pub fn echo_lambda() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile_dir.join("examples").join("echo_lambda");
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/echo_lambda.rs");
    let modified = |path: &PathBuf| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    let fresh = match (modified(&binary), modified(&source)) {
        (Some(built), Some(written)) => built >= written,
        _ => false,
    };
    assert!(
        fresh,
        "{} is missing or older than its source: run `cargo build -p a4b-audit-devtools --example echo_lambda` \
         (plain `cargo test -p a4b-audit-devtools` builds it)",
        binary.display()
    );
    binary
}
