//! Compile-fail and compile-pass cases for tether's macros.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p tether-ui-tests`, then
//! read every changed `.stderr`: the error must point at the offending tokens and say how to fix
//! them.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/fail/*.rs");
    cases.pass("tests/pass/*.rs");
}
