//! A minimal slab: values stored under reusable `usize` keys.

/// Values under reusable keys. A key can be reserved before its value exists, for a value that
/// needs to know its own key when it is made (a task that removes itself when it ends).
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<usize>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab::new()
    }
}

impl<T> Slab<T> {
    /// An empty slab (`const`: it can sit in a `static`).
    pub(crate) const fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Sets a key aside; [`Slab::fill`] it, or give it back with [`Slab::remove`].
    pub(crate) fn reserve(&mut self) -> usize {
        match self.free.pop() {
            Some(key) => key,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        }
    }

    /// Stores `value` under a reserved key.
    pub(crate) fn fill(&mut self, key: usize, value: T) {
        debug_assert!(self.slots[key].is_none(), "a reserved key is filled once");
        self.slots[key] = Some(value);
        self.len += 1;
    }

    /// Removes and returns the value under `key`, freeing the key (also a reserved, unfilled
    /// one). The caller decides where the value is dropped: often only after a borrow of the
    /// slab has ended, since dropping it may run arbitrary code.
    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        let slot = self.slots.get_mut(key)?;
        let value = slot.take();
        if value.is_some() {
            self.len -= 1;
        }
        self.free.push(key);
        value
    }

    /// The value under `key`, if there is one.
    pub(crate) fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        self.slots.get_mut(key)?.as_mut()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the slots are and how many there are (for outside tools: see
    /// `crate::util::published`).
    pub(crate) fn raw_slots(&self) -> (*const Option<T>, usize) {
        (self.slots.as_ptr(), self.slots.len())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }
}
