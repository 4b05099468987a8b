#[tether::test(crate = tether)]
async fn crate_not_a_string() {}

#[tether::test(crate = "not a path")]
async fn crate_not_a_path() {}

#[tether::test(crate)]
async fn crate_without_value() {}

#[tether::test(start_paused = true)]
async fn start_paused_with_value() {}

#[tether::test(5)]
async fn not_an_option() {}

fn main() {}
