//! Development tools of a4b-audit, shared by the integration tests and the `a4b-dev` binary:
//! the local AWS emulator (moto server), a Lambda runtime API emulator, a local Step Functions
//! Distributed Map runner and sample data.
//! Nothing here ships in the Lambda.

pub mod a4b_records;
pub mod bench;
pub mod distributed_map;
pub mod fault_proxy;
mod http_server;
pub mod huge_record;
pub mod lambda_process;
pub mod large_trail;
pub mod local;
pub mod many_rooms;
pub mod moto;
pub mod runtime_api;
pub mod samples;
pub mod scenario;
/// The table's time index, the very file the function's crate compiles (devtools cannot depend on
/// it: it is one of its dev-dependencies), so that the emulator's table matches the template.
#[path = "../../core/src/time_index.rs"]
pub mod time_index;

pub use fault_proxy::{Fault, FaultPlan, FaultProxy, FaultRule};

/// The number of cases a property test runs: `PROPTEST_CASES` when it is set (as proptest's own
/// default configuration reads it), else `default`. `scripts/mutants` sets it low: each mutant then
/// runs every property, on fewer inputs; a soak run sets it high.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}
pub use lambda_process::LambdaProcess;
pub use moto::MotoServer;
pub use runtime_api::{Invocation, Outcome, RuntimeApi};
