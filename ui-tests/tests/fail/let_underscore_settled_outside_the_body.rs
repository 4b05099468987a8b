// The one place the check cannot see: a type that only code after the end of the body settles
// (here, after the async block). The error says so and names the type; writing the type
// (`let _: Result<u8, _> = ...`) or binding the value to a name compiles.

#[tether::main]
async fn main() {
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    let drain = async move {
        let _ = rx.try_recv();
    };
    tx.unbounded_send(5_u8).unwrap();
    drain.await;
}
