// A TaskSet owns 'static work only: its tasks may outlive the function that spawned them.

#[tether::main]
async fn main() {
    let local = String::from("borrowed");
    let mut set = tether::TaskSet::new();
    set.create_task(async {
        println!("{}", local);
    });
    set.join_all().await;
}
