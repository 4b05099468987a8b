// The group reference cannot escape its scope.

#[tether::main]
async fn main() {
    let mut escaped = None;
    tether::task_group!(|tg| {
        escaped = Some(tg);
    })
    .unwrap();
    drop(escaped);
}
