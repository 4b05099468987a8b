#[tether::main]
async fn main() {
    tether::create_task(async {});
}
