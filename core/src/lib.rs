//! The pure core of a4b-audit: everything that turns a trigger's payload into audit items without
//! touching AWS. It has no AWS dependency, by construction (a test in `tests/template` fails if it
//! gains one); the adapters (S3, DynamoDB, Lambda) and the binaries are in the root package.
//!
//! In the order an object meets them:
//!
//! 1. [`trigger`] recognises a payload (SNS, SQS, S3, EventBridge, S3 Batch, a map batch) and turns
//!    it into deliveries; [`notification`] decodes a message into the S3 objects it names.
//! 2. [`log_key`] decides whether an object key is a CloudTrail log file.
//! 3. [`reader`] streams the bytes through gunzip and a record scanner, one record at a time.
//! 4. [`audit`] maps one record to its items; [`item`] is the item model, [`keys`] the table's key
//!    schema and [`time_index`] its time index.
//! 5. [`summary`] counts what became of each object and reconciles the counts; [`metrics`] turns
//!    them into one EMF line.
//!
//! [`config`] reads the function's settings and [`retry`] holds the backoff arithmetic shared by
//! every retry loop; [`write_json_string`] prints a string as JSON text, as the CLI prints items.

#![deny(unsafe_code)]

pub mod audit;
pub mod config;
pub mod item;
mod json;
pub mod keys;
pub mod log_key;
pub mod metrics;
pub mod notification;
pub mod reader;
pub mod retry;
pub mod summary;
pub mod time_index;
pub mod trigger;

pub use json::write_json_string;
