fn main() {
    tether::run(async {
        let _ = tether::task_group!(try supervise |tg| {
            tg.create_task(async { Ok::<_, String>(1) });
        });
    });
}
