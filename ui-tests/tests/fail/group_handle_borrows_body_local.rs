// Even through a handle, a child's future may not keep a body local alive past the body.

use tether::TaskGroup;

async fn spawn_into<'scope>(tg: &'scope TaskGroup<'scope, '_>, text: &'scope str) {
    tg.create_task(async move { text.len() });
}

#[tether::main]
async fn main() {
    tether::task_group!(|tg| {
        let local = String::from("body");
        spawn_into(tg, &local).await;
    })
    .unwrap();
}
