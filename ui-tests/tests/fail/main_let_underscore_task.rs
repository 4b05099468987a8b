// rustc's help for an unused `Task` suggests `let _ = ...`; that drops the `Task` at the end of
// the statement, which cancels the task before it runs, so `#[tether::main]` refuses it too.

async fn fetch(id: u32) -> u32 {
    id
}

#[tether::main]
async fn main() {
    let _ = tether::create_task(fetch(1));
}
