#[tether::test(workers)]
async fn workers_without_value() {}

#[tether::test(workers = threads)]
async fn workers_not_a_literal() {}

#[tether::test(workers = 2, workers = 3)]
async fn workers_twice() {}

#[tether::test(start_paused, workers = 2)]
async fn start_paused_first() {}

fn main() {}
