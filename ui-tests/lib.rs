//! Compile-fail and compile-pass cases for tether live under `tests/`.
