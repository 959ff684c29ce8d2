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

    /// Small enough to be inlined into the scanner's loop (a call per container opened was 1 % of
    /// the dry run's instructions): a new word, once per 64 levels of depth, is taken out of line.
    #[inline]
    pub(crate) fn push(&mut self, container: Container) {
        let bit = self.depth % 64;
        match self.words.get_mut(self.depth / 64) {
            Some(word) => match container {
                Container::Array => *word |= 1 << bit,
                Container::Object => *word &= !(1 << bit),
            },
            None => self.push_word(container),
        }
        self.depth += 1;
    }

    /// A word for the level at `depth`, the first of its 64, holding `container`.
    #[cold]
    #[inline(never)]
    fn push_word(&mut self, container: Container) {
        self.words.push(u64::from(container == Container::Array));
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
