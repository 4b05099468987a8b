//! A `#[tether::test]` that deadlocks fails with the wait-for report instead of hanging.

use std::panic::catch_unwind;

use tether_examples::ledger::transfer_and_audit;

/// The deadlock, as a `#[tether::test]`; run (and expected to fail) by the test below.
#[tether::test]
#[ignore = "deadlocks on purpose: run by `a_deadlocked_test_fails_with_the_report`"]
async fn deadlocked_test() {
    transfer_and_audit().await;
}

#[test]
fn a_deadlocked_test_fails_with_the_report() {
    let report = *catch_unwind(deadlocked_test)
        .unwrap_err()
        .downcast::<String>()
        .expect("the report");
    println!("{report}");
    assert!(
        report.starts_with(
            "tether: deadlock: every task is waiting, and nothing can wake any of them"
        ),
        "{report}"
    );
    let lines: Vec<&str> = report.lines().collect();
    let line_of = |who: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("  {who}")))
            .unwrap_or_else(|| panic!("no line for {who} in\n{report}"))
            .to_string()
    };
    assert!(
        line_of("Task-").contains("awaits task audit (Task-"),
        "{report}"
    );
    let audit = line_of("audit (Task-");
    assert!(
        audit.contains("awaits Lock \"ledger\" held by transfer (Task-"),
        "{report}"
    );
    assert!(audit.contains("examples/ledger.rs"), "{report}");
    let transfer = line_of("transfer (Task-");
    assert!(
        transfer.contains("awaits Lock \"accounts\" held by audit (Task-"),
        "{report}"
    );
    let cycle = lines
        .iter()
        .find(|l| l.starts_with("cycle: "))
        .unwrap_or_else(|| panic!("no cycle in\n{report}"));
    assert!(cycle.contains("Lock \"ledger\""), "{report}");
    assert!(cycle.contains("Lock \"accounts\""), "{report}");
}
