//! A request id that follows the work, asyncio's `contextvars` pattern: set once where a
//! request enters, read anywhere below it, in nested tasks and group children, never passed
//! by hand. Two requests run at once without seeing each other's id.

use std::time::Duration;

use tether::context::ContextVar;

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");

fn log(message: &str) {
    let id = REQUEST_ID.get().unwrap_or_else(|| "-".to_owned());
    println!("[{id}] {message}");
}

async fn query_database(table: &str, millis: u64) -> usize {
    tether::sleep(Duration::from_millis(millis)).await;
    log(&format!("queried {table}"));
    table.len()
}

async fn handle_request(id: &str, delay: u64) {
    REQUEST_ID.set(id.to_owned());
    log("request received");
    let rows = tether::task_group!(|tg| {
        let users = tg.create_task(query_database("users", delay));
        let orders = tg.create_task(query_database("orders", delay * 2));
        users.await.unwrap() + orders.await.unwrap()
    })
    .expect("no query failed");
    // A task created here inherits the id too.
    let audit = tether::create_task(async move { log(&format!("audit: {rows} rows")) });
    audit.await.unwrap();
    log("response sent");
}

#[tether::main]
async fn main() {
    log("server started");
    let a = tether::create_task(handle_request("req-a", 10));
    let b = tether::create_task(handle_request("req-b", 60));
    a.await.unwrap();
    b.await.unwrap();
    log("server stopped");
}
