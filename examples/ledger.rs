//! Two tasks that take two named locks in opposite orders: the classic deadlock, for the
//! `deadlock_report` example and its tests.

use tether::sync::Lock;

static ACCOUNTS: Lock = Lock::named("accounts");
static LEDGER: Lock = Lock::named("ledger");

/// Runs a `transfer` (ledger, then accounts) and an `audit` (accounts, then ledger) at once;
/// each takes its first lock, yields, and waits forever for the other's.
pub async fn transfer_and_audit() {
    let transfer = tether::task::Builder::new()
        .name("transfer")
        .create_task(async {
            let _ledger = LEDGER.lock().await;
            tether::yield_now().await;
            let _accounts = ACCOUNTS.lock().await;
        });
    let audit = tether::task::Builder::new()
        .name("audit")
        .create_task(async {
            let _accounts = ACCOUNTS.lock().await;
            tether::yield_now().await;
            let _ledger = LEDGER.lock().await;
        });
    audit.await.unwrap();
    transfer.await.unwrap();
}
