//! SNS message text -> the log objects it names (pure).
//! OWNER: helper "notification" (skeleton; to be replaced).

use std::fmt;

/// An S3 object named by a notification: bucket and (decoded) key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What one SNS message asks of the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// A CloudTrail delivery notification or an S3 event notification: process these objects.
    Objects(Vec<ObjectRef>),
    /// CloudTrail's topic check (`CloudTrail validation message.`): nothing to do.
    CloudTrailValidation,
    /// S3's `s3:TestEvent`: nothing to do.
    S3TestEvent,
    /// Anything else: warn and do nothing.
    Unrecognized,
}

/// Decodes the text of one SNS message.
pub fn decode_message(message: &str) -> Notification {
    let _ = message;
    todo!("helper: notification")
}
