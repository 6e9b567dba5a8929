//! XSS detection: tokenize the input as HTML from several starting contexts and flag
//! dangerous tags, attributes, URLs and comments, as libinjection does.

mod blacklist;
mod html5;

use blacklist::{Attr, ATTRS, EVENTS, TAGS};
use html5::{Html5, Start, TokenKind};

/// Every finding needs a `<` (a tag, comment or doctype) or an `=` (a value given to a
/// dangerous attribute: the tokenizer enters a value after a name only through `=`).
pub(crate) const NEEDED: &[u8] = b"<=";

/// True when `input` is XSS in any of the contexts it might be inserted into: HTML text,
/// or an attribute value unquoted or in single, double or back quotes.
pub(crate) fn detect(input: &[u8]) -> bool {
    // Most values hold neither byte, and one scan answers them without five tokenizer runs.
    if !input.iter().any(|c| NEEDED.contains(c)) {
        return false;
    }
    in_any_context(input)
}

/// [`detect`] without its shortcut: the five tokenizer runs.
fn in_any_context(input: &[u8]) -> bool {
    [
        Start::Data,
        Start::ValueNoQuote,
        Start::ValueSingleQuote,
        Start::ValueDoubleQuote,
        Start::ValueBackQuote,
    ]
    .into_iter()
    .any(|start| is_xss(input, start))
}

fn is_xss(s: &[u8], start: Start) -> bool {
    let mut html = Html5::new(s, start);
    let mut attr = Attr::None;
    while let Some(tok) = html.next_token() {
        let text = s.get(tok.start..tok.start + tok.len).unwrap_or(&[]);
        if tok.kind != TokenKind::AttrValue {
            attr = Attr::None;
        }
        match tok.kind {
            TokenKind::Doctype => return true,
            TokenKind::TagNameOpen if is_black_tag(text) => return true,
            TokenKind::AttrName => attr = black_attr(s, tok.start, text),
            TokenKind::AttrValue => {
                let bad = match attr {
                    Attr::None => false,
                    Attr::Black | Attr::Style => true,
                    Attr::Url => is_black_url(s, tok.start, tok.len),
                    // The value names another attribute (SVG `attributeName`).
                    Attr::Indirect => black_attr(s, tok.start, text) != Attr::None,
                };
                if bad {
                    return true;
                }
                attr = Attr::None;
            }
            TokenKind::TagComment if is_black_comment(text) => return true,
            _ => {}
        }
    }
    false
}

/// Compares `text` with an upper-case `word`, ignoring ASCII case and NUL bytes in
/// `text` (old browsers drop NULs).
fn eq_skip_nul(text: &[u8], word: &[u8]) -> bool {
    if !text.contains(&0) {
        return text.eq_ignore_ascii_case(word);
    }
    eq_skip_nul_slow(text, word)
}

/// [`eq_skip_nul`] for a `text` known to hold NUL bytes.
fn eq_skip_nul_slow(text: &[u8], word: &[u8]) -> bool {
    let mut letters = text.iter().filter(|&&c| c != 0);
    let mut word = word.iter();
    loop {
        match (letters.next(), word.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.to_ascii_uppercase() == *b => {}
            _ => return false,
        }
    }
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `<script>`, `<iframe>`, …, and anything `svg*` or `xsl*`.
fn is_black_tag(name: &[u8]) -> bool {
    if name.len() < 3 {
        return false;
    }
    let has_nul = name.contains(&0);
    TAGS.iter().any(|tag| {
        if has_nul {
            eq_skip_nul_slow(name, tag)
        } else {
            name.eq_ignore_ascii_case(tag)
        }
    }) || starts_with_ignore_case(name, b"SVG")
        || starts_with_ignore_case(name, b"XSL")
}

/// Classifies the attribute named `name`, which starts at `start` in `s`.
///
/// Event names are matched as prefixes of what follows `on`, reading on in the input
/// past the end of the name as libinjection does (`onerrorx` is an event handler).
fn black_attr(s: &[u8], start: usize, name: &[u8]) -> Attr {
    if name.len() < 2 {
        return Attr::None;
    }
    if name.len() >= 5 {
        if starts_with_ignore_case(name, b"ON") {
            let after_on = s.get(start + 2..).unwrap_or(&[]);
            // A window of an event's length matches only without NULs (a NUL would leave
            // too few letters), so a plain comparison is exact.
            if EVENTS.iter().any(|event| {
                after_on
                    .get(..event.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(event))
            }) {
                return Attr::Black;
            }
        }
        // xmlns can declare arbitrary tags; xlink refers to scripts.
        let head = name.get(..5).unwrap_or(&[]);
        if eq_skip_nul(head, b"XMLNS") || eq_skip_nul(head, b"XLINK") {
            return Attr::Black;
        }
    }
    let has_nul = name.contains(&0);
    ATTRS
        .iter()
        .find(|(word, _)| {
            if has_nul {
                eq_skip_nul_slow(name, word)
            } else {
                name.eq_ignore_ascii_case(word)
            }
        })
        .map_or(Attr::None, |(_, attr)| *attr)
}

/// True for `javascript:`/`java…`, `vbscript`, `data` and `view-source` URLs, allowing
/// leading whitespace and control bytes and HTML character references.
fn is_black_url(s: &[u8], start: usize, len: usize) -> bool {
    // Skip ASCII whitespace, controls and any non-ASCII byte (Opera's UTF-8 spaces).
    let skip = s.get(start..start + len).map_or(0, |v| {
        v.iter().take_while(|&&c| c <= 32 || c >= 127).count()
    });
    let (start, len) = (start + skip, len - skip);
    [&b"DATA"[..], b"VIEW-SOURCE", b"JAVA", b"VBSCRIPT"]
        .iter()
        .any(|scheme| html_decoded_starts_with(s, start, len, scheme))
}

/// Does the HTML-encoded `s[start..start + len]` start with the upper-case `prefix`?
/// Leading whitespace and controls, and any NUL or newline, are ignored.
fn html_decoded_starts_with(s: &[u8], start: usize, len: usize, prefix: &[u8]) -> bool {
    let mut want = prefix.iter();
    let mut pos = start;
    let mut left = len;
    let mut leading = true;
    let mut next_want = want.next();
    while left > 0 {
        let Some(&expected) = next_want else {
            return true;
        };
        let (decoded, consumed) = decode_char_at(s, pos, left);
        pos += consumed;
        left = left.saturating_sub(consumed);
        if leading && decoded <= 32 {
            continue;
        }
        leading = false;
        if decoded == 0 || decoded == 10 {
            continue;
        }
        // Upper-case ASCII letters, then compare the low byte as libinjection does.
        let upper = if (u32::from(b'a')..=u32::from(b'z')).contains(&decoded) {
            decoded - 0x20
        } else {
            decoded
        };
        let byte = u8::try_from(upper & 0xff).unwrap_or(0);
        if byte != expected {
            return false;
        }
        next_want = want.next();
    }
    next_want.is_none()
}

/// Decodes one character at `s[pos]` (a byte, or a `&#…;` / `&#x…;` reference) within
/// `len` bytes; returns the code point and the bytes consumed (≥ 1).
///
/// Like libinjection it may peek at the two bytes after a reference's `&#` even past
/// `len` (0 past the input), and gives up on values above 0x1000FF.
fn decode_char_at(s: &[u8], pos: usize, len: usize) -> (u32, usize) {
    let at = |i: usize| s.get(pos + i).copied().unwrap_or(0);
    let first = at(0);
    if first != b'&' || len < 2 {
        return (u32::from(first), 1);
    }
    if at(1) != b'#' {
        // Named references do not matter here.
        return (u32::from(b'&'), 1);
    }
    let (radix, mut i) = if matches!(at(2), b'x' | b'X') {
        (16, 3)
    } else {
        (10, 2)
    };
    let Some(mut value) = char::from(at(i)).to_digit(radix) else {
        return (u32::from(b'&'), 1);
    };
    i += 1;
    while i < len {
        let c = at(i);
        if c == b';' {
            return (value, i + 1);
        }
        let Some(digit) = char::from(c).to_digit(radix) else {
            return (value, i);
        };
        value = value * radix + digit;
        if value > 0x0010_00ff {
            return (u32::from(b'&'), 1);
        }
        i += 1;
    }
    (value, i)
}

/// IE conditional comments, back-quotes (an IE tag end), `<?import`, XML entities.
fn is_black_comment(text: &[u8]) -> bool {
    if text.contains(&b'`') {
        return true;
    }
    if text.len() > 3
        && (starts_with_ignore_case(text, b"[IF") || starts_with_ignore_case(text, b"XML"))
    {
        return true;
    }
    if text.len() > 5 {
        let head = text.get(..6).unwrap_or(&[]);
        if eq_skip_nul(head, b"IMPORT") || eq_skip_nul(head, b"ENTITY") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xss(s: &str) -> bool {
        detect(s.as_bytes())
    }

    /// The `<`/`=` shortcut changes no verdict: every string over an alphabet of the bytes
    /// the tokenizer treats specially, tried with the five contexts directly.
    #[test]
    fn shortcut_changes_no_verdict() {
        crate::each_string(b"<>=/ '\"`!-?ox\0", 4, |input| {
            for word in [&b""[..], b"onerror", b"style", b"href", b"script"] {
                let s = [input, word, input].concat();
                assert_eq!(
                    detect(&s),
                    in_any_context(&s),
                    "{:?}",
                    String::from_utf8_lossy(&s)
                );
            }
        });
        for benign in [
            "onerror alert(1)",
            "javascript:alert(1)",
            "style x",
            "script",
        ] {
            assert!(!detect(benign.as_bytes()), "{benign}");
        }
    }

    #[test]
    fn classic_vectors() {
        assert!(xss("<script>alert(1)</script>"));
        assert!(xss("<img src=x onerror=alert(1)>"));
        assert!(xss("<img src=x onerror\t=alert(1)>"));
        assert!(xss("<a href=\"javascript:alert(1)\">x</a>"));
        assert!(xss("<a href=\" &#x6A;avascript:alert(1)\">x</a>"));
        assert!(xss("<svg/onload=alert(1)>"));
        assert!(xss("<div style=\"x:expression(alert(1))\">"));
        assert!(xss("\" onmouseover=\"alert(1)"));
        assert!(xss("' onfocus='alert(1)"));
        assert!(xss("<!DOCTYPE html>"));
        assert!(xss("<!--[if IE]><script>x</script><![endif]-->"));
        assert!(xss(
            "<x:script xmlns:x=\"http://www.w3.org/1999/xhtml\" src=\"data:,alert(1)\" />"
        ));
        assert!(xss("<xss onbeforehellfreezes=alerw(1)>"));
    }

    /// Regressions found by differential fuzzing against another port, settled by
    /// libinjection's C source.
    #[test]
    fn libinjection_quirks() {
        // Event names match as prefixes of what follows `on`.
        assert!(xss("<x onerrorx=1>"));
        assert!(xss("onerror<=>"));
        // NUL is whitespace in attribute names: `styl\0e` is two attributes.
        assert!(!xss("<p styl\0e=\"background:url(x)\">"));
        assert!(xss("<p style=\"background:url(x)\">"));
        // ...but ignored inside tag names.
        assert!(xss("<scr\0ipt>"));
    }

    #[test]
    fn benign_text() {
        for benign in [
            "hello world",
            "a < b and c > d",
            "<b>bold</b> and <i>italic</i>",
            "<a href=\"https://example.com/\">link</a>",
            "OWASP CRS test agent",
            "http://www.coreruleset.org",
            "online",
            "x=1&y=2",
            "",
        ] {
            assert!(!xss(benign), "{benign}");
        }
    }

    #[test]
    fn character_references_decode() {
        assert_eq!(decode_char_at(b"&#106;", 0, 6), (106, 6));
        assert_eq!(decode_char_at(b"&#x6a;", 0, 6), (0x6a, 6));
        assert_eq!(decode_char_at(b"&#x6ax", 0, 6), (0x6a, 5));
        assert_eq!(decode_char_at(b"&amp;", 0, 5), (u32::from(b'&'), 1));
        assert_eq!(decode_char_at(b"&#", 0, 2), (u32::from(b'&'), 1));
    }

    #[test]
    fn tag_names_ignore_nul() {
        assert!(is_black_tag(b"scr\0ipt"));
        assert!(!is_black_tag(b"b"));
        assert!(is_black_tag(b"svgfoo"));
    }
}
