//! The SQL tokenizer: one token per call, chosen by the first byte (libinjection's
//! per-character dispatch), for one quote context and one comment dialect.

use super::token::{lookup_word, Kind, Token};

/// How a pass reads the input: which quote it pretends the input starts inside, and
/// whether comments follow ANSI (`--x` is a comment) or MySQL (`#` is a comment) rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Context {
    /// 0 (none), `'` or `"`.
    pub(super) quote: u8,
    pub(super) mysql: bool,
}

/// Tokenizer state over one input for one [`Context`].
pub(super) struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    ctx: Context,
    /// Tokens produced so far (comments included); the false-positive filters use it.
    pub(super) stats_tokens: usize,
    /// `--x` comments seen in ANSI mode: a reason to re-read the input as MySQL.
    pub(super) stats_comment_ddx: usize,
    /// `#` seen: a reason to re-read the input as MySQL.
    pub(super) stats_comment_hash: usize,
}

/// Whitespace for comments and numbers (NUL and Latin-1 NBSP count, as in libinjection).
fn is_white(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0 | 0)
}

/// Bytes that end a bare word.
fn ends_word(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'['
            | b']'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
            | b':'
            | b'\\'
            | b'?'
            | b'='
            | b'@'
            | b'!'
            | b'#'
            | b'~'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'&'
            | b'|'
            | b'^'
            | b'%'
            | b'('
            | b')'
            | b','
            | b'\''
            | b';'
            | b'\t'
            | b'\n'
            | 0x0b
            | 0x0c
            | b'\r'
            | b'"'
            | 0xa0
            | 0
    )
}

/// Bytes that end a `@variable` name.
fn ends_variable(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'<'
            | b'>'
            | b':'
            | b'\\'
            | b'?'
            | b'='
            | b'@'
            | b'!'
            | b'#'
            | b'~'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'&'
            | b'|'
            | b'^'
            | b'%'
            | b'('
            | b')'
            | b','
            | b'\''
            | b';'
            | b'\t'
            | b'\n'
            | 0x0b
            | 0x0c
            | b'\r'
            | b'`'
            | b'"'
            | 0
    )
}

// The span helpers below accept NUL as libinjection's `strspn`-style helpers do (its
// accept sets are C strings, so the terminator always "matches").
fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == 0
}

fn is_bin(c: u8) -> bool {
    matches!(c, b'0' | b'1' | 0)
}

fn is_money(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b'.' | b',' | 0)
}

fn is_letter(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == 0
}

/// Index of the first `a b` pair starting at or after `from`.
fn find_pair(s: &[u8], from: usize, a: u8, b: u8) -> Option<usize> {
    s.get(from..)?
        .windows(2)
        .position(|w| w == [a, b])
        .map(|i| i + from)
}

/// Index of the first `c` at or after `from`.
fn find_byte(s: &[u8], from: usize, c: u8) -> Option<usize> {
    s.get(from..)?
        .iter()
        .position(|&x| x == c)
        .map(|i| i + from)
}

/// Length of the run of bytes satisfying `accept` starting at `from`.
fn span(s: &[u8], from: usize, accept: impl Fn(u8) -> bool) -> usize {
    s.get(from..)
        .map_or(0, |rest| rest.iter().take_while(|&&c| accept(c)).count())
}

/// Odd number of backslashes right before `quote` (not looking before `start`).
fn backslash_escaped(s: &[u8], start: usize, quote: usize) -> bool {
    s.get(start..quote).map_or(0, |run| {
        run.iter().rev().take_while(|&&c| c == b'\\').count()
    }) % 2
        == 1
}

impl<'a> Lexer<'a> {
    pub(super) fn new(s: &'a [u8], ctx: Context) -> Self {
        Lexer {
            s,
            pos: 0,
            ctx,
            stats_tokens: 0,
            stats_comment_ddx: 0,
            stats_comment_hash: 0,
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn slice(&self, from: usize, to: usize) -> &'a [u8] {
        self.s.get(from..to).unwrap_or(&[])
    }

    /// Reads the next token into `tok`; false at the end of the input.
    pub(super) fn next_token(&mut self, tok: &mut Token) -> bool {
        *tok = Token::default();
        if self.pos == 0 && self.ctx.quote != 0 {
            // The pretend quote: the input is the tail of a string literal.
            self.pos = self.string(0, tok, self.ctx.quote, 0);
            self.stats_tokens += 1;
            return true;
        }
        while let Some(&c) = self.s.get(self.pos) {
            self.pos = self.dispatch(c, tok);
            if tok.kind != Kind::None {
                self.stats_tokens += 1;
                return true;
            }
        }
        false
    }

    /// Parses the token starting at `self.pos` whose first byte is `c`; returns the
    /// position after it (whitespace yields no token).
    fn dispatch(&mut self, c: u8, tok: &mut Token) -> usize {
        let pos = self.pos;
        match c {
            0..=32 | 127 | 160 => pos + 1,
            b'!' | b'&' | b'*' | b':' | b'<' | b'=' | b'>' | b'|' => self.operator2(pos, tok),
            b'"' | b'\'' => self.string(pos, tok, c, 1),
            b'#' => self.hash(pos, tok),
            b'$' => self.money(pos, tok),
            b'%' | b'+' | b'^' | b'~' => single(tok, Kind::Operator, pos, c),
            b'(' => single(tok, Kind::LeftParens, pos, c),
            b')' => single(tok, Kind::RightParens, pos, c),
            b',' => single(tok, Kind::Comma, pos, c),
            b';' => single(tok, Kind::Semicolon, pos, c),
            b'{' => single(tok, Kind::LeftBrace, pos, c),
            b'}' => single(tok, Kind::RightBrace, pos, c),
            b'-' => self.dash(pos, tok),
            b'.' | b'0'..=b'9' => self.number(pos, tok),
            b'/' => self.slash(pos, tok),
            b'?' | b']' => single(tok, Kind::Unknown, pos, c),
            b'@' => self.variable(pos, tok),
            b'B' | b'b' => self.bit_string(pos, tok, is_bin),
            b'X' | b'x' => self.bit_string(pos, tok, is_hex),
            b'E' | b'e' => self.e_string(pos, tok),
            b'N' | b'n' => self.n_string(pos, tok),
            b'Q' | b'q' => self.q_string(pos, 0, tok),
            b'U' | b'u' => self.u_string(pos, tok),
            b'[' => self.bracket_word(pos, tok),
            b'\\' => self.backslash(pos, tok),
            b'`' => self.tick(pos, tok),
            _ => self.word(pos, tok),
        }
    }

    /// A string body starting at `pos + offset` and ending at an unescaped `delim`
    /// (`\'` and `''` escape it); `offset` 0 is the pretend quote at input start.
    fn string(&self, pos: usize, tok: &mut Token, delim: u8, offset: usize) -> usize {
        let start = pos + offset;
        let mut from = start;
        loop {
            let Some(q) = find_byte(self.s, from, delim) else {
                tok.assign(Kind::String, start, self.slice(start, self.s.len()));
                tok.str_open = if offset > 0 { delim } else { 0 };
                tok.str_close = 0;
                return self.s.len();
            };
            if backslash_escaped(self.s, start, q) {
                from = q + 1;
            } else if q + 1 < self.s.len() && self.at(q + 1) == delim {
                from = q + 2;
            } else {
                tok.assign(Kind::String, start, self.slice(start, q));
                tok.str_open = if offset > 0 { delim } else { 0 };
                tok.str_close = delim;
                return q + 1;
            }
        }
    }

    fn operator2(&self, pos: usize, tok: &mut Token) -> usize {
        let c = self.at(pos);
        if pos + 1 >= self.s.len() {
            return single(tok, Kind::Operator, pos, c);
        }
        if self.slice(pos, pos + 3) == b"<=>" {
            tok.assign(Kind::Operator, pos, b"<=>");
            return pos + 3;
        }
        let two = self.slice(pos, pos + 2);
        let kind = lookup_word(two);
        if kind != Kind::None {
            tok.assign(kind, pos, two);
            return pos + 2;
        }
        if c == b':' {
            return single(tok, Kind::Colon, pos, c);
        }
        single(tok, Kind::Operator, pos, c)
    }

    /// A comment up to the end of the line.
    fn line_comment(&self, pos: usize, tok: &mut Token) -> usize {
        match find_byte(self.s, pos, b'\n') {
            None => {
                tok.assign(Kind::Comment, pos, self.slice(pos, self.s.len()));
                self.s.len()
            }
            Some(nl) => {
                tok.assign(Kind::Comment, pos, self.slice(pos, nl));
                nl + 1
            }
        }
    }

    /// `#`: a comment in MySQL, an operator in ANSI SQL.
    fn hash(&mut self, pos: usize, tok: &mut Token) -> usize {
        self.stats_comment_hash += 1;
        if self.ctx.mysql {
            self.stats_comment_hash += 1;
            self.line_comment(pos, tok)
        } else {
            single(tok, Kind::Operator, pos, b'#')
        }
    }

    /// `-`: `--` then whitespace or end of input is a comment everywhere; `--x` only in
    /// ANSI mode (MySQL reads two minus signs); otherwise an operator.
    fn dash(&mut self, pos: usize, tok: &mut Token) -> usize {
        let len = self.s.len();
        let double = self.at(pos + 1) == b'-' && pos + 1 < len;
        if double && ((pos + 2 < len && is_white(self.at(pos + 2))) || pos + 2 == len) {
            self.line_comment(pos, tok)
        } else if double && !self.ctx.mysql {
            self.stats_comment_ddx += 1;
            self.line_comment(pos, tok)
        } else {
            single(tok, Kind::Operator, pos, b'-')
        }
    }

    /// `/`: an operator, or a `/* */` comment; nested `/*` (PostgreSQL) and MySQL's
    /// executable `/*!` comments are unparsable, so evil.
    fn slash(&self, pos: usize, tok: &mut Token) -> usize {
        if self.at(pos + 1) != b'*' || pos + 1 >= self.s.len() {
            return single(tok, Kind::Operator, pos, b'/');
        }
        let close = find_pair(self.s, pos + 2, b'*', b'/');
        let end = close.map_or(self.s.len(), |c| c + 2);
        let nested =
            close.is_some_and(|c| self.slice(pos + 2, c + 1).windows(2).any(|w| w == b"/*"));
        let mysql_exec = pos + 2 < self.s.len() && self.at(pos + 2) == b'!';
        let kind = if nested || mysql_exec {
            Kind::Evil
        } else {
            Kind::Comment
        };
        tok.assign(kind, pos, self.slice(pos, end));
        end
    }

    /// `\N` is MySQL's NULL; a lone backslash is its own token.
    fn backslash(&self, pos: usize, tok: &mut Token) -> usize {
        if pos + 1 < self.s.len() && self.at(pos + 1) == b'N' {
            tok.assign(Kind::Number, pos, self.slice(pos, pos + 2));
            pos + 2
        } else {
            single(tok, Kind::Backslash, pos, b'\\')
        }
    }

    /// `E'…'` / `N'…'` strings (PostgreSQL escape, national character set).
    fn e_string(&self, pos: usize, tok: &mut Token) -> usize {
        if pos + 2 >= self.s.len() || self.at(pos + 1) != b'\'' {
            return self.word(pos, tok);
        }
        self.string(pos, tok, b'\'', 2)
    }

    /// `U&'…'` (unicode string).
    fn u_string(&self, pos: usize, tok: &mut Token) -> usize {
        if pos + 2 < self.s.len() && self.at(pos + 1) == b'&' && self.at(pos + 2) == b'\'' {
            let next = self.string(pos + 2, tok, b'\'', 1);
            tok.str_open = b'u';
            if tok.str_close == b'\'' {
                tok.str_close = b'u';
            }
            next
        } else {
            self.word(pos, tok)
        }
    }

    /// `N'…'` or Oracle's `nq'…'`.
    fn n_string(&self, pos: usize, tok: &mut Token) -> usize {
        if pos + 2 < self.s.len() && self.at(pos + 1) == b'\'' {
            return self.e_string(pos, tok);
        }
        self.q_string(pos, 1, tok)
    }

    /// Oracle's `q'<delim>…<delim>'` at `pos + offset`.
    fn q_string(&self, pos: usize, offset: usize, tok: &mut Token) -> usize {
        let p = pos + offset;
        let len = self.s.len();
        if p >= len || !matches!(self.at(p), b'q' | b'Q') || p + 2 >= len || self.at(p + 1) != b'\''
        {
            return self.word(pos, tok);
        }
        let open = self.at(p + 2);
        // libinjection's signed `char`: bytes >= 0x80 are below 33 too.
        if !(33..128).contains(&open) {
            return self.word(pos, tok);
        }
        let close = match open {
            b'(' => b')',
            b'[' => b']',
            b'{' => b'}',
            b'<' => b'>',
            other => other,
        };
        tok.str_open = b'q';
        match find_pair(self.s, p + 3, close, b'\'') {
            None => {
                tok.assign(Kind::String, p + 3, self.slice(p + 3, len));
                tok.str_close = 0;
                len
            }
            Some(end) => {
                tok.assign(Kind::String, p + 3, self.slice(p + 3, end));
                tok.str_close = b'q';
                end + 2
            }
        }
    }

    /// `b'0101'` and `x'CAFE'` literals (numbers); otherwise a word.
    fn bit_string(&self, pos: usize, tok: &mut Token, digit: fn(u8) -> bool) -> usize {
        let len = self.s.len();
        if pos + 2 >= len || self.at(pos + 1) != b'\'' {
            return self.word(pos, tok);
        }
        let n = span(self.s, pos + 2, digit);
        if pos + 2 + n >= len || self.at(pos + 2 + n) != b'\'' {
            return self.word(pos, tok);
        }
        tok.assign(Kind::Number, pos, self.slice(pos, pos + n + 3));
        pos + n + 3
    }

    /// SQL Server `[bracketed name]`.
    fn bracket_word(&self, pos: usize, tok: &mut Token) -> usize {
        match find_byte(self.s, pos, b']') {
            None => {
                tok.assign(Kind::Bareword, pos, self.slice(pos, self.s.len()));
                self.s.len()
            }
            Some(end) => {
                tok.assign(Kind::Bareword, pos, self.slice(pos, end + 1));
                end + 1
            }
        }
    }

    /// A bare word, typed by the keyword table. A keyword before `.` or `` ` `` is split
    /// off (`SELECT.1`, ``SELECT`col` ``).
    fn word(&self, pos: usize, tok: &mut Token) -> usize {
        let wlen = span(self.s, pos, |c| !ends_word(c));
        tok.assign(Kind::Bareword, pos, self.slice(pos, pos + wlen));
        let split = tok
            .value()
            .iter()
            .enumerate()
            .filter(|(_, &c)| c == b'.' || c == b'`')
            .find_map(|(i, _)| {
                let kind = lookup_word(tok.value().get(..i).unwrap_or(&[]));
                (kind != Kind::None && kind != Kind::Bareword).then_some((i, kind))
            });
        if let Some((i, kind)) = split {
            *tok = Token::default();
            tok.assign(kind, pos, self.slice(pos, pos + i));
            return pos + i;
        }
        if wlen <= super::token::VALUE_CAP {
            let kind = lookup_word(tok.value());
            tok.kind = if kind == Kind::None {
                Kind::Bareword
            } else {
                kind
            };
        }
        pos + wlen
    }

    /// MySQL `` `name` ``: a bare word, or a function when it names one.
    fn tick(&self, pos: usize, tok: &mut Token) -> usize {
        let next = self.string(pos, tok, b'`', 1);
        tok.kind = if lookup_word(tok.value()) == Kind::Function {
            Kind::Function
        } else {
            Kind::Bareword
        };
        next
    }

    /// `@var`, `@@var`, ``@@`var` `` and `@'var'`.
    fn variable(&self, pos: usize, tok: &mut Token) -> usize {
        let mut p = pos + 1;
        if self.at(p) == b'@' && p < self.s.len() {
            p += 1;
        }
        if p < self.s.len() {
            let c = self.at(p);
            if c == b'`' {
                let next = self.tick(p, tok);
                tok.kind = Kind::Variable;
                return next;
            }
            if c == b'\'' || c == b'"' {
                let next = self.string(p, tok, c, 1);
                tok.kind = Kind::Variable;
                return next;
            }
        }
        let n = span(self.s, p, |c| !ends_variable(c));
        tok.assign(Kind::Variable, p, self.slice(p, p + n));
        p + n
    }

    /// `$`: money (`$1,000.00`), PostgreSQL `$$…$$` and `$tag$…$tag$` strings, or a word.
    fn money(&self, pos: usize, tok: &mut Token) -> usize {
        let len = self.s.len();
        if pos + 1 == len {
            return single(tok, Kind::Bareword, pos, b'$');
        }
        let digits = span(self.s, pos + 1, is_money);
        if digits == 1 && self.at(pos + 1) == b'.' {
            return self.word(pos, tok);
        }
        if digits > 0 {
            tok.assign(Kind::Number, pos, self.slice(pos, pos + 1 + digits));
            return pos + 1 + digits;
        }
        if self.at(pos + 1) == b'$' {
            tok.str_open = b'$';
            return match find_pair(self.s, pos + 2, b'$', b'$') {
                None => {
                    tok.assign(Kind::String, pos + 2, self.slice(pos + 2, len));
                    tok.str_close = 0;
                    len
                }
                Some(end) => {
                    tok.assign(Kind::String, pos + 2, self.slice(pos + 2, end));
                    tok.str_close = b'$';
                    end + 2
                }
            };
        }
        let tag_len = span(self.s, pos + 1, is_letter);
        if tag_len == 0 || pos + tag_len + 1 == len || self.at(pos + tag_len + 1) != b'$' {
            return single(tok, Kind::Bareword, pos, b'$');
        }
        let tag = self.slice(pos, pos + tag_len + 2);
        if tag.is_empty() {
            return single(tok, Kind::Bareword, pos, b'$');
        }
        let body = pos + tag_len + 2;
        let end = self
            .s
            .get(body..)
            .and_then(|rest| rest.windows(tag.len()).position(|w| w == tag))
            .map(|i| i + body);
        tok.str_open = b'$';
        match end {
            None => {
                tok.assign(Kind::String, body, self.slice(body, len));
                tok.str_close = 0;
                len
            }
            Some(end) => {
                tok.assign(Kind::String, body, self.slice(body, end));
                tok.str_close = b'$';
                end + tag.len()
            }
        }
    }

    /// Numbers: `0x1F`, `0b101`, `1.5e-3`, Oracle's `1.5f`/`1d`; a lone `.` is a dot and
    /// `1e` (exponent without digits) a bare word.
    fn number(&self, pos: usize, tok: &mut Token) -> usize {
        let len = self.s.len();
        if self.at(pos) == b'0' && pos + 1 < len {
            let digit: Option<fn(u8) -> bool> = match self.at(pos + 1) {
                b'X' | b'x' => Some(is_hex),
                b'B' | b'b' => Some(is_bin),
                _ => None,
            };
            if let Some(digit) = digit {
                let n = span(self.s, pos + 2, digit);
                let kind = if n == 0 { Kind::Bareword } else { Kind::Number };
                tok.assign(kind, pos, self.slice(pos, pos + 2 + n));
                return pos + 2 + n;
            }
        }
        let start = pos;
        let mut p = pos + span(self.s, pos, |c| c.is_ascii_digit());
        if self.at(p) == b'.' && p < len {
            p += 1;
            p += span(self.s, p, |c| c.is_ascii_digit());
            if p - start == 1 {
                return single(tok, Kind::Dot, start, b'.');
            }
        }
        let mut have_e = false;
        let mut have_exp = false;
        if p < len && matches!(self.at(p), b'E' | b'e') {
            have_e = true;
            p += 1;
            if p < len && matches!(self.at(p), b'+' | b'-') {
                p += 1;
            }
            let n = span(self.s, p, |c| c.is_ascii_digit());
            have_exp = n > 0;
            p += n;
        }
        if p < len && matches!(self.at(p), b'd' | b'D' | b'f' | b'F') {
            let after = self.at(p + 1);
            // `1.5f` ends the number only before end, space, `;`, or `u` (`1fUNION`).
            if p + 1 == len || is_white(after) || matches!(after, b';' | b'u' | b'U') {
                p += 1;
            }
        }
        let kind = if have_e && !have_exp {
            Kind::Bareword
        } else {
            Kind::Number
        };
        tok.assign(kind, start, self.slice(start, p));
        p
    }
}

/// A one-byte token.
fn single(tok: &mut Token, kind: Kind, pos: usize, c: u8) -> usize {
    tok.assign(kind, pos, &[c]);
    pos + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str, ctx: Context) -> String {
        let mut lexer = Lexer::new(input.as_bytes(), ctx);
        let mut tok = Token::default();
        let mut out = String::new();
        while lexer.next_token(&mut tok) {
            out.push(char::from(tok.kind.code()));
        }
        out
    }

    const ANSI: Context = Context {
        quote: 0,
        mysql: false,
    };
    const MYSQL: Context = Context {
        quote: 0,
        mysql: true,
    };

    #[test]
    fn basic_tokens() {
        assert_eq!(kinds("1 OR 1=1", ANSI), "1&1o1");
        assert_eq!(kinds("select * from t", ANSI), "Eokn");
        assert_eq!(kinds("'a''b' \"c\\\"d\"", ANSI), "ss");
        assert_eq!(kinds("@@version @x @`y`", ANSI), "vvv");
        assert_eq!(kinds("x'AF' b'01' 0x1f 0b1 0x", ANSI), "1111n");
        assert_eq!(kinds("$1,000 $$a$$ $t$b$t$ $", ANSI), "1ssn");
        assert_eq!(kinds("1.5e3 1e 1.5f .", ANSI), "1n1.");
    }

    #[test]
    fn comments_depend_on_dialect() {
        assert_eq!(kinds("1 --x", ANSI), "1c");
        assert_eq!(kinds("1 --x", MYSQL), "1oon");
        assert_eq!(kinds("1 # x", ANSI), "1on");
        assert_eq!(kinds("1 # x", MYSQL), "1c");
        assert_eq!(kinds("/* a */ /*! b */ /* /* */", ANSI), "cXX");
    }

    #[test]
    fn pretend_quote_starts_inside_a_string() {
        let single = Context {
            quote: b'\'',
            mysql: false,
        };
        assert_eq!(kinds("a' or 'b", single), "s&s");
    }

    #[test]
    fn keyword_before_dot_is_split() {
        assert_eq!(kinds("select.1", ANSI), "E1");
        assert_eq!(kinds("foo.bar", ANSI), "n");
    }
}
