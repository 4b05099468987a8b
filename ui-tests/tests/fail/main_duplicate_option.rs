#[tether::main(start_paused, start_paused)]
async fn main() {}
