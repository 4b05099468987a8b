#[tether::main]
fn main() {}
