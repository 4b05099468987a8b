// A top-level task owned by its handle must be 'static: the handle may outlive the borrow.

#[tether::main]
async fn main() {
    let local = String::from("borrowed");
    let task = tether::create_task(async {
        println!("{}", local);
    });
    task.await.unwrap();
}
