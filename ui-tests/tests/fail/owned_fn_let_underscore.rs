// `#[tether::owned]` refuses `let _ =` on a task, in a plain `fn` and in an `async fn`, also
// through an alias, a closure and an async block.

use tether::create_task as start;

#[tether::owned]
async fn accept_loop() {
    let _ = start(async {});
    let later = async {
        let _ = tether::spawn(async {});
    };
    later.await;
}

#[tether::owned]
fn helper() {
    let run = || {
        let _ = tether::create_task(async {});
    };
    run();
}

fn main() {
    tether::run(async {
        accept_loop().await;
        helper();
    });
}
