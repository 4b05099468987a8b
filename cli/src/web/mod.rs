pub fn serve(
    _: &crate::Args,
    _: impl FnMut() -> Result<crate::model::Snapshot, String>,
) -> Result<(), String> {
    Ok(())
}
