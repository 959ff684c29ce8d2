//! Development tools of a4b-audit, shared by the integration tests and the `a4b-dev` binary:
//! the local AWS emulator (moto server), a Lambda runtime API emulator and sample data.
//! Nothing here ships in the Lambda.
pub mod a4b_records;
