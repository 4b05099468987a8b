async fn missing_comma() {
    let _ = tether::gather!(async {} async {});
}

async fn try_without_futures() {
    let _ = tether::gather!(try);
}

fn main() {
    let _ = missing_comma();
    let _ = try_without_futures();
}
