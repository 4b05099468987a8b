use std::time::Duration;

#[derive(Debug)]
struct AppError;

async fn step(n: u32) -> Result<u32, AppError> {
    tether::sleep(Duration::ZERO).await;
    if n > 10 { Err(AppError) } else { Ok(n + 1) }
}

#[tether::main]
async fn main() -> Result<(), AppError> {
    let one = step(0).await?;
    let two = step(one).await?;
    assert_eq!(two, 2);
    let task = tether::create_task(step(5));
    assert_eq!(task.await.unwrap()?, 6);
    Ok(())
}
