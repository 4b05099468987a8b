use std::rc::Rc;

fn main() {
    tether::run(async {
        let mut set = tether::TaskSet::new();
        // `spawn` is for `Send` tasks any worker may run; `create_task` takes this one.
        set.spawn(async {
            let shared = Rc::new(1);
            tether::yield_now().await;
            *shared
        });
        set.join_all().await;
    });
}
