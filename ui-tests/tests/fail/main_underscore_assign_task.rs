// `_ = ...;` and `let _: T = ...;` drop the value at once, as `let _ = ...;` does.

#[tether::main]
async fn main() {
    _ = tether::spawn(async {});
    let _: tether::Task<()> = tether::create_task(async {});
}
