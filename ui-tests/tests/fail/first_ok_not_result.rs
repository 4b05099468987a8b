// `first_ok` races attempts that can fail: each future must return a `Result`.
fn main() {
    tether::run(async {
        let _ = tether::first_ok([std::future::ready(1), std::future::ready(2)]).await;
    });
}
