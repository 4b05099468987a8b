use std::sync::atomic::{AtomicUsize, Ordering};

#[tether::main(workers = 2)]
async fn main() {
    let total = tether::spawn(async {
        let words = vec!["alpha", "be", "c"];
        let seen = AtomicUsize::new(0);
        let total = tether::task_group!(send |tg| {
            let handles: Vec<_> = words
                .iter()
                .map(|word| {
                    let seen = &seen;
                    tg.create_task(async move {
                        tether::yield_now().await;
                        seen.fetch_add(1, Ordering::SeqCst);
                        word.len()
                    })
                })
                .collect();
            let mut total = 0;
            for handle in handles {
                total += handle.await.unwrap();
            }
            total
        })
        .unwrap();
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        total
    })
    .await
    .unwrap();
    assert_eq!(total, 8);
}
