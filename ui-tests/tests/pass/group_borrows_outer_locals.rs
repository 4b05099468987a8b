// The intended uses: children borrow outer locals (no Arc, no 'static), capture the group to
// create siblings, and the fallible form collects errors.

use std::cell::RefCell;

#[tether::main]
async fn main() {
    let config = String::from("config");
    let results = RefCell::new(Vec::new());
    tether::task_group!(|tg| {
        for i in 0..3 {
            let (config, results) = (&config, &results);
            tg.create_task(async move {
                results.borrow_mut().push(format!("{config}-{i}"));
                tg.create_task(async move { results.borrow_mut().push(format!("sibling-{i}")) });
            });
        }
    })
    .unwrap();
    assert_eq!(results.borrow().len(), 6);

    let outcome = tether::task_group!(try |tg| {
        tg.create_task(async { config.parse::<u32>() });
    });
    assert!(outcome.is_err());
}
