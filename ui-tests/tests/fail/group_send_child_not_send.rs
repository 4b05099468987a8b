use std::rc::Rc;

fn main() {
    tether::run(async {
        tether::task_group!(send |tg| {
            tg.create_task(async {
                let shared = Rc::new(1);
                tether::yield_now().await;
                *shared
            });
        })
        .unwrap();
    });
}
