fn main() {
    tether::run(async {
        let _ = tether::task_group!(send |tg| -> usize {
            tg.create_task(async { 1 });
            1
        });
    });
}
