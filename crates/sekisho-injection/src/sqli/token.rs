//! SQL tokens: their kind (one character of the fingerprint) and a bounded copy of the text.

use std::cmp::Ordering;

use super::keywords::{FINGERPRINTS, KEYWORDS};

/// Bytes of token text kept, like libinjection's 32-byte buffer minus its NUL: longer
/// words are truncated, and words this long are never looked up as keywords.
pub(super) const VALUE_CAP: usize = 31;

/// The kind of a token; [`Kind::code`] is the character it contributes to a fingerprint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Kind {
    #[default]
    None,
    Keyword,
    Union,
    Group,
    Expression,
    SqlType,
    Function,
    Bareword,
    Number,
    Variable,
    String,
    Operator,
    LogicOperator,
    Comment,
    Collate,
    LeftParens,
    RightParens,
    LeftBrace,
    RightBrace,
    Dot,
    Comma,
    Colon,
    Semicolon,
    Tsql,
    Unknown,
    Evil,
    Backslash,
}

impl Kind {
    /// The fingerprint character of this kind (libinjection's type codes).
    pub(super) fn code(self) -> u8 {
        match self {
            Kind::None => 0,
            Kind::Keyword => b'k',
            Kind::Union => b'U',
            Kind::Group => b'B',
            Kind::Expression => b'E',
            Kind::SqlType => b't',
            Kind::Function => b'f',
            Kind::Bareword => b'n',
            Kind::Number => b'1',
            Kind::Variable => b'v',
            Kind::String => b's',
            Kind::Operator => b'o',
            Kind::LogicOperator => b'&',
            Kind::Comment => b'c',
            Kind::Collate => b'A',
            Kind::LeftParens => b'(',
            Kind::RightParens => b')',
            Kind::LeftBrace => b'{',
            Kind::RightBrace => b'}',
            Kind::Dot => b'.',
            Kind::Comma => b',',
            Kind::Colon => b':',
            Kind::Semicolon => b';',
            Kind::Tsql => b'T',
            Kind::Unknown => b'?',
            Kind::Evil => b'X',
            Kind::Backslash => b'\\',
        }
    }
}

/// One token: kind, position in the input, and up to [`VALUE_CAP`] bytes of its text.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) pos: usize,
    len: usize,
    val: [u8; VALUE_CAP],
    /// Opening quote of a string (`'`, `"`, `` ` ``, `$`, `q`, `u`), or 0 when the
    /// string starts at the beginning of the input (a simulated quote context).
    pub(super) str_open: u8,
    /// Closing quote, or 0 when the string ran to the end of the input.
    pub(super) str_close: u8,
}

impl Token {
    /// Sets kind, position and (truncated) text; quote marks are left as they are.
    pub(super) fn assign(&mut self, kind: Kind, pos: usize, text: &[u8]) {
        let len = text.len().min(VALUE_CAP);
        self.kind = kind;
        self.pos = pos;
        self.len = len;
        self.val = [0; VALUE_CAP];
        if let (Some(dst), Some(src)) = (self.val.get_mut(..len), text.get(..len)) {
            dst.copy_from_slice(src);
        }
    }

    /// The kept text of the token.
    pub(super) fn value(&self) -> &[u8] {
        self.val.get(..self.len).unwrap_or(&[])
    }

    /// Length of the kept text.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Byte `i` of the text, 0 past its end (libinjection reads its NUL terminator there).
    pub(super) fn byte(&self, i: usize) -> u8 {
        self.value().get(i).copied().unwrap_or(0)
    }

    /// True when the text equals `upper` (an upper-case word), ignoring ASCII case.
    pub(super) fn is(&self, upper: &[u8]) -> bool {
        self.value().eq_ignore_ascii_case(upper)
    }

    /// Unary operators: `+ - ! ~ !! NOT`.
    pub(super) fn is_unary_op(&self) -> bool {
        self.kind == Kind::Operator
            && (matches!(self.value(), b"+" | b"-" | b"!" | b"~" | b"!!") || self.is(b"NOT"))
    }

    /// Single-character arithmetic operators: `* / - + %`.
    pub(super) fn is_arithmetic_op(&self) -> bool {
        self.kind == Kind::Operator && matches!(self.value(), b"*" | b"/" | b"-" | b"+" | b"%")
    }
}

/// Orders an upper-case table entry against `key` as if `key` were upper-cased.
///
/// An inline loop: the entries are a few bytes long, so calling `memcmp` per probe of
/// the binary search costs more than the comparison itself.
fn cmp_upper(entry: &[u8], key: &[u8]) -> Ordering {
    for (e, k) in entry.iter().zip(key) {
        let k = k.to_ascii_uppercase();
        if *e != k {
            return e.cmp(&k);
        }
    }
    entry.len().cmp(&key.len())
}

/// Looks a word or phrase up in the keyword table, ignoring ASCII case.
///
/// Returns [`Kind::None`] when it is not a keyword. Example: `lookup_word(b"union all")`
/// is [`Kind::Union`].
pub(super) fn lookup_word(word: &[u8]) -> Kind {
    let Some(&first) = word.first() else {
        return Kind::None;
    };
    let (lo, hi) = KEYWORD_INDEX
        .get(usize::from(first.to_ascii_uppercase()))
        .copied()
        .unwrap_or((0, 0));
    let bucket = KEYWORDS
        .get(usize::from(lo)..usize::from(hi))
        .unwrap_or(&[]);
    bucket
        .binary_search_by(|(entry, _)| cmp_upper(entry, word))
        .ok()
        .and_then(|i| bucket.get(i))
        .map_or(Kind::None, |(_, kind)| *kind)
}

/// For each first byte, the range of [`KEYWORDS`] starting with it (computed at compile
/// time): lookups search one bucket instead of the whole table.
static KEYWORD_INDEX: [(u16, u16); 256] = first_byte_index();

#[expect(
    clippy::indexing_slicing,
    reason = "const-evaluated: a bad index fails the build, never a request"
)]
const fn first_byte_index() -> [(u16, u16); 256] {
    let mut index = [(0u16, 0u16); 256];
    let mut i = 0;
    while i < KEYWORDS.len() {
        let first = match KEYWORDS[i].0.first() {
            Some(&b) => b as usize,
            None => 0,
        };
        // INVARIANT: KEYWORDS is sorted, so equal first bytes are contiguous; the table
        // has fewer than 65,536 entries (checked by a test).
        if index[first].1 == 0 {
            index[first].0 = i as u16;
        }
        index[first].1 = (i + 1) as u16;
        i += 1;
    }
    index
}

/// True when the fingerprint (token codes, any case) is in libinjection's list.
pub(super) fn is_listed_fingerprint(fingerprint: &[u8]) -> bool {
    FINGERPRINTS
        .binary_search_by(|entry| cmp_upper(entry, fingerprint))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_lookup_ignores_case_and_knows_phrases() {
        assert_eq!(lookup_word(b"select"), Kind::Expression);
        assert_eq!(lookup_word(b"UNION ALL"), Kind::Union);
        assert_eq!(lookup_word(b"into outfile"), Kind::Keyword);
        assert_eq!(lookup_word(b"sleep"), Kind::Function);
        assert_eq!(lookup_word(b"or"), Kind::LogicOperator);
        assert_eq!(lookup_word(b"hello"), Kind::None);
        assert_eq!(lookup_word(b""), Kind::None);
    }

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(KEYWORDS
            .windows(2)
            .all(|w| matches!(w, [a, b] if a.0 < b.0)));
        assert!(FINGERPRINTS
            .windows(2)
            .all(|w| matches!(w, [a, b] if a < b)));
    }

    #[test]
    fn keyword_index_covers_every_word() {
        assert!(KEYWORDS.len() < usize::from(u16::MAX));
        for (word, kind) in KEYWORDS {
            assert_eq!(
                lookup_word(word),
                *kind,
                "{}",
                String::from_utf8_lossy(word)
            );
        }
    }

    #[test]
    fn fingerprint_lookup() {
        assert!(is_listed_fingerprint(b"s&sos"));
        assert!(is_listed_fingerprint(b"1&1"));
        assert!(is_listed_fingerprint(b"X"));
        assert!(!is_listed_fingerprint(b"n"));
    }

    #[test]
    fn assign_truncates_text() {
        let mut t = Token::default();
        t.assign(Kind::Bareword, 0, &[b'a'; 40]);
        assert_eq!(t.len(), VALUE_CAP);
        assert_eq!(t.byte(VALUE_CAP), 0);
    }
}
