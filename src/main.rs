//! The `minqing` command.
fn main() {}
