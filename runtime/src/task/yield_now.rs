use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every other ready task run once before this one goes on.
///
/// asyncio writes this `await asyncio.sleep(0)`; `tether::sleep(Duration::ZERO)` does the same.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// tether::run(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let other = tether::create_task({
///         let log = log.clone();
///         async move { log.borrow_mut().push("other") }
///     });
///     log.borrow_mut().push("main");
///     tether::yield_now().await;
///     log.borrow_mut().push("main again");
///     other.await.unwrap();
///     assert_eq!(*log.borrow(), ["main", "other", "main again"]);
/// });
/// ```
#[inline]
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Scheduled again behind everything already ready.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
