// `Ready::started` consumes the token: a child reports readiness once, so `start` has one value
// to return.
fn main() {
    tether::run(async {
        tether::task_group!(|tg| {
            let port = tg
                .start(|ready| async move {
                    ready.started(8080);
                    ready.started(8081);
                })
                .await;
            let _ = port;
        })
        .unwrap();
    });
}
