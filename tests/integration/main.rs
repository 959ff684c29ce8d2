//! All integration tests in one binary, so it links once (a module per area).

mod reliability;
