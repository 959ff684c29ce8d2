//! a4b-audit turns AWS CloudTrail log files into Alexa for Business audit items in DynamoDB.
//!
//! The way a notification becomes items, one module a step:
//!
//! 1. [`notification`] decodes the SNS message text into the S3 objects it names.
//! 2. [`log_key`] decides whether an object key is a CloudTrail log file (digests, Insights and
//!    folder markers are skipped).
//! 3. [`source`] opens the object as a byte stream (S3, or a local file for the CLI).
//! 4. [`reader`] streams the bytes through gunzip and a record scanner, one record at a time,
//!    handing over only the records of the configured event sources.
//! 5. [`audit`] maps one record to its user item and one item per room and per other A4B resource
//!    it touches; [`keys`] is the table's key schema.
//! 6. [`writer`] batches items (25 a request, no key twice), keeps several batches in flight and
//!    retries what the [`sink`] (DynamoDB) could not take.
//! 7. [`handover`] runs the reader on a blocking thread and hands its items to the writer.
//! 8. [`object`] is the per-object step: the gate (key class, allowed buckets, deadline), the
//!    hand-over, re-reads of a body cut short, and the ledger's record of the file.
//! 9. [`invocation`] takes the messages of any trigger to one outcome per object and the
//!    invocation's [`summary`].
//! 10. [`trigger`] recognises a payload, hands its messages to the invocation and turns the
//!     outcomes into the response that trigger expects; [`handler`] is the Lambda's entry.
//!
//! The steps 1, 2, 4 and 5 are pure: they live in the `a4b-audit-core` crate (re-exported here),
//! which has no AWS dependency.

#![deny(unsafe_code)]

pub use a4b_audit_core::{
    audit, config, item, keys, log_key, metrics, notification, reader, retry, summary, time_index,
};

pub mod aws;
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
pub mod sink;
pub mod source;
pub mod telemetry;
pub mod trigger;
pub mod writer;
