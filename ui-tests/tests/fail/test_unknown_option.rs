#[tether::test(paused)]
async fn unknown_option() {}

fn main() {}
