//! A program that prints its own task tree: asyncio's `python -m asyncio pstree`, from inside
//! (`tether::dump_tasks()`) and from a watchdog thread (`Handle::dump_tasks`), which is how to
//! look into a running program without changing its code paths.

use std::time::Duration;

use tether::task::Builder;

async fn download(name: &str, millis: u64) {
    tether::sleep(Duration::from_millis(millis)).await;
    println!("downloaded {name}");
}

#[tether::main]
async fn main() {
    let handle = tether::Handle::current();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.dump_tasks(Duration::from_secs(5))
    });

    let mut background = tether::TaskSet::background();
    background.create_task_with(Builder::new().name("metrics"), async {
        tether::sleep(Duration::from_millis(200)).await;
    });

    tether::task_group!(|tg| {
        tg.create_task_with(Builder::new().name("mirror"), async {
            tether::task_group!(|files| {
                for (name, ms) in [("a.tar", 100), ("b.tar", 150)] {
                    files.create_task_with(Builder::new().name(name), download(name, ms));
                }
            })
            .unwrap();
        });
        tether::sleep(Duration::from_millis(20)).await;
        println!("--- from inside ---");
        print!("{}", tether::dump_tasks());
    })
    .unwrap();

    println!("--- from the watchdog thread ---");
    print!("{}", watchdog.join().unwrap().expect("the loop answered"));
    background.shutdown().await;
}
