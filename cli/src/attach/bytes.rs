//! Little-endian integers out of bytes read from the target or from its files.

/// A view of bytes read elsewhere. Offsets may come from the target itself (its published
/// layout), so every read is checked: out of range is `None`, never a panic.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.0.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    pub fn u16_at(&self, at: usize) -> Option<u16> {
        self.array(at).map(u16::from_le_bytes)
    }

    pub fn u32_at(&self, at: usize) -> Option<u32> {
        self.array(at).map(u32::from_le_bytes)
    }

    pub fn u64_at(&self, at: usize) -> Option<u64> {
        self.array(at).map(u64::from_le_bytes)
    }

    /// The `u64` at `at`, or 0 when out of range: a torn record reads as zeros, which every
    /// caller checks for (null addresses, id 0).
    pub fn u64(&self, at: usize) -> u64 {
        self.u64_at(at).unwrap_or(0)
    }

    /// As [`Bytes::u64`], for a `u32`.
    pub fn u32(&self, at: usize) -> u32 {
        self.u32_at(at).unwrap_or(0)
    }

    /// As [`Bytes::u64`], for a byte.
    pub fn u8(&self, at: usize) -> u8 {
        self.0.get(at).copied().unwrap_or(0)
    }
}
