//! `@rx PATTERN`: regular expression match, the way ModSecurity runs PCRE.
//!
//! ModSecurity compiles with `PCRE_DOTALL` and without `PCRE_UTF8`, so the pattern works on
//! bytes: `.` and `[^…]` match any one byte, `\xNN` a raw byte, `\w \d \s \b` and `(?i)` are
//! ASCII-only, and a non-ASCII character written in the pattern stands for its UTF-8 bytes
//! one by one (a quantifier after it applies to its last byte, as in PCRE). `$` also matches
//! before a final newline. The `regex` crate runs it in linear time. Group 0 (the match) and
//! groups 1–9 are captured when the rule has `capture`.
//!
//! ```text
//! SecRule ARGS "@rx (?i)union\s+select" "id:1,phase:2,capture,deny,logdata:'%{TX.0}'"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::meta;
use regex_syntax::hir::Hir;
use std::fmt::Write as _;

/// Compiled program size allowed per pattern; the largest CRS patterns need a few MB.
const SIZE_LIMIT: usize = 256 << 20;
/// Lazy DFA cache per pattern (and thread); bounds memory, not correctness.
const DFA_SIZE_LIMIT: usize = 8 << 20;

/// Rewrites the PCRE constructs whose meaning differs in the `regex` crate.
///
/// - `$` outside a class → `(?:\n?\z)` (PCRE's default `$` also matches before a final `\n`),
///   unless the pattern turns multi-line mode on;
/// - inside a class, `[` (not a POSIX class), `&`, `~` and a second `-` are literal in PCRE but
///   nested classes and set operators in `regex` → escaped;
/// - `\\Z`, `\\h`, `\\H`, `\\v`, `\\V` and `\\e` → their PCRE meaning;
/// - a `{` that does not start a counted repetition → `\{` (PCRE reads it literally);
/// - non-ASCII characters → their UTF-8 bytes as `\xNN` escapes, and `\x{HH}` → `\xHH`.
pub fn translate(pattern: &str) -> String {
    let multi_line =
        pattern.contains("(?m") || pattern.contains("(?sm") || pattern.contains("(?im");
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // `Some(n)` inside a class, `n` = class members written so far.
    let mut class: Option<usize> = None;
    let mut prev_dash = false;
    while let Some(c) = chars.next() {
        if !c.is_ascii() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02X}");
            }
            class = class.map(|n| n + 1);
            prev_dash = false;
            continue;
        }
        match (c, class) {
            ('\\', _) => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    if n == 'x' && chars.peek() == Some(&'{') {
                        // `\x{HH}`: in byte mode `regex` takes only the `\xHH` form above 0x7F.
                        let mut lookahead = chars.clone();
                        lookahead.next();
                        let digits: String = lookahead.by_ref().take_while(|&c| c != '}').collect();
                        match u8::from_str_radix(&digits, 16) {
                            Ok(v) => {
                                let _ = write!(out, "x{v:02X}");
                                chars = lookahead;
                            }
                            _ => out.push('x'),
                        }
                    } else if let Some(rewrite) = pcre_escape(n, class.is_some()) {
                        out.pop();
                        out.push_str(rewrite);
                    } else if n.is_ascii() {
                        out.push(n);
                    } else {
                        // An escaped non-ASCII character is that character.
                        let mut buf = [0u8; 4];
                        out.pop();
                        for b in n.encode_utf8(&mut buf).bytes() {
                            let _ = write!(out, "\\x{b:02X}");
                        }
                    }
                }
                class = class.map(|n| n + 1);
                prev_dash = false;
            }
            ('[', None) => {
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                // A `]` right after `[` or `[^` is a literal member.
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
                class = Some(1);
                prev_dash = false;
            }
            ('[', Some(n)) => {
                if chars.peek() == Some(&':') {
                    // A POSIX class `[:name:]`: copy it whole.
                    out.push('[');
                    for p in chars.by_ref() {
                        out.push(p);
                        if p == ']' {
                            break;
                        }
                    }
                } else {
                    out.push_str("\\[");
                }
                class = Some(n + 1);
                prev_dash = false;
            }
            (']', Some(_)) => {
                out.push(']');
                class = None;
            }
            ('&' | '~', Some(n)) => {
                out.push('\\');
                out.push(c);
                class = Some(n + 1);
                prev_dash = false;
            }
            ('-', Some(n)) => {
                if prev_dash {
                    out.push_str("\\-");
                    prev_dash = false;
                } else {
                    out.push('-');
                    prev_dash = true;
                }
                class = Some(n + 1);
            }
            ('$', None) if !multi_line => out.push_str("(?:\\n?\\z)"),
            ('{', None) if !starts_quantifier(chars.clone()) => out.push_str("\\{"),
            (_, Some(n)) => {
                out.push(c);
                class = Some(n + 1);
                prev_dash = false;
            }
            (_, None) => out.push(c),
        }
    }
    out
}

/// PCRE escapes that `regex` lacks or reads differently (`\\v` is vertical space in PCRE, one
/// byte in `regex`), as `regex` syntax, in or outside a class.
fn pcre_escape(c: char, in_class: bool) -> Option<&'static str> {
    match (c, in_class) {
        ('Z', false) => Some("(?:\\n?\\z)"),
        ('h', false) => Some("[\\t \\xA0]"),
        ('H', false) => Some("[^\\t \\xA0]"),
        ('v', false) => Some("[\\n\\x0B\\f\\r\\x85]"),
        ('V', false) => Some("[^\\n\\x0B\\f\\r\\x85]"),
        ('h', true) => Some("\\t \\xA0"),
        ('v', true) => Some("\\n\\x0B\\f\\r\\x85"),
        ('e', _) => Some("\\x1B"),
        _ => None,
    }
}

/// Whether the text after a `{` makes it a counted repetition (`{n}`, `{n,}`, `{n,m}`); PCRE
/// reads any other `{` as a literal, where `regex` would refuse the pattern.
fn starts_quantifier(mut rest: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    let mut comma = false;
    for c in rest.by_ref() {
        match c {
            '0'..='9' => digits += 1,
            ',' if !comma && digits > 0 => comma = true,
            '}' => return digits > 0,
            _ => return false,
        }
    }
    false
}

/// Compiles a SecLang regex with ModSecurity's semantics (see the module doc).
pub fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(&translate(pattern))
        .unicode(false)
        .dot_matches_new_line(true)
        .octal(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid `@rx` pattern `{pattern}`: {e}"))
}

/// Parses a translated pattern (see [`translate`]) the way [`compile`] reads it.
pub(crate) fn parse(translated: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true)
        .octal(true)
        .build()
        .parse(translated)
        .map_err(|e| e.to_string())
}

#[derive(Debug)]
pub(crate) struct Rx {
    /// Built from the parsed pattern (the same settings as [`compile`]), so that the pattern
    /// is parsed once for the matcher and for its literals.
    re: meta::Regex,
    literals: Option<Vec<Vec<u8>>>,
    /// The pattern is `^.*$`, which (dot matching newlines) matches every value whole: CRS
    /// 920450 captures each header name so, and a capture search per header cost more than
    /// the rest of the rule.
    whole: bool,
}

impl Rx {
    fn new(pattern: &str) -> Result<Rx, String> {
        let invalid = |e: String| format!("invalid `@rx` pattern `{pattern}`: {e}");
        let hir = parse(&translate(pattern)).map_err(invalid)?;
        let config = meta::Config::new()
            .match_kind(regex_automata::MatchKind::LeftmostFirst)
            .utf8_empty(false)
            .nfa_size_limit(Some(SIZE_LIMIT))
            .hybrid_cache_capacity(DFA_SIZE_LIMIT);
        let re = meta::Builder::new()
            .configure(config)
            .build_from_hir(&hir)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Rx {
            re,
            literals: literals::required(&hir),
            whole: pattern == "^.*$",
        })
    }

    /// Fills `out.captures` with groups 0..=9 of the first match; returns whether it matched.
    fn captures(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        // One pattern: group `g`'s positions are slots `2g` and `2g + 1`.
        let groups = self
            .re
            .group_info()
            .group_len(regex_automata::PatternID::ZERO)
            .min(10);
        out.slots.clear();
        out.slots.resize(groups * 2, None);
        let search = regex_automata::Input::new(input);
        if self.re.search_slots(&search, &mut out.slots).is_none() {
            return false;
        }
        let slots = &out.slots;
        let text = |g: usize| match (slots.get(2 * g), slots.get(2 * g + 1)) {
            (Some(Some(from)), Some(Some(to))) => input.get(from.get()..to.get()),
            _ => None,
        };
        let last = (0..groups).rev().find(|&g| text(g).is_some()).unwrap_or(0);
        out.captures.clear();
        for g in 0..=last {
            out.captures.push(text(g).unwrap_or_default().to_vec());
        }
        true
    }
}

impl Operator for Rx {
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        self.literals.clone()
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        if self.whole {
            if out.want_captures {
                out.captures.clear();
                out.captures.push(input.to_vec());
            }
            return true;
        }
        // Most values do not match: the capture-free search (lazy DFA) decides that much
        // faster than a search for capture positions, which runs only on a match.
        if !self.re.is_match(input) {
            return false;
        }
        !out.want_captures || self.captures(input, out)
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Rx::new(arg)?))
}

mod literals;

#[cfg(test)]
mod tests;
