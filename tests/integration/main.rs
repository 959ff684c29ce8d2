//! Integration tests: the real code against a local moto server (S3 and DynamoDB) on 127.0.0.1,
//! started once for this test binary by `a4b_audit_devtools::moto::MotoServer::shared()`.
//! One binary, so it links once; each test works in its own bucket and table.

mod cli;
mod cost;
mod handler_path;
mod harness;
mod lambda_binary;
mod oracle;
mod reliability;
mod triggers;
