// `let _ =` on values whose type inference settles late, or leaves to the compiler's fallback,
// compiles in checked code, without a warning: none of them owns a task.

#![deny(warnings)]

use std::future::Future;
use std::time::Duration;

type Outcome = Result<u32, std::num::ParseIntError>;

fn outcome() -> Outcome {
    "1".parse()
}

fn later<T: Default>() -> T {
    T::default()
}

fn future() -> impl Future<Output = u32> {
    async { 7 }
}

fn task_in_disguise() -> impl Future<Output = Result<u32, tether::TaskError>> {
    tether::create_task(async { 8 })
}

async fn forever() -> ! {
    loop {
        tether::yield_now().await;
    }
}

macro_rules! ignore {
    ($value:expr) => {
        let _ = $value;
    };
}

#[tether::main]
async fn main() {
    // The second snippet (the first is in let_underscore_never_type.rs, on a paused
    // clock): a block that never returns.
    let _ = tether::move_on_after(Duration::from_millis(1), async {
        loop {
            tether::yield_now().await
        }
    })
    .await;
    // CPython's test_timeouts.py::test_foreign_exception_passed, ported: a panic is the block's
    // only way out.
    let caught = std::panic::AssertUnwindSafe(async {
        let _ = tether::timeout(Duration::from_secs(1), async {
            panic!("foreign");
        })
        .await;
    });
    let _ = futures::FutureExt::catch_unwind(caught).await;
    // The same with the type written out, and through a diverging closure.
    let _ = tether::timeout(Duration::from_millis(1), forever()).await;
    let spin = || -> ! { panic!("never called") };
    if false {
        let _ = spin();
    }
    let _ = Some(1).map(|_| -> Option<u32> { None });
    // A diverging block as the value.
    let _ = tether::create_task(async {
        let _ = { return 1 };
    })
    .await;
    // Types that later statements of the block settle.
    let mut pending = Vec::new();
    let _ = pending.pop();
    pending.push(String::from("settled after the `let _`"));
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    let _ = rx.try_recv();
    let _ = tx.unbounded_send(3_u64);
    let _: u8 = later();
    // A borrow in the value's type ends where the user's code says.
    let mut values = vec![1, 2];
    let _ = values.iter_mut().next();
    values.push(3);
    for _ in 0..2 {
        let _ = values.iter_mut().next();
        values.push(4);
    }
    // Integer and float literals left to their fallback.
    let _ = Some(1).map(|x| x + 1);
    let _ = Some(1.5).map(|x| x * 2.0);
    // `impl Trait` outputs, type aliases, and a macro that expands to `let _ =`.
    let _ = future();
    let _ = outcome();
    ignore!(tether::yield_now().await);
    // An opaque type hides what it is: a miss, never a false alarm.
    let _ = task_in_disguise();
    // `_ =` in expression positions, the tail of a block, a closure's expression body.
    let assign = || _ = outcome();
    assign();
    let value = {
        let _ = outcome();
        _ = outcome()
    };
    assert_eq!(value, ());
    while {
        _ = outcome();
        false
    } {}
    // A task awaited to its end owns nothing any more.
    let _ = tether::create_task(async { 9 }).await;
    let _ = tether::spawn(async { 10 }).await;
}
