fn main() {
    tether::run(async {
        let _ = tether::task_group!(supervise);
    });
}
