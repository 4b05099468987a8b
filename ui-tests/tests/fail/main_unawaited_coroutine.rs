async fn nested() -> i32 {
    42
}

#[tether::main]
async fn main() {
    nested();
}
