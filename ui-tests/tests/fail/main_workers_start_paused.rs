#[tether::main(workers = 4, start_paused)]
async fn main() {}
