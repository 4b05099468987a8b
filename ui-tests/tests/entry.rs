//! `#[tether::test]` and `gather!` expansions run for real (trybuild's pass cases are binaries,
//! in which `#[test]` functions are compiled out).

use std::cell::Cell;
use std::time::Duration;

use tether::time::Instant;

#[tether::test(start_paused)]
async fn start_paused_runs_on_a_virtual_clock() {
    let start = Instant::now();
    tether::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
}

#[tether::test]
async fn real_clock_by_default() {
    let start = std::time::Instant::now();
    tether::sleep(Duration::from_millis(5)).await;
    assert!(start.elapsed() >= Duration::from_millis(5));
}

#[tether::test(crate = "tether")]
async fn returns_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "7".parse()?;
    assert_eq!(n, 7);
    Ok(())
}

#[tether::test]
#[should_panic(expected = "boom")]
async fn keeps_user_attributes() {
    tether::yield_now().await;
    panic!("boom");
}

#[tether::test(start_paused)]
async fn gather_runs_futures_concurrently() {
    let start = Instant::now();
    let (a, b) = tether::gather!(
        async {
            tether::sleep(Duration::from_secs(2)).await;
            'a'
        },
        async {
            tether::sleep(Duration::from_secs(1)).await;
            'b'
        },
    );
    assert_eq!((a, b), ('a', 'b'));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tether::test(start_paused)]
async fn gather_try_returns_first_error_and_drops_the_rest() {
    struct Flag<'a>(&'a Cell<bool>);
    impl Drop for Flag<'_> {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }

    let dropped = Cell::new(false);
    let start = Instant::now();
    let result: Result<(u32, u32), &str> = tether::gather!(
        try
        async {
            let _flag = Flag(&dropped);
            tether::sleep(Duration::from_secs(60)).await;
            Ok(1)
        },
        async {
            tether::sleep(Duration::from_secs(1)).await;
            Err("failed")
        },
    );
    assert_eq!(result, Err("failed"));
    assert!(
        dropped.get(),
        "the pending future is dropped on the first error"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tether::test(start_paused)]
async fn gather_try_all_ok() {
    let result = tether::gather!(try async { Ok::<_, ()>(1) }, async { Ok(2) });
    assert_eq!(result, Ok((1, 2)));
}

#[tether::test]
async fn gather_polls_in_argument_order() {
    let order = std::cell::RefCell::new(Vec::new());
    let step = |n: u32| {
        let order = &order;
        async move {
            order.borrow_mut().push(n);
            tether::yield_now().await;
            order.borrow_mut().push(n + 10);
        }
    };
    tether::gather!(step(1), step(2), step(3));
    assert_eq!(*order.borrow(), [1, 2, 3, 11, 12, 13]);
}

#[tether::test]
async fn task_group_awaits_children() {
    let hits = Cell::new(0);
    let outcome = tether::task_group!(|tg| {
        for _ in 0..3 {
            tg.create_task(async { hits.set(hits.get() + 1) });
        }
        "body"
    });
    assert_eq!(outcome.unwrap(), "body");
    assert_eq!(hits.get(), 3);
}

#[tether::test]
async fn task_group_move_and_try() {
    let words = String::from("ab");
    let outcome = tether::task_group!(try move |tg| {
        tg.create_task(async { "1".parse::<u32>() });
        words.len()
    },);
    assert_eq!(outcome.unwrap(), 2);
}

#[tether::test]
async fn gather_locals_do_not_clash_with_user_names() {
    let __tether_gather_0 = 40;
    let __tether_gather_cx = 2;
    let (sum,) = tether::gather!(async { __tether_gather_0 + __tether_gather_cx });
    assert_eq!(sum, 42);
}

struct SetOnDrop<'a>(&'a Cell<bool>);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn set_on_drop(flag: &Cell<bool>) -> SetOnDrop<'_> {
    SetOnDrop(flag)
}

#[tether::test]
async fn checked_let_underscore_still_drops_at_the_end_of_the_statement() {
    let dropped = Cell::new(false);
    let _ = set_on_drop(&dropped);
    assert!(
        dropped.get(),
        "`let _ =` drops a value at once, checked or not"
    );
    let kept = Cell::new(false);
    let _guard = set_on_drop(&kept);
    assert!(!kept.get());
}

#[tether::owned]
async fn start_and_keep(ran: std::rc::Rc<Cell<bool>>) {
    let _task = tether::create_task(async move { ran.set(true) });
    tether::yield_now().await;
}

#[tether::test]
async fn owned_fn_keeps_named_tasks_running() {
    let ran = std::rc::Rc::new(Cell::new(false));
    start_and_keep(ran.clone()).await;
    assert!(ran.get());
}
