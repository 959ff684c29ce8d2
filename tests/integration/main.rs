//! The integration tests of the workspace, in one binary so that it links once. Each area is a
//! module; they share the moto server of `a4b_audit_devtools`.

mod cli;
