//! Integration tests of the `wait` engine.
