//! A set of bytes, as four 64-bit words: cheap to build from a value and to intersect.
//!
//! The prefilter keeps its one-byte literals in one, and each transformation names the
//! bytes without which it leaves a value unchanged (see `transformations::Transformation`):
//! a value that holds none of a transformation list's bytes skips the whole list.

/// Values at least this long are scanned with a flag per byte value ([`ByteSet::of`]).
const SEEN_FROM: usize = 32;

/// A set of bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    pub const EMPTY: ByteSet = ByteSet([0; 4]);
    pub const ALL: ByteSet = ByteSet([u64::MAX; 4]);

    /// The set with `b` added.
    const fn with(self, b: u8) -> ByteSet {
        let [mut w0, mut w1, mut w2, mut w3] = self.0;
        let bit = 1u64 << (b & 63);
        match b >> 6 {
            0 => w0 |= bit,
            1 => w1 |= bit,
            2 => w2 |= bit,
            _ => w3 |= bit,
        }
        ByteSet([w0, w1, w2, w3])
    }

    /// The bytes of `list`.
    pub const fn of_list(mut list: &[u8]) -> ByteSet {
        let mut set = ByteSet::EMPTY;
        while let [b, rest @ ..] = list {
            set = set.with(*b);
            list = rest;
        }
        set
    }

    /// The bytes `lo..=hi`.
    pub const fn range(lo: u8, hi: u8) -> ByteSet {
        let mut set = ByteSet::EMPTY.with(lo);
        let mut b = lo;
        while b < hi {
            b += 1;
            set = set.with(b);
        }
        set
    }

    pub const fn union(self, other: ByteSet) -> ByteSet {
        let ([a, b, c, d], [e, f, g, h]) = (self.0, other.0);
        ByteSet([a | e, b | f, c | g, d | h])
    }

    pub fn intersection(self, other: ByteSet) -> ByteSet {
        let ([a, b, c, d], [e, f, g, h]) = (self.0, other.0);
        ByteSet([a & e, b & f, c & g, d & h])
    }

    pub fn intersects(self, other: ByteSet) -> bool {
        !self.intersection(other).is_empty()
    }

    /// Whether a transformation with these trigger bytes may change a value holding the
    /// bytes `present`: [`ByteSet::ALL`] means it may change any value, the empty one too.
    pub fn triggered_by(self, present: ByteSet) -> bool {
        self == ByteSet::ALL || self.intersects(present)
    }

    /// The set with every ASCII letter in it in both cases.
    pub fn either_case(self) -> ByteSet {
        // `A`–`Z` are bits 1–26 of the second word, `a`–`z` the same bits 32 higher.
        const UPPER: u64 = 0x07ff_fffe;
        let [a, b, c, d] = self.0;
        let letters = (b & UPPER) | ((b >> 32) & UPPER);
        ByteSet([a, b | letters | (letters << 32), c, d])
    }

    pub fn is_empty(self) -> bool {
        self.0 == [0; 4]
    }

    pub fn insert(&mut self, b: u8) {
        if let Some(w) = self.0.get_mut(usize::from(b >> 6)) {
            *w |= 1 << (b & 63);
        }
    }

    pub fn contains(self, b: u8) -> bool {
        self.0
            .get(usize::from(b >> 6))
            .is_some_and(|w| w & (1 << (b & 63)) != 0)
    }

    /// The bytes of `value`. Short values are scanned in place: returned through memory,
    /// the set was written as four words and read back as two halves, which stalled every
    /// caller (store forwarding).
    #[inline(always)]
    pub fn of(value: &[u8]) -> ByteSet {
        if value.len() < SEEN_FROM {
            // Two 128-bit halves kept in registers.
            let (mut lo, mut hi) = (0u128, 0u128);
            for &b in value {
                let bit = 1u128 << (b & 127);
                if b < 128 {
                    lo |= bit;
                } else {
                    hi |= bit;
                }
            }
            // Truncating casts: the low and high 64 bits of each half.
            return ByteSet([lo as u64, (lo >> 64) as u64, hi as u64, (hi >> 64) as u64]);
        }
        Self::of_long(value)
    }

    /// [`Self::of`] for a value of [`SEEN_FROM`] bytes or more.
    #[inline(never)]
    fn of_long(value: &[u8]) -> ByteSet {
        // A flag per byte value, then packed into bits eight at a time: setting bits of a
        // word in memory made each byte wait for the store of the one before.
        let mut seen = [0u8; 256];
        for &b in value {
            if let Some(s) = seen.get_mut(usize::from(b)) {
                *s = 1;
            }
        }
        let mut words = [0u64; 4];
        for (w, flags) in words.iter_mut().zip(seen.chunks_exact(64)) {
            for (i, eight) in flags.chunks_exact(8).enumerate() {
                let x = u64::from_le_bytes(eight.try_into().unwrap_or([0; 8]));
                // Byte k of `x` (0 or 1) lands on bit 56 + k of the product.
                *w |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
            }
        }
        ByteSet(words)
    }

    /// The bytes in the set, in order.
    pub fn bytes(self) -> impl Iterator<Item = u8> {
        self.0.into_iter().zip(0u8..).flat_map(|(mut bits, w)| {
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as u8;
                bits &= bits - 1;
                Some(w * 64 + b)
            })
        })
    }
}

/// The byte sets of a phase's values, by address: the prefilter's search, the transformation
/// cache and `multiMatch` rules each need the bytes of a value, and a value like the
/// `User-Agent` is read by many of them. Direct-mapped (a collision replaces the older entry)
/// and valid for one phase ([`Self::next_phase`]): only for values whose bytes stay where
/// they are for the phase, as for the transformation cache.
pub(crate) struct Known {
    /// (address, length, phase number, its bytes).
    slots: Box<[(usize, u32, u32, ByteSet)]>,
    phase: u32,
}

/// Entries of [`Known`]: a request's values, with room to spare (a 10 KB form has ~350
/// names and values; with 256 entries they pushed each other out).
const KNOWN_SLOTS: usize = 1024;

/// Values up to this length are scanned every time: cheaper than a lookup.
const KNOWN_SHORT: usize = 8;

impl Default for Known {
    /// Empty, without its table: a transaction's caches are taken and replaced by default
    /// ones when it ends, and allocating the table there cost more than the table saves.
    fn default() -> Self {
        Known {
            slots: Box::default(),
            phase: 1,
        }
    }
}

impl Known {
    /// Forgets every entry (values may have moved or changed since).
    pub(crate) fn next_phase(&mut self) {
        self.phase = self.phase.wrapping_add(1).max(1);
    }

    /// The bytes of `value`, a value that stays where it is for the phase.
    #[inline(always)]
    pub(crate) fn of(&mut self, value: &[u8]) -> ByteSet {
        if value.len() <= KNOWN_SHORT {
            return ByteSet::of(value);
        }
        if self.slots.is_empty() {
            self.slots = vec![(0, 0, 0, ByteSet::EMPTY); KNOWN_SLOTS].into_boxed_slice();
        }
        let at = value.as_ptr() as usize;
        // Allocations are at least 8-aligned: the low bits carry nothing.
        let i = ((at >> 3) ^ (at >> 13) ^ value.len()) % KNOWN_SLOTS;
        // A length beyond `u32` is never kept (it would not fit the entry).
        let (Some(slot), Ok(len)) = (self.slots.get_mut(i), u32::try_from(value.len())) else {
            return ByteSet::of(value);
        };
        if slot.0 == at && slot.1 == len && slot.2 == self.phase {
            return slot.3;
        }
        let set = ByteSet::of(value);
        *slot = (at, len, self.phase, set);
        set
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn either_case_adds_the_other_case_of_letters_only() {
        let set = super::ByteSet::of(b"aZ@[`{09");
        let both = set.either_case();
        let want = super::ByteSet::of(b"aAzZ@[`{09");
        assert_eq!(both, want);
        assert_eq!(super::ByteSet::ALL.either_case(), super::ByteSet::ALL);
    }

    use super::ByteSet;

    #[test]
    fn builds_and_lists_its_bytes() {
        let s = ByteSet::of(b"zA\x00\xff%A");
        assert_eq!(
            s.bytes().collect::<Vec<_>>(),
            vec![0, b'%', b'A', b'z', 0xff]
        );
        assert!(s.contains(0xff) && !s.contains(b'B'));
        assert_eq!(ByteSet::of_list(b"%A"), ByteSet::of(b"A%"));
        assert_eq!(ByteSet::range(b'a', b'c'), ByteSet::of(b"abc"));
        assert!(s.intersects(ByteSet::range(b'A', b'Z')));
        assert!(!s.intersects(ByteSet::range(b'B', b'Y')));
        assert_eq!(ByteSet::ALL.bytes().count(), 256);
        assert!(ByteSet::EMPTY.is_empty());
        // `t:length` turns "" into "0": ALL triggers on a value without bytes too.
        assert!(ByteSet::ALL.triggered_by(ByteSet::EMPTY));
        assert!(!ByteSet::of(b"%").triggered_by(ByteSet::EMPTY));
    }

    #[test]
    fn long_and_short_values_give_the_same_set() {
        // Every pattern of eight flags packs right, and long values agree with inserting
        // their bytes one by one.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..300 {
            for _ in 0..20 {
                let value: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Mostly a few byte values, sometimes any.
                        if x % 3 == 0 {
                            (x >> 8) as u8
                        } else {
                            b'a' + (x >> 8) as u8 % 8
                        }
                    })
                    .collect();
                let mut want = ByteSet::EMPTY;
                for &b in &value {
                    want.insert(b);
                }
                assert_eq!(ByteSet::of(&value), want, "{value:?}");
            }
        }
        for pattern in 0..=255u8 {
            let value: Vec<u8> = (0..8u8)
                .filter(|k| pattern & (1 << k) != 0)
                .map(|k| 64 + k)
                .chain(std::iter::repeat_n(b'~', super::SEEN_FROM))
                .collect();
            let want: Vec<u8> = (0..8u8)
                .filter(|k| pattern & (1 << k) != 0)
                .map(|k| 64 + k)
                .chain([b'~'])
                .collect();
            assert_eq!(ByteSet::of(&value).bytes().collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn known_sets_are_kept_for_a_phase_only() {
        let mut known = super::Known::default();
        let mut value = b"a value long enough to be kept by address".to_vec();
        assert_eq!(known.of(&value), ByteSet::of(&value));
        // Changed in place (which request data never is within a phase): still the old set.
        value[0] = b'%';
        assert!(!known.of(&value).contains(b'%'));
        known.next_phase();
        assert!(known.of(&value).contains(b'%'));
        // Short values are always scanned.
        let mut short = b"abc".to_vec();
        assert!(known.of(&short).contains(b'a'));
        short[0] = b'%';
        assert!(known.of(&short).contains(b'%'));
    }
}
