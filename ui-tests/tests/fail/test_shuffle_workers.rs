// A seeded schedule steers one loop; several workers run in the operating system's order.

#[tether::test(shuffle, workers = 2)]
async fn shuffled_on_workers() {}

#[tether::test(workers = 4, explore = 10)]
async fn explored_on_workers() {}

fn main() {}
