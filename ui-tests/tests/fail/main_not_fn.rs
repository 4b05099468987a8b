#[tether::main]
struct Main;

fn main() {}
