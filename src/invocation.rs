//! The invocation layer: the messages a trigger hands over -> the objects they name -> one outcome
//! per object and the invocation's summary. Every trigger plugs in here, and maps the outcomes back
//! to the response it owes (an error, `batchItemFailures`, task results); below this layer every
//! object takes the same path ([`crate::object`]).

use std::collections::BTreeMap;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::ledger::FileLedger;
pub use a4b_audit_core::trigger::{Delivery, KeyForm};

use crate::notification::{self, Notification, ObjectRef};
use crate::object::{ObjectOutcome, Pipeline};
use crate::sink::ItemSink;
use crate::source::ObjectSource;
use crate::summary::InvocationSummary;

/// One SNS message of an event: its id (for logs) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    pub message_id: String,
    pub text: String,
}

/// What became of one object of an invocation.
#[derive(Debug)]
pub struct ObjectReport {
    pub object: ObjectRef,
    pub outcome: ObjectOutcome,
}

/// The outcome of every object of an invocation, and its summary.
#[derive(Debug)]
pub struct Invocation {
    pub summary: InvocationSummary,
    /// Each object once, in the order it was first named.
    pub objects: Vec<ObjectReport>,
    /// For each delivery, the indices in `objects` of the objects it named.
    pub named: Vec<Vec<usize>>,
}

impl Invocation {
    /// The objects that the `delivery`-th delivery named (an object named twice is processed once
    /// and reported to both).
    pub fn objects_of(&self, delivery: usize) -> impl Iterator<Item = &ObjectReport> {
        self.named
            .get(delivery)
            .into_iter()
            .flatten()
            .filter_map(|&index| self.objects.get(index))
    }
}

impl<S: ObjectSource<Location = ObjectRef>, K: ItemSink, L: FileLedger> Pipeline<S, K, L> {
    /// The SNS path: decodes each message and processes every object they name, each once.
    pub async fn run(
        &self,
        messages: &[SnsMessage],
        deadline: Option<Instant>,
    ) -> InvocationSummary {
        let deliveries = messages
            .iter()
            .map(|message| Delivery::decoded(message.message_id.clone(), &message.text))
            .collect();
        self.invoke(deliveries, deadline).await.summary
    }

    /// Processes every object the deliveries name, each once, and sums up.
    pub async fn invoke(&self, deliveries: Vec<Delivery>, deadline: Option<Instant>) -> Invocation {
        let mut invocation = Invocation {
            summary: InvocationSummary {
                messages: deliveries.len() as u64,
                ..InvocationSummary::default()
            },
            objects: Vec::new(),
            named: Vec::with_capacity(deliveries.len()),
        };
        let mut seen: BTreeMap<ObjectRef, usize> = BTreeMap::new();
        for delivery in deliveries {
            let keys = delivery.keys;
            let mut named = Vec::new();
            for object in objects_named(delivery, &mut invocation.summary) {
                if let Some(&index) = seen.get(&object) {
                    named.push(index);
                    continue;
                }
                let index = invocation.objects.len();
                seen.insert(object.clone(), index);
                named.push(index);
                let (object, outcome) = self.process_named(object, keys, deadline).await;
                if let ObjectOutcome::Skipped(reason) = &outcome {
                    info!(object = %object, reason, "skipped");
                }
                outcome.add_to(&mut invocation.summary, &object);
                invocation.objects.push(ObjectReport { object, outcome });
            }
            invocation.named.push(named);
        }
        log_summary(&invocation.summary);
        invocation
    }
}

impl<S: ObjectSource<Location = ObjectRef>, K: ItemSink, L: FileLedger> Pipeline<S, K, L> {
    /// Processes one object as named; for [`KeyForm::MaybeFormEncoded`], a key with `+` or `%`
    /// that answers NoSuchKey is tried once more form-decoded. Gives the object that was read.
    async fn process_named(
        &self,
        object: ObjectRef,
        keys: KeyForm,
        deadline: Option<Instant>,
    ) -> (ObjectRef, ObjectOutcome) {
        let outcome = self.process_object(&object, deadline).await;
        if keys != KeyForm::MaybeFormEncoded
            || !outcome.is_not_found()
            || !object.key.contains(['+', '%'])
        {
            return (object, outcome);
        }
        let Ok(decoded_key) = notification::form_decode_key(&object.key) else {
            return (object, outcome);
        };
        if decoded_key == object.key {
            return (object, outcome);
        }
        let decoded = ObjectRef {
            bucket: object.bucket,
            key: decoded_key,
        };
        info!(object = %decoded, "no object under the key as sent: trying the form-decoded key");
        let outcome = self.process_object(&decoded, deadline).await;
        (decoded, outcome)
    }
}

/// The objects a delivery names; a delivery that names none is counted and logged.
fn objects_named(delivery: Delivery, summary: &mut InvocationSummary) -> Vec<ObjectRef> {
    let message_id = delivery.id;
    match delivery.notification {
        Notification::Objects { objects, ignored } => {
            for entry in &ignored {
                warn!(message_id = %message_id, entry = %entry, "notification entry ignored");
            }
            if objects.is_empty() {
                summary.messages_without_objects += 1;
            }
            objects
        }
        Notification::CloudTrailValidation => {
            info!(message_id = %message_id, "CloudTrail validation message: nothing to do");
            summary.messages_without_objects += 1;
            Vec::new()
        }
        Notification::S3TestEvent => {
            info!(message_id = %message_id, "S3 test event: nothing to do");
            summary.messages_without_objects += 1;
            Vec::new()
        }
        Notification::Unrecognized(reason) => {
            warn!(
                message_id = %message_id,
                message_bytes = delivery.message_bytes,
                reason = %reason,
                "message is neither a CloudTrail nor an S3 notification: ignored"
            );
            summary.messages_without_objects += 1;
            Vec::new()
        }
    }
}

fn log_summary(summary: &InvocationSummary) {
    info!(
        messages = summary.messages,
        objects_processed = summary.objects_processed,
        objects_skipped = summary.objects_skipped,
        objects_failed = summary.objects_failed,
        records_read = summary.counts.records_read,
        a4b_records = summary.counts.a4b_records,
        other_records = summary.counts.other_records,
        records_rejected = summary.counts.records_rejected,
        items_built = summary.counts.items_built,
        items_written = summary.counts.items_written,
        write_requests = summary.counts.write_requests,
        "invocation summary"
    );
}

#[cfg(test)]
mod tests;
