//! A small HTML5 tokenizer after libinjection's: only the states that matter for spotting
//! tags, attributes and comments, plus the non-standard quirks old browsers accept
//! (NUL in tag names, back-quoted values, `<% %>` comments).

/// Where tokenizing starts: in text, or inside an attribute value of some quoting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Start {
    Data,
    ValueNoQuote,
    ValueSingleQuote,
    ValueDoubleQuote,
    ValueBackQuote,
}

/// Kinds of tokens the tokenizer reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenKind {
    DataText,
    TagNameOpen,
    TagNameClose,
    TagNameSelfClose,
    TagClose,
    AttrName,
    AttrValue,
    TagComment,
    Doctype,
}

/// A token: its kind and byte range in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    pub(super) start: usize,
    pub(super) len: usize,
}

/// The state to resume in on the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Eof,
    Data,
    TagOpen,
    TagNameClose,
    BeforeAttributeName,
    AfterAttributeName,
    BeforeAttributeValue,
    ValueQuoted(u8),
    AfterAttributeValueQuoted,
    SelfClosingStartTag,
}

/// Tokenizer over one input.
pub(super) struct Html5<'a> {
    s: &'a [u8],
    pos: usize,
    state: State,
    is_close: bool,
}

/// HTML whitespace; NUL counts too, as in libinjection (`strchr` finds the terminator).
fn is_white(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0)
}

impl<'a> Html5<'a> {
    pub(super) fn new(s: &'a [u8], start: Start) -> Self {
        let state = match start {
            Start::Data => State::Data,
            Start::ValueNoQuote => State::BeforeAttributeName,
            Start::ValueSingleQuote => State::ValueQuoted(b'\''),
            Start::ValueDoubleQuote => State::ValueQuoted(b'"'),
            Start::ValueBackQuote => State::ValueQuoted(b'`'),
        };
        Html5 {
            s,
            pos: 0,
            state,
            is_close: false,
        }
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    fn find(&self, from: usize, c: u8) -> Option<usize> {
        self.s
            .get(from..)?
            .iter()
            .position(|&x| x == c)
            .map(|i| i + from)
    }

    fn emit(&mut self, kind: TokenKind, start: usize, len: usize) -> Option<Token> {
        Some(Token { kind, start, len })
    }

    /// The next token, or `None` at the end.
    pub(super) fn next_token(&mut self) -> Option<Token> {
        match self.state {
            State::Eof => None,
            State::Data => self.data(),
            State::TagOpen => self.tag_open(),
            State::TagNameClose => self.tag_name_close(),
            State::BeforeAttributeName => self.before_attribute_name(),
            State::AfterAttributeName => self.after_attribute_name(),
            State::BeforeAttributeValue => self.before_attribute_value(),
            State::ValueQuoted(q) => self.value_quoted(q),
            State::AfterAttributeValueQuoted => self.after_attribute_value_quoted(),
            State::SelfClosingStartTag => self.self_closing_start_tag(),
        }
    }

    /// Skips whitespace (and NUL, VT, CR: IE quirks); `None` at the end. Byte 0xFF also
    /// reads as the end: libinjection's signed `char` makes it equal to its EOF marker.
    fn skip_white(&mut self) -> Option<u8> {
        while let Some(c) = self.at(self.pos) {
            match c {
                0x00 | 0x20 | 0x09 | 0x0a | 0x0b | 0x0c | 0x0d => self.pos += 1,
                0xff => return None,
                _ => return Some(c),
            }
        }
        None
    }

    fn data(&mut self) -> Option<Token> {
        let start = self.pos;
        if start > self.s.len() {
            return None;
        }
        match self.find(start, b'<') {
            None => {
                self.state = State::Eof;
                let len = self.s.len() - start;
                if len == 0 {
                    return None;
                }
                self.emit(TokenKind::DataText, start, len)
            }
            Some(lt) => {
                self.pos = lt + 1;
                self.state = State::TagOpen;
                if lt == start {
                    return self.tag_open();
                }
                self.emit(TokenKind::DataText, start, lt - start)
            }
        }
    }

    fn tag_open(&mut self) -> Option<Token> {
        let c = self.at(self.pos)?;
        match c {
            b'!' => {
                self.pos += 1;
                self.markup_declaration_open()
            }
            b'/' => {
                self.pos += 1;
                self.is_close = true;
                self.end_tag_open()
            }
            b'?' => {
                self.pos += 1;
                self.bogus_comment()
            }
            b'%' => {
                // Not in the spec: `<% %>` comments of IE <= 9 and old Safari.
                self.pos += 1;
                self.bogus_comment_percent()
            }
            // NUL: old IE ignores it inside tag names.
            b'a'..=b'z' | b'A'..=b'Z' | 0 => self.tag_name(),
            _ => {
                if self.pos == 0 {
                    return self.data();
                }
                self.state = State::Data;
                self.emit(TokenKind::DataText, self.pos - 1, 1)
            }
        }
    }

    fn end_tag_open(&mut self) -> Option<Token> {
        let c = self.at(self.pos)?;
        if c == b'>' {
            return self.data();
        }
        if c.is_ascii_alphabetic() {
            return self.tag_name();
        }
        self.is_close = false;
        self.bogus_comment()
    }

    fn tag_name_close(&mut self) -> Option<Token> {
        self.is_close = false;
        let start = self.pos;
        self.pos += 1;
        self.state = if self.pos < self.s.len() {
            State::Data
        } else {
            State::Eof
        };
        self.emit(TokenKind::TagNameClose, start, 1)
    }

    fn tag_name(&mut self) -> Option<Token> {
        let start = self.pos;
        let mut p = start;
        while let Some(c) = self.at(p) {
            if c == 0 {
                p += 1;
            } else if is_white(c) {
                self.pos = p + 1;
                self.state = State::BeforeAttributeName;
                return self.emit(TokenKind::TagNameOpen, start, p - start);
            } else if c == b'/' {
                self.pos = p + 1;
                self.state = State::SelfClosingStartTag;
                return self.emit(TokenKind::TagNameOpen, start, p - start);
            } else if c == b'>' {
                if self.is_close {
                    self.pos = p + 1;
                    self.is_close = false;
                    self.state = State::Data;
                    return self.emit(TokenKind::TagClose, start, p - start);
                }
                self.pos = p;
                self.state = State::TagNameClose;
                return self.emit(TokenKind::TagNameOpen, start, p - start);
            } else {
                p += 1;
            }
        }
        self.state = State::Eof;
        self.emit(TokenKind::TagNameOpen, start, self.s.len() - start)
    }

    fn before_attribute_name(&mut self) -> Option<Token> {
        loop {
            match self.skip_white()? {
                b'/' => {
                    self.pos += 1;
                    // `/` not followed by `>` is ignored: look for the next attribute.
                    if self.at(self.pos).is_some_and(|c| c != b'>') {
                        continue;
                    }
                    return self.self_closing_start_tag();
                }
                b'>' => {
                    self.state = State::Data;
                    let start = self.pos;
                    self.pos += 1;
                    return self.emit(TokenKind::TagNameClose, start, 1);
                }
                _ => return self.attribute_name(),
            }
        }
    }

    fn attribute_name(&mut self) -> Option<Token> {
        let start = self.pos;
        // The first byte belongs to the name whatever it is (`<a =x>` names `=x`).
        let mut p = start + 1;
        while let Some(c) = self.at(p) {
            let (next_state, next_pos) = if is_white(c) {
                (State::AfterAttributeName, p + 1)
            } else if c == b'/' {
                (State::SelfClosingStartTag, p + 1)
            } else if c == b'=' {
                (State::BeforeAttributeValue, p + 1)
            } else if c == b'>' {
                (State::TagNameClose, p)
            } else {
                p += 1;
                continue;
            };
            self.state = next_state;
            self.pos = next_pos;
            return self.emit(TokenKind::AttrName, start, p - start);
        }
        self.state = State::Eof;
        self.pos = self.s.len();
        self.emit(
            TokenKind::AttrName,
            start,
            self.s.len().saturating_sub(start),
        )
    }

    fn after_attribute_name(&mut self) -> Option<Token> {
        match self.skip_white()? {
            b'/' => {
                self.pos += 1;
                self.self_closing_start_tag()
            }
            b'=' => {
                self.pos += 1;
                self.before_attribute_value()
            }
            b'>' => self.tag_name_close(),
            _ => self.attribute_name(),
        }
    }

    fn before_attribute_value(&mut self) -> Option<Token> {
        let Some(c) = self.skip_white() else {
            self.state = State::Eof;
            return None;
        };
        match c {
            b'"' | b'\'' | b'`' => self.value_quoted(c),
            _ => self.value_unquoted(),
        }
    }

    /// A quoted value; at input start (a start context) there is no opening quote to skip.
    fn value_quoted(&mut self, quote: u8) -> Option<Token> {
        if self.pos > 0 {
            self.pos += 1;
        }
        let start = self.pos;
        match self.find(start, quote) {
            None => {
                self.state = State::Eof;
                self.emit(
                    TokenKind::AttrValue,
                    start,
                    self.s.len().saturating_sub(start),
                )
            }
            Some(end) => {
                self.state = State::AfterAttributeValueQuoted;
                self.pos = end + 1;
                self.emit(TokenKind::AttrValue, start, end - start)
            }
        }
    }

    fn value_unquoted(&mut self) -> Option<Token> {
        let start = self.pos;
        let mut p = start;
        while let Some(c) = self.at(p) {
            if is_white(c) {
                self.pos = p + 1;
                self.state = State::BeforeAttributeName;
                return self.emit(TokenKind::AttrValue, start, p - start);
            }
            if c == b'>' {
                self.pos = p;
                self.state = State::TagNameClose;
                return self.emit(TokenKind::AttrValue, start, p - start);
            }
            p += 1;
        }
        self.state = State::Eof;
        self.emit(TokenKind::AttrValue, start, self.s.len() - start)
    }

    fn after_attribute_value_quoted(&mut self) -> Option<Token> {
        let c = self.at(self.pos)?;
        if is_white(c) {
            self.pos += 1;
            self.before_attribute_name()
        } else if c == b'/' {
            self.pos += 1;
            self.self_closing_start_tag()
        } else if c == b'>' {
            let start = self.pos;
            self.pos += 1;
            self.state = State::Data;
            self.emit(TokenKind::TagNameClose, start, 1)
        } else {
            self.before_attribute_name()
        }
    }

    fn self_closing_start_tag(&mut self) -> Option<Token> {
        let c = self.at(self.pos)?;
        if c == b'>' {
            let start = self.pos.saturating_sub(1);
            self.state = State::Data;
            self.pos += 1;
            return self.emit(TokenKind::TagNameSelfClose, start, 2);
        }
        self.before_attribute_name()
    }

    /// `<?…>` and other malformed markup: a comment up to `>`.
    fn bogus_comment(&mut self) -> Option<Token> {
        let start = self.pos;
        match self.find(start, b'>') {
            None => {
                self.pos = self.s.len();
                self.state = State::Eof;
                self.emit(
                    TokenKind::TagComment,
                    start,
                    self.s.len().saturating_sub(start),
                )
            }
            Some(gt) => {
                self.pos = gt + 1;
                self.state = State::Data;
                self.emit(TokenKind::TagComment, start, gt - start)
            }
        }
    }

    /// `<%…%>`.
    fn bogus_comment_percent(&mut self) -> Option<Token> {
        let start = self.pos;
        let mut from = start;
        loop {
            match self.find(from, b'%') {
                Some(pct) if pct + 1 < self.s.len() => {
                    if self.at(pct + 1) != Some(b'>') {
                        from = pct + 1;
                        continue;
                    }
                    self.pos = pct + 2;
                    self.state = State::Data;
                    return self.emit(TokenKind::TagComment, start, pct - start);
                }
                _ => {
                    self.pos = self.s.len();
                    self.state = State::Eof;
                    return self.emit(
                        TokenKind::TagComment,
                        start,
                        self.s.len().saturating_sub(start),
                    );
                }
            }
        }
    }

    /// After `<!`: a doctype, CDATA, a comment, or a bogus comment.
    fn markup_declaration_open(&mut self) -> Option<Token> {
        let rest = self.s.get(self.pos..).unwrap_or(&[]);
        if rest.len() >= 7
            && rest
                .get(..7)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"DOCTYPE"))
        {
            return self.doctype();
        }
        if rest.starts_with(b"[CDATA[") {
            self.pos += 7;
            return self.cdata();
        }
        if rest.starts_with(b"--") {
            self.pos += 2;
            return self.comment();
        }
        self.bogus_comment()
    }

    /// `<!--…`: ends at `-->` or `-!>` (NULs between the dashes are ignored) or the end.
    fn comment(&mut self) -> Option<Token> {
        let start = self.pos;
        let len = self.s.len();
        let mut from = start;
        loop {
            let dash = match self.find(from, b'-') {
                Some(d) if d + 3 <= len => d,
                _ => return self.comment_to_end(start),
            };
            let mut p = dash + 1;
            while self.at(p) == Some(0) {
                p += 1;
            }
            let Some(second) = self.at(p) else {
                return self.comment_to_end(start);
            };
            if second != b'-' && second != b'!' {
                from = dash + 1;
                continue;
            }
            p += 1;
            let Some(third) = self.at(p) else {
                return self.comment_to_end(start);
            };
            if third != b'>' {
                from = dash + 1;
                continue;
            }
            self.pos = p + 1;
            self.state = State::Data;
            return self.emit(TokenKind::TagComment, start, dash - start);
        }
    }

    fn comment_to_end(&mut self, start: usize) -> Option<Token> {
        self.state = State::Eof;
        self.emit(
            TokenKind::TagComment,
            start,
            self.s.len().saturating_sub(start),
        )
    }

    /// `<![CDATA[…]]>`: text.
    fn cdata(&mut self) -> Option<Token> {
        let start = self.pos;
        let len = self.s.len();
        let mut from = start;
        loop {
            match self.find(from, b']') {
                Some(rb) if rb + 3 <= len => {
                    if self.at(rb + 1) == Some(b']') && self.at(rb + 2) == Some(b'>') {
                        self.state = State::Data;
                        self.pos = rb + 3;
                        return self.emit(TokenKind::DataText, start, rb - start);
                    }
                    from = rb + 1;
                }
                _ => {
                    self.state = State::Eof;
                    return self.emit(TokenKind::DataText, start, len.saturating_sub(start));
                }
            }
        }
    }

    /// `<!DOCTYPE …>`.
    fn doctype(&mut self) -> Option<Token> {
        let start = self.pos;
        match self.find(start, b'>') {
            None => {
                self.state = State::Eof;
                self.emit(TokenKind::Doctype, start, self.s.len() - start)
            }
            Some(gt) => {
                self.state = State::Data;
                self.pos = gt + 1;
                self.emit(TokenKind::Doctype, start, gt - start)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &str, start: Start) -> Vec<(TokenKind, String)> {
        let mut h = Html5::new(input.as_bytes(), start);
        let mut out = Vec::new();
        while let Some(t) = h.next_token() {
            let text = &input.as_bytes()[t.start..t.start + t.len];
            out.push((t.kind, String::from_utf8_lossy(text).into_owned()));
        }
        out
    }

    #[test]
    fn tag_with_attributes() {
        use TokenKind::*;
        let got = tokens("a<b x=1 y='2'>c</b>", Start::Data);
        let want = [
            (DataText, "a"),
            (TagNameOpen, "b"),
            (AttrName, "x"),
            (AttrValue, "1"),
            (AttrName, "y"),
            (AttrValue, "2"),
            (TagNameClose, ">"),
            (DataText, "c"),
            (TagClose, "b"),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0, g.1.as_str()), w);
        }
    }

    #[test]
    fn attribute_name_ends_at_tab() {
        let got = tokens("<x onerror\t=alert(1)>", Start::Data);
        assert!(
            got.contains(&(TokenKind::AttrName, "onerror".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&(TokenKind::AttrValue, "alert(1)".into())),
            "{got:?}"
        );
    }

    #[test]
    fn comments_and_doctype() {
        let got = tokens("<!-- hi --><!DOCTYPE html><?xml x?>", Start::Data);
        assert_eq!(got[0], (TokenKind::TagComment, " hi ".into()));
        assert_eq!(got[1], (TokenKind::Doctype, "DOCTYPE html".into()));
        assert_eq!(got[2], (TokenKind::TagComment, "xml x?".into()));
    }

    #[test]
    fn value_start_contexts() {
        let got = tokens("x\" onload=y", Start::ValueDoubleQuote);
        assert_eq!(got[0], (TokenKind::AttrValue, "x".into()));
        assert_eq!(got[1], (TokenKind::AttrName, "onload".into()));
    }
}
