//! Reliability and security (issue 6): nothing is lost under faults, bad input and hostile input,
//! or the invocation fails loudly. `docs/reliability.md` maps each guarantee to its test.

mod bad_input;
mod deadline;
mod fault_proxy;
mod faults;
mod hostile;
mod hostile_json;
mod observability;
mod retry_sequences;
mod support;
