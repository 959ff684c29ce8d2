//! The containers a reader is inside, innermost last, one bit each.
//!
//! Depth costs an eighth of the text it takes to open it (one byte a level at least), and no call
//! stack: nesting as deep as the size caps allow cannot overflow anything.

/// What an open container is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    Object,
    Array,
}

/// A stack of [`Container`]s.
#[derive(Debug, Default)]
pub(crate) struct Nesting {
    /// Bit `depth % 64` of word `depth / 64` is set for an array.
    words: Vec<u64>,
    depth: usize,
}

/// Words kept across [`Nesting::clear`]: nesting up to 64 Ki levels keeps its memory for reuse.
const WORDS_KEPT: usize = 1024;

impl Nesting {
    pub(crate) fn clear(&mut self) {
        self.depth = 0;
        if self.words.capacity() > WORDS_KEPT {
            self.words = Vec::new();
        }
    }

    #[inline]
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    #[inline]
    pub(crate) fn push(&mut self, container: Container) {
        let (word, bit) = (self.depth / 64, self.depth % 64);
        if word == self.words.len() {
            self.words.push(0);
        }
        if let Some(word) = self.words.get_mut(word) {
            match container {
                Container::Array => *word |= 1 << bit,
                Container::Object => *word &= !(1 << bit),
            }
        }
        self.depth += 1;
    }

    /// The innermost container.
    #[inline]
    pub(crate) fn last(&self) -> Option<Container> {
        let top = self.depth.checked_sub(1)?;
        let word = self.words.get(top / 64)?;
        Some(if word >> (top % 64) & 1 == 1 {
            Container::Array
        } else {
            Container::Object
        })
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Container> {
        let last = self.last()?;
        self.depth -= 1;
        Some(last)
    }
}
