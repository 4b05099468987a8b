// `#[tether::owned]` denies `unused_must_use` in the function: a `Task` dropped by a plain
// statement is an error, not a warning.

#[tether::owned]
async fn accept_loop() {
    tether::spawn(async {});
}

fn main() {
    tether::run(accept_loop());
}
