// `shuffle` takes no value or "random" / "pct".

#[tether::test(shuffle = "lifo")]
async fn unknown_strategy() {}

#[tether::test(explore = 0)]
async fn no_runs() {}

fn main() {}
