//! `t:htmlEntityDecode`: decodes HTML entities, with or without the final `;`.
//!
//! `&#DDD;` and `&#xHH;` give the low byte of their value; `&quot; &amp; &lt; &gt; &nbsp;`
//! (any case) give `" & < > 0xA0`. Other named entities, and `&`/`&#`/`&#x` without digits,
//! stay as they are.
//!
//! ```text
//! SecRule ARGS "@rx <script" "id:1,phase:2,t:none,t:htmlEntityDecode,deny"
//! ```

use super::util::{changed, hex_val};

/// Low byte of the number, as C's `strtol` cast to `unsigned char` (overflow saturates).
fn number_low_byte(digits: &[u8], radix: u64) -> u8 {
    let mut value: u64 = 0;
    for &d in digits {
        let v = u64::from(hex_val(d).unwrap_or(0));
        match value.checked_mul(radix).and_then(|x| x.checked_add(v)) {
            Some(x) if x <= i64::MAX as u64 => value = x,
            _ => return 0xff,
        }
    }
    (value & 0xff) as u8
}

fn named(name: &[u8]) -> Option<u8> {
    const NAMES: [(&[u8], u8); 5] = [
        (b"quot", b'"'),
        (b"amp", b'&'),
        (b"lt", b'<'),
        (b"gt", b'>'),
        (b"nbsp", 0xa0),
    ];
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, c)| c)
}

/// Length of the run at the start of `s` whose bytes satisfy `f`.
fn run(s: &[u8], f: impl Fn(&u8) -> bool) -> usize {
    s.iter().take_while(|b| f(b)).count()
}

pub(crate) fn html_entity_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'&') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let rest = input.get(i + 1..).unwrap_or_default();
        if b != b'&' || rest.is_empty() {
            out.push(b);
            i += 1;
            continue;
        }
        // (decoded byte, bytes consumed after `&` before the optional `;`) or bytes to copy.
        let decoded: Result<(u8, usize), usize> = if rest.first() == Some(&b'#') {
            let num = rest.get(1..).unwrap_or_default();
            if matches!(num.first(), Some(b'x' | b'X')) {
                let digits = num.get(1..).unwrap_or_default();
                let n = run(digits, u8::is_ascii_hexdigit);
                match digits.get(..n) {
                    Some(d) if n > 0 => Ok((number_low_byte(d, 16), 2 + n)),
                    _ => Err(3),
                }
            } else {
                let n = run(num, u8::is_ascii_digit);
                match num.get(..n) {
                    Some(d) if n > 0 => Ok((number_low_byte(d, 10), 1 + n)),
                    _ => Err(2),
                }
            }
        } else {
            let n = run(rest, u8::is_ascii_alphanumeric);
            match rest.get(..n).and_then(named) {
                Some(c) => Ok((c, n)),
                None => Err(1 + n),
            }
        };
        match decoded {
            Ok((c, used)) => {
                out.push(c);
                i += 1 + used;
                if input.get(i) == Some(&b';') {
                    i += 1;
                }
            }
            Err(copy) => {
                let end = (i + copy).min(input.len());
                out.extend_from_slice(input.get(i..end).unwrap_or_default());
                i = end;
            }
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::html_entity_decode as t;

    /// ModSecurity's own test vectors (secrules-language-tests).
    #[test]
    fn reference_vectors() {
        for input in [
            &b"&#x0;&#X0;&#x20;&#X20;&#0;&#32;\x00&#100;&quot;&amp;&lt;&gt;&nbsp;"[..],
            b"&#x0&#X0&#x20&#X20&#0&#32\x00&#100&quot&amp&lt&gt&nbsp",
        ] {
            assert_eq!(t(input).unwrap(), b"\x00\x00  \x00 \x00d\"&<>\xa0");
        }
        let input = b"&#xg;&#Xg;&#xg0;&#X2g;&#a;\x00&#a2;&#3a&#a00;&#1a0;&#10a;&foo;";
        let want = b"&#xg;&#Xg;&#xg0;\x02g;&#a;\x00&#a2;\x03a&#a00;\x01a0;\na;&foo;";
        assert_eq!(t(input).unwrap(), want);
        let input = b"&#xg&#Xg&#xg0&#X2g&#a\x00&#a2&#3a&#a00&#1a0&#10a&foo";
        let want = b"&#xg&#Xg&#xg0\x02g&#a\x00&#a2\x03a&#a00\x01a0\na&foo";
        assert_eq!(t(input).unwrap(), want);
    }

    #[test]
    fn vectors() {
        assert_eq!(t(b"plain"), None);
        assert_eq!(t(b"&lt;script&GT;").unwrap(), b"<script>");
        assert_eq!(t(b"&quot&amp&nbsp;").unwrap(), b"\"&\xa0");
        assert_eq!(t(b"&#60;&#x3c;&#X3C").unwrap(), b"<<<");
        assert_eq!(t(b"&#0000060x").unwrap(), b"<x");
        // Values above 255 keep their low byte.
        assert_eq!(t(b"&#x13c;").unwrap(), b"\x3c");
        assert_eq!(t(b"&#99999999999999999999999;").unwrap(), b"\xff");
        assert_eq!(t(b"&#x41&#x42;;").unwrap(), b"AB;");
    }

    #[test]
    fn undecodable_entities_stay() {
        assert_eq!(t(b"&"), None);
        assert_eq!(t(b"a&"), None);
        assert_eq!(t(b"&#"), None);
        assert_eq!(t(b"&#;"), None);
        assert_eq!(t(b"&#x"), None);
        assert_eq!(t(b"&#xg"), None);
        assert_eq!(t(b"&foo;&"), None);
        assert_eq!(t(b"& &; &&lt").unwrap(), b"& &; &<");
        assert_eq!(t(b"&#&#60").unwrap(), b"&#<");
    }
}
