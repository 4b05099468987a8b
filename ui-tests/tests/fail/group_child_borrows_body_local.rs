// A group child may not borrow a local of the body: the body ends before its children do.

#[tether::main]
async fn main() {
    tether::task_group!(|tg| {
        let local = String::from("lives in the body");
        tg.create_task(async {
            println!("{}", local);
        });
    })
    .unwrap();
}
