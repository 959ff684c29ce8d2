//! a4b-audit turns AWS CloudTrail log files into Alexa for Business audit items in DynamoDB.
//!
//! The pure steps live in the `a4b-audit-core` crate, which has no AWS dependency; its modules are
//! re-exported here. The way a payload becomes items, one module a step, each crossed once:
//!
//! 1. [`trigger`] (core) recognises the payload and turns it into deliveries; [`notification`]
//!    (core) decodes each message into the S3 objects it names.
//! 2. [`invocation`] takes every object once to the per-object step and sums up the outcomes.
//! 3. [`object`] is the per-object step: [`log_key`] (core) and the gate (allowed buckets,
//!    deadline), then [`source`] opens the body, [`handover`] runs the [`reader`] (core) on a
//!    blocking thread and maps each record with [`audit`] (core) to its [`item`]s (core), which the
//!    [`writer`] batches into the [`sink`] (DynamoDB); re-reads of a body cut short; the
//!    [`ledger`]'s record of the file.
//! 4. [`invocation`] adds each outcome to the [`summary`] (core); [`trigger`] turns the outcomes
//!    into the response that trigger expects; [`handler`] is the Lambda's entry.
//!
//! [`memory`] holds in-memory twins of the source and the sink, for fast tests of steps 2 and 3.

#![deny(unsafe_code)]

pub use a4b_audit_core::{
    audit, config, item, keys, log_key, metrics, notification, reader, retry, summary, time_index,
};

pub mod aws;
pub mod aws_errors;
#[cfg(feature = "cli")]
pub mod cli;
pub mod dynamodb_errors;
pub mod handler;
pub mod handover;
pub mod invocation;
pub mod ledger;
pub mod memory;
#[cfg(test)]
mod mock_dynamodb;
pub mod object;
pub mod runtime;
pub mod sink;
pub mod source;
pub mod telemetry;
pub mod trigger;
pub mod writer;
