async fn one() -> u32 {
    1
}

fn not_async() -> (u32, u32) {
    tether::gather!(one(), one())
}

fn main() {
    let _ = not_async();
}
