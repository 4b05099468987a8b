#[tether::test]
fn not_async() {}

fn main() {}
