//! WKB placeholder.
