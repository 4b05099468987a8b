// A TaskSet owns 'static work: move what it needs in.

#[tether::main]
async fn main() {
    let owned = String::from("moved in");
    let mut set = tether::TaskSet::new();
    set.create_task(async move { owned.len() });
    let lens: Vec<usize> = set.join_all().await.into_iter().map(Result::unwrap).collect();
    assert_eq!(lens, [8]);
}
