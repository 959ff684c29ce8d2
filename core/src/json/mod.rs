//! JSON text as RFC 8259 defines it, read without recursion and without serde_json's refusals (pure).
//!
//! The grammar allows three things serde_json refuses: an unpaired surrogate escape (`"\ud800"`), a
//! number beyond a double's range (`1e400`), and nesting past 128 levels. A CloudTrail record may
//! hold any of them, and each must cost nothing but itself (SPEC section 2). So here numbers stay
//! text, a string's unpaired surrogate escape decodes to U+FFFD, and open containers are kept in a
//! stack of one bit per level, never on the call stack.
//!
//! The record scanner ([`crate::reader`]) checks a whole file with [`Nesting`] and
//! [`string_stop`]; the audit ([`crate::audit`]) reads the fields of one record through [`Raw`].

mod escape;
mod nesting;
mod string_stop;
mod unescape;
mod value;
mod whitespace;

#[cfg(test)]
pub(crate) mod tests;

pub use escape::write_json_string;
pub(crate) use nesting::{Container, Nesting};
pub(crate) use string_stop::string_stop;
pub(crate) use value::Raw;
pub(crate) use whitespace::{is_ws, skip_ws};
