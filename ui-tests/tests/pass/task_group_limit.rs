//! `limit = n` goes before every other form of `task_group!`, and takes any `usize` expression.

fn main() {
    let runtime = tether::Runtime::builder().workers(2).build();
    let workers = 2;
    let total = runtime.run(async move {
        let data = [1u64, 2];
        let data = &data;
        let plain = tether::task_group!(limit = workers, |tg| {
            tg.create_task(async { data[0] }).await.unwrap()
        });
        let fallible = tether::task_group!(limit = workers + 1, try move |tg| {
            tg.create_task(async move { Ok::<_, String>(data[1]) }).await.unwrap()
        });
        let sent = tether::spawn(async move {
            let data = [3u64];
            let data = &data;
            let send = tether::task_group!(limit = 1, send |tg| {
                tg.create_task(async { data[0] }).await.unwrap()
            });
            let send_try = tether::task_group!(limit = 3, send try |tg| {
                tg.spawn_when_free(async { Ok::<_, String>(4u64) }).await.await.unwrap()
            });
            send.unwrap() + send_try.unwrap()
        });
        plain.unwrap() + fallible.unwrap() + sent.await.unwrap()
    });
    assert_eq!(total, 10);
}
