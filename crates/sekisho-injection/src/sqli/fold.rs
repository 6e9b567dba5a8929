//! Folding: reduces the token stream to at most five significant tokens, merging
//! multi-word keywords (`UNION ALL`, `INTO OUTFILE`), dropping unary operators, and
//! collapsing expressions (`1+1` → `1`), exactly as libinjection does.
//!
//! The rules work on a window `[left, pos)` of the token buffer and are order-sensitive;
//! their index arithmetic is kept as libinjection has it because fingerprints depend on it.

use super::lexer::Lexer;
use super::token::{lookup_word, Kind, Token, VALUE_CAP};

/// Fingerprints have at most this many tokens.
pub(super) const MAX_TOKENS: usize = 5;

/// The token buffer: five fingerprint slots plus look-ahead.
#[derive(Default)]
pub(super) struct Tokens {
    v: [Token; 8],
}

/// What a folding rule asks the loop to do next.
enum Step {
    /// A rule fired: look at the window again.
    Again,
    /// No two-token rule settled it: look at three tokens.
    Next,
    /// Stop folding with this many tokens (unparsable `{` construct).
    Stop(usize),
}

impl Tokens {
    /// Token `i` (a default token past the buffer).
    pub(super) fn at(&self, i: usize) -> Token {
        self.v.get(i).copied().unwrap_or_default()
    }

    fn kind(&self, i: usize) -> Kind {
        self.v.get(i).map_or(Kind::None, |t| t.kind)
    }

    pub(super) fn set(&mut self, i: usize, tok: Token) {
        if let Some(slot) = self.v.get_mut(i) {
            *slot = tok;
        }
    }

    pub(super) fn set_kind(&mut self, i: usize, kind: Kind) {
        if let Some(slot) = self.v.get_mut(i) {
            slot.kind = kind;
        }
    }

    fn copy(&mut self, dst: usize, src: usize) {
        let tok = self.at(src);
        self.set(dst, tok);
    }

    /// Reads the next token into slot `i`.
    fn read(&mut self, lexer: &mut Lexer<'_>, i: usize) -> bool {
        self.v.get_mut(i).is_some_and(|slot| lexer.next_token(slot))
    }

    /// Five-token shapes such as `1,(1)` whose first token stands for the whole group;
    /// folding restarts after it so that longer inputs are still seen.
    fn is_grouped_prefix(&self) -> bool {
        use Kind::*;
        let k = |i| self.kind(i);
        (k(0) == Number
            && matches!(k(1), Operator | Comma)
            && k(2) == LeftParens
            && k(3) == Number
            && k(4) == RightParens)
            || (k(0) == Bareword
                && k(1) == Operator
                && k(2) == LeftParens
                && matches!(k(3), Bareword | Number)
                && k(4) == RightParens)
            || (k(0) == Number
                && k(1) == RightParens
                && k(2) == Comma
                && k(3) == LeftParens
                && k(4) == Number)
            || (k(0) == Bareword
                && k(1) == RightParens
                && k(2) == Operator
                && k(3) == LeftParens
                && k(4) == Bareword)
    }
}

/// Folds the tokens of `lexer` into `tokens`; returns how many are significant (≤ 5).
pub(super) fn fold(lexer: &mut Lexer<'_>, tokens: &mut Tokens) -> usize {
    // Leading comments, `(`, SQL types and unary operators say nothing: skip them.
    let mut more;
    loop {
        more = tokens.read(lexer, 0);
        let first = tokens.at(0);
        let skip = matches!(first.kind, Kind::Comment | Kind::LeftParens | Kind::SqlType)
            || first.is_unary_op();
        if !skip {
            break;
        }
    }
    if !more {
        return 0;
    }

    let mut last_comment: Option<Token> = None;
    let mut pos = 1;
    let mut left = 0;
    // Fetches one token into `pos`; a comment is remembered, not counted.
    let mut fetch = |tokens: &mut Tokens, pos: &mut usize, last: &mut Option<Token>| {
        let more = tokens.read(lexer, *pos);
        if more {
            let tok = tokens.at(*pos);
            if tok.kind == Kind::Comment {
                *last = Some(tok);
            } else {
                *last = None;
                *pos += 1;
            }
        }
        more
    };

    loop {
        if pos >= MAX_TOKENS && tokens.is_grouped_prefix() {
            if pos > MAX_TOKENS {
                tokens.copy(1, MAX_TOKENS);
                pos = 2;
            } else {
                pos = 1;
            }
            left = 0;
        }
        if !more || left >= MAX_TOKENS {
            left = pos;
            break;
        }

        while more && pos <= MAX_TOKENS && pos.saturating_sub(left) < 2 {
            more = fetch(tokens, &mut pos, &mut last_comment);
        }
        if pos.saturating_sub(left) < 2 {
            left = pos;
            continue;
        }
        match fold_two(tokens, &mut pos, &mut left) {
            Step::Again => continue,
            Step::Stop(n) => return n,
            Step::Next => {}
        }

        while more && pos <= MAX_TOKENS && pos.saturating_sub(left) < 3 {
            more = fetch(tokens, &mut pos, &mut last_comment);
        }
        if pos.saturating_sub(left) < 3 {
            left = pos;
            continue;
        }
        if fold_three(tokens, &mut pos, &mut left) {
            continue;
        }
        left += 1;
    }

    // A trailing comment is part of the fingerprint when there is room for it.
    if left < MAX_TOKENS {
        if let Some(comment) = last_comment {
            tokens.set(left, comment);
            left += 1;
        }
    }
    left.min(MAX_TOKENS)
}

/// Words that are functions when followed by `(` though usually plain column names.
const FUNCTION_LIKE_WORDS: &[&[u8]] = &[
    b"USER_ID",
    b"USER_NAME",
    b"DATABASE",
    b"PASSWORD",
    b"USER",
    b"CURRENT_USER",
    b"CURRENT_DATE",
    b"CURRENT_TIME",
    b"CURRENT_TIMESTAMP",
    b"LOCALTIME",
    b"LOCALTIMESTAMP",
];

/// Two-token rules on `left`, `left + 1`.
fn fold_two(t: &mut Tokens, pos: &mut usize, left: &mut usize) -> Step {
    use Kind::*;
    let (l, r) = (*left, *left + 1);
    let (a, b) = (t.at(l), t.at(r));

    if (a.kind == String && b.kind == String) || (a.kind == Semicolon && b.kind == Semicolon) {
        // "foo" "bar" is one string in SQL; repeated `;` mean nothing.
        *pos -= 1;
        return Step::Again;
    }
    if matches!(a.kind, Operator | LogicOperator) && (b.is_unary_op() || b.kind == SqlType) {
        *pos -= 1;
        *left = 0;
        return Step::Again;
    }
    if a.kind == LeftParens && b.is_unary_op() {
        *pos -= 1;
        *left = left.saturating_sub(1);
        return Step::Again;
    }
    if let Some(merged) = merge_words(&a, &b) {
        t.set(l, merged);
        *pos -= 1;
        *left = left.saturating_sub(1);
        return Step::Again;
    }
    if a.kind == Semicolon
        && b.kind == Function
        && b.byte(0).eq_ignore_ascii_case(&b'I')
        && b.byte(1).eq_ignore_ascii_case(&b'F')
    {
        // T-SQL's `; IF 1=1 …` is a control statement, not the IF() function.
        t.set_kind(r, Tsql);
        return Step::Again;
    }
    if matches!(a.kind, Bareword | Variable)
        && b.kind == LeftParens
        && FUNCTION_LIKE_WORDS.iter().any(|w| a.is(w))
    {
        t.set_kind(l, Function);
        return Step::Again;
    }
    if a.kind == Keyword && (a.is(b"IN") || a.is(b"NOT IN")) {
        // `IN (` compares like an operator; otherwise (`IN BOOLEAN MODE`) it is a word.
        t.set_kind(
            l,
            if b.kind == LeftParens {
                Operator
            } else {
                Bareword
            },
        );
        return Step::Again;
    }
    if a.kind == Operator && (a.is(b"LIKE") || a.is(b"NOT LIKE")) {
        if b.kind == LeftParens {
            t.set_kind(l, Function);
        }
        return Step::Next;
    }
    if a.kind == SqlType
        && matches!(
            b.kind,
            Bareword | Number | SqlType | LeftParens | Function | Variable | String
        )
    {
        t.copy(l, r);
        *pos -= 1;
        *left = 0;
        return Step::Again;
    }
    if a.kind == Collate && b.kind == Bareword {
        // Too many collations to list: one with `_` is taken as a type.
        let text = b.value();
        let until_nul = text.split(|&c| c == 0).next().unwrap_or(text);
        if until_nul.contains(&b'_') {
            t.set_kind(r, SqlType);
            *left = 0;
        }
        return Step::Next;
    }
    if a.kind == Backslash {
        if b.is_arithmetic_op() {
            // T-SQL reads `\%1` as `0 % 1`.
            t.set_kind(l, Number);
        } else {
            t.copy(l, r);
            *pos -= 1;
        }
        *left = 0;
        return Step::Again;
    }
    if (a.kind == LeftParens && b.kind == LeftParens)
        || (a.kind == RightParens && b.kind == RightParens)
    {
        *pos -= 1;
        *left = 0;
        return Step::Again;
    }
    if a.kind == LeftBrace && b.kind == Bareword {
        // ODBC `{foo expr}`; the degenerate MySQL ``{ ``.``.id }`` is unparsable.
        if b.len() == 0 {
            t.set_kind(r, Evil);
            return Step::Stop(*left + 2);
        }
        *left = 0;
        *pos -= 2;
        return Step::Again;
    }
    if b.kind == RightBrace {
        *pos -= 1;
        *left = 0;
        return Step::Again;
    }
    Step::Next
}

/// Three-token rules on `left .. left + 3`; true when one fired.
fn fold_three(t: &mut Tokens, pos: &mut usize, left: &mut usize) -> bool {
    use Kind::*;
    let l = *left;
    let (a, b, c) = (t.at(l), t.at(l + 1), t.at(l + 2));
    let (ka, kb, kc) = (a.kind, b.kind, c.kind);

    // Binary expressions collapse to their first operand.
    let collapse = (ka == Number && kb == Operator && kc == Number)
        || (ka == Operator && kb != LeftParens && kc == Operator)
        || (ka == LogicOperator && kc == LogicOperator)
        || (ka == Variable && kb == Operator && matches!(kc, Variable | Number | Bareword))
        || (matches!(ka, Bareword | Number) && kb == Operator && matches!(kc, Number | Bareword))
        || (matches!(ka, Bareword | Number | Variable | String)
            && kb == Operator
            && b.value() == b"::"
            && kc == SqlType)
        || (matches!(ka, Bareword | Number | String | Variable)
            && kb == Comma
            && matches!(kc, Number | Bareword | String | Variable));
    if collapse {
        *pos -= 2;
        *left = 0;
        return true;
    }

    // Unary operators after a keyword, `,` or `(` are dropped.
    let unary = b.is_unary_op();
    if matches!(ka, Expression | Group | Comma) && unary && kc == LeftParens {
        t.copy(l + 1, l + 2);
        *pos -= 1;
        *left = 0;
        return true;
    }
    if matches!(ka, Keyword | Expression | Group)
        && unary
        && matches!(kc, Number | Bareword | Variable | String | Function)
    {
        t.copy(l + 1, l + 2);
        *pos -= 1;
        *left = 0;
        return true;
    }
    if ka == Comma && unary && matches!(kc, Number | Bareword | Variable | String) {
        // `1,-1` becomes `1,1`, then back up so it can fold to `1`.
        t.copy(l + 1, l + 2);
        *left = 0;
        *pos -= 3;
        return true;
    }
    if ka == Comma && unary && kc == Function {
        t.copy(l + 1, l + 2);
        *pos -= 1;
        *left = 0;
        return true;
    }
    if ka == Bareword && kb == Dot && kc == Bareword {
        // database.table
        *pos -= 2;
        *left = 0;
        return true;
    }
    if ka == Expression && kb == Dot && kc == Bareword {
        t.copy(l + 1, l + 2);
        *pos -= 1;
        *left = 0;
        return true;
    }
    if ka == Function && kb == LeftParens && kc != RightParens && a.is(b"USER") {
        // USER() takes no arguments, so `user(x)` is not that function.
        t.set_kind(l, Bareword);
    }
    false
}

/// Merges two adjacent words into a known phrase (`UNION` + `ALL` → `UNION ALL`).
fn merge_words(a: &Token, b: &Token) -> Option<Token> {
    let word = |k| {
        matches!(
            k,
            Kind::Keyword
                | Kind::Bareword
                | Kind::Operator
                | Kind::Union
                | Kind::Function
                | Kind::Expression
                | Kind::Tsql
                | Kind::SqlType
        )
    };
    if !word(a.kind) || !(word(b.kind) || b.kind == Kind::LogicOperator) {
        return None;
    }
    let len = a.len() + b.len() + 1;
    if len > VALUE_CAP {
        return None;
    }
    let mut buf = [0u8; VALUE_CAP];
    let phrase = buf.get_mut(..len)?;
    let (first, rest) = phrase.split_at_mut(a.len());
    first.copy_from_slice(a.value());
    let (space, second) = rest.split_first_mut()?;
    *space = b' ';
    second.copy_from_slice(b.value());
    let kind = lookup_word(phrase);
    if kind == Kind::None {
        return None;
    }
    let mut merged = *a;
    merged.assign(kind, a.pos, phrase);
    Some(merged)
}
