use super::*;
use crate::operators::test_env;
use std::path::Path;

fn rx(p: &str) -> Box<dyn Operator> {
    build(p, &test_env()).unwrap()
}

fn m(p: &str, input: &[u8]) -> bool {
    rx(p).matches(input, &mut MatchOutput::default())
}

#[test]
fn byte_semantics() {
    // `.` is one byte, and spans newlines (DOTALL).
    assert!(m("^a.b$", b"a\xffb"));
    assert!(m("^a.b$", b"a\nb"));
    assert!(!m("^a.b$", "aéb".as_bytes()));
    assert!(m("^a..b$", "aéb".as_bytes()));
    // `\xNN` is a raw byte, even above 0x7F.
    assert!(m(r"\xbc", b"\xbc"));
    assert!(m(r"[\x80-\xff]", b"x\xc3"));
    assert!(m(r"[^a]", b"\xff"));
    // Classes and case folding are ASCII.
    assert!(!m(r"\w", "é".as_bytes()));
    assert!(!m(r"(?i)é", "É".as_bytes()));
    assert!(m(r"(?i)SELECT", b"select"));
    // A literal non-ASCII character is its UTF-8 bytes; a quantifier takes the last byte.
    assert!(m("é", "café".as_bytes()));
    assert!(m("^é+$", b"\xc3\xa9\xa9"));
    assert!(m("[é]", b"\xa9"));
}

#[test]
fn pcre_dollar_and_classes() {
    // PCRE's `$` matches before a final newline.
    assert!(m(r"^\d+$", b"123\n"));
    assert!(!m(r"^\d+$", b"123\n4"));
    assert!(m(r"[$]", b"$"));
    assert!(m(r"\$", b"$"));
    // Literal `[`, `&`, `~` and `--` inside classes.
    assert!(m(r"[[]", b"["));
    assert!(m(r"[a&&b]", b"&"));
    assert!(m(r"[~]", b"~"));
    assert!(m(r"[]a]", b"]"));
    assert!(m(r"[^]a]", b"b"));
    assert!(m(r"[[:alpha:]]", b"q"));
    assert!(m(r"[+--]", b","));
    assert!(m(r"\101", b"A"));
    assert!(m(r"[\x7f-\x{ff}]", b"\xfe"));
    assert!(m(r"\x{41}\x{0042}", b"AB"));
    // PCRE-only escapes.
    assert!(m(r"^a\Z", b"a\n") && !m(r"^a\Z", b"a\nb"));
    assert!(m(r"a\hb", b"a\tb") && m(r"a\hb", b"a\xa0b") && !m(r"a\Hb", b"a b"));
    assert!(m(r"a\vb", b"a\rb") && !m(r"a\vb", b"a b") && m(r"[\v]", b"\n"));
    assert!(m(r"\e", b"\x1b"));
    // A `{` that is no quantifier is literal, as in PCRE.
    assert!(m(r"a{", b"a{") && m(r"{foo}", b"{foo}") && m(r"x{,2}", b"x{,2}"));
    assert!(m(r"^a{2}$", b"aa") && m(r"^a{1,}$", b"aaa") && !m(r"^a{2,3}$", b"a"));
}

#[test]
fn captures() {
    let op = rx(r"(a)(x)?(c)");
    let mut out = MatchOutput {
        want_captures: true,
        ..MatchOutput::default()
    };
    assert!(op.matches(b"zac", &mut out));
    assert_eq!(
        out.captures,
        vec![b"ac".to_vec(), b"a".to_vec(), b"".to_vec(), b"c".to_vec()]
    );
    let mut out = MatchOutput {
        want_captures: true,
        ..MatchOutput::default()
    };
    assert!(!op.matches(b"zzz", &mut out));
    assert!(out.captures.is_empty());
    // At most groups 0..=9.
    let op = rx(r"(1)(2)(3)(4)(5)(6)(7)(8)(9)(10)(11)");
    let mut out = MatchOutput {
        want_captures: true,
        ..MatchOutput::default()
    };
    assert!(op.matches(b"1234567891011", &mut out));
    assert_eq!(out.captures.len(), 10);
    assert_eq!(out.captures[9], b"9");
}

#[test]
fn crs_byte_patterns() {
    // 941310 (US-ASCII malformed encoding XSS): bytes 0xBC/0xBE stand for `<`/`>`.
    assert!(m(
        r"\x{bc}[^>\x{be}]*[>\x{be}]|<[^\x{be}]*\x{be}",
        b"\xbcscript\xbealert(1)"
    ));
    assert!(!m(
        r"\x{bc}[^>\x{be}]*[>\x{be}]|<[^\x{be}]*\x{be}",
        "¼ ½".as_bytes()
    ));
}

#[test]
fn invalid_pattern_is_an_error() {
    let err = build("(unclosed", &test_env()).unwrap_err();
    assert!(err.contains("`(unclosed`"), "{err}");
}

/// Every `@rx` argument in the CRS rule files, with `file:line`.
pub(crate) fn crs_rx_patterns() -> Vec<(String, String)> {
    let dir = Path::new(crate::operators::tests::CRS_RULES);
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("CRS rules missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("conf"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            for start in line.match_indices("@rx ").map(|(i, _)| i + 4) {
                // The argument runs to the next unescaped `"`; `\"` stands for `"`.
                let mut arg = String::new();
                let mut chars = line[start..].chars();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('"') => arg.push('"'),
                            Some(o) => {
                                arg.push('\\');
                                arg.push(o);
                            }
                            None => arg.push('\\'),
                        },
                        '"' => break,
                        _ => arg.push(c),
                    }
                }
                found.push((format!("{}:{}", path.display(), n + 1), arg));
            }
        }
    }
    found
}

#[test]
fn every_crs_pattern_compiles() {
    let patterns = crs_rx_patterns();
    assert!(patterns.len() >= 318, "only {} `@rx` found", patterns.len());
    let failures: Vec<String> = patterns
        .iter()
        .filter_map(|(at, p)| compile(p).err().map(|e| format!("{at}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} patterns fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn crs_patterns_compile_fast() {
    let patterns = crs_rx_patterns();
    let start = std::time::Instant::now();
    let mut slow = Vec::new();
    for (at, p) in &patterns {
        let t = std::time::Instant::now();
        let _ = compile(p);
        slow.push((
            t.elapsed(),
            at.rsplit('/').next().unwrap().to_string(),
            p.len(),
        ));
    }
    let took = start.elapsed();
    slow.sort();
    for s in slow.iter().rev().take(12) {
        eprintln!("{s:?}");
    }
    eprintln!("compiled {} CRS patterns in {took:?}", patterns.len());
}

/// `^.*$` answers without the regex: the same as the regex on every kind of value.
#[test]
fn match_all_shortcut_agrees_with_the_regex() {
    let fast = Rx::new("^.*$").unwrap();
    let slow = Rx::new("(?:^.*$)").unwrap();
    assert!(fast.whole && !slow.whole);
    for input in [
        &b""[..],
        b"a",
        b"\n",
        b"a\nb",
        b"a\nb\n",
        b"\xff\x00x",
        b"x-Forwarded-For",
    ] {
        let (mut a, mut b) = (MatchOutput::default(), MatchOutput::default());
        a.want_captures = true;
        b.want_captures = true;
        assert_eq!(fast.matches(input, &mut a), slow.matches(input, &mut b));
        assert_eq!(a.captures, b.captures, "{input:?}");
    }
}
