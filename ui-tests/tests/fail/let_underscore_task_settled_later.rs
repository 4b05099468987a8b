// The probe reads a value's type at the end of the body, so a task owner whose type later
// statements settle is still caught, and the error names the type it judged.

#[tether::main]
async fn main() {
    let mut pending = Vec::new();
    let _ = pending.pop();
    pending.push(tether::create_task(async {}));
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    let _ = rx.try_recv();
    tx.unbounded_send(tether::spawn(async {})).unwrap();
}
