// On the multi-threaded runtime, create_task still takes !Send futures (they stay on the worker
// that made them), a Send task may own such a task's handle, and group children still borrow.

use std::rc::Rc;

#[tether::main(workers = 2)]
async fn main() {
    let local = tether::create_task(async {
        let shared = Rc::new(20);
        tether::yield_now().await;
        *shared
    });
    let sent = tether::spawn(async move { local.await.unwrap() + 1 });
    let outer = String::from("borrowed");
    tether::task_group!(|tg| {
        tg.create_task(async { assert_eq!(outer.len(), 8) });
    })
    .unwrap();
    assert_eq!(sent.await.unwrap(), 21);
}
