// tether::spawn may move a task to another worker thread, so its future must be Send: an Rc
// held across an await is refused. (tether::create_task accepts it: such a task stays put.)

use std::rc::Rc;

#[tether::main(workers = 2)]
async fn main() {
    let task = tether::spawn(async {
        let shared = Rc::new(1);
        tether::yield_now().await;
        *shared
    });
    task.await.unwrap();
}
