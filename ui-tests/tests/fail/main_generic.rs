#[tether::main]
async fn main<T: Default>()
where
    T: Clone,
{
    let _ = T::default();
}
