async fn empty() {
    let () = tether::gather!();
}

fn main() {
    let _ = empty();
}
