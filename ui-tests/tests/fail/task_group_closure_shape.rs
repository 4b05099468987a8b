async fn two_parameters() {
    let _ = tether::task_group!(|a, b| {});
}

async fn no_parameter() {
    let _ = tether::task_group!(|| {});
}

async fn async_block() {
    let _ = tether::task_group!(async {});
}

async fn trailing_tokens() {
    let _ = tether::task_group!(|_tg| {}, extra);
}

async fn empty() {
    let _ = tether::task_group!();
}

fn main() {
    let _ = (two_parameters(), no_parameter(), async_block(), trailing_tokens(), empty());
}
