//! The CRS regression tests of rules 942100 (`@detectSQLi`) and 941100 (`@detectXSS`),
//! run against the detectors alone: each test's request is taken apart into the rule's
//! variables, the rule's transformations are applied, and the verdict must match
//! `expect_ids` / `no_expect_ids`.
//!
//! The request parsing and transformations here are small test-only models of what the
//! engine does (URL-encoded and XML bodies, cookies, `urlDecodeUni`, `htmlEntityDecode`,
//! `jsDecode`, `cssDecode`, `removeNulls`); `utf8toUnicode` is the identity for the ASCII
//! payloads of these tests.

// Test-only helpers live in a cfg(test) module so the workspace's no-panic lints, which
// exempt test code, treat them as tests.
#[cfg(test)]
mod crs {
    use std::path::PathBuf;

    use serde_yaml::Value;

    const CRS_TESTS: &str = "../../../shared/crs/tests/regression/tests";

    /// Variables a rule reads from a request.
    struct Rule {
        id: u64,
        file: &'static str,
        headers: &'static [&'static str],
        detect: fn(&[u8]) -> bool,
        transform: fn(&[u8]) -> Vec<u8>,
    }

    const RULES: &[Rule] = &[
        Rule {
            id: 942100,
            file: "REQUEST-942-APPLICATION-ATTACK-SQLI/942100.yaml",
            headers: &["user-agent", "referer"],
            detect: |v| sekisho_injection::detect_sqli(v).is_some(),
            // t:utf8toUnicode,t:urlDecodeUni,t:removeNulls
            transform: |v| remove_nulls(&url_decode_uni(v)),
        },
        Rule {
            id: 941100,
            file: "REQUEST-941-APPLICATION-ATTACK-XSS/941100.yaml",
            headers: &["user-agent"],
            detect: sekisho_injection::detect_xss,
            // t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls
            transform: |v| {
                remove_nulls(&css_decode(&js_decode(&html_entity_decode(
                    &url_decode_uni(v),
                ))))
            },
        },
    ];

    #[test]
    fn crs_942100_and_941100() {
        let mut failures = Vec::new();
        for rule in RULES {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(CRS_TESTS)
                .join(rule.file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!("missing CRS regression file `{}`: {e}", path.display())
            });
            let doc: Value = serde_yaml::from_str(&text).expect("valid yaml");
            let tests = doc["tests"].as_sequence().expect("a `tests` list");
            let (mut passed, mut total) = (0, 0);
            for test in tests {
                let test_id = test["test_id"].as_u64().unwrap_or(0);
                for stage in test["stages"].as_sequence().expect("stages") {
                    let log = &stage["output"]["log"];
                    let expects = contains_id(&log["expect_ids"], rule.id);
                    let forbids = contains_id(&log["no_expect_ids"], rule.id);
                    if !expects && !forbids {
                        continue;
                    }
                    total += 1;
                    let values = rule_inputs(&stage["input"], rule);
                    let hit = values.iter().find(|v| (rule.detect)(&(rule.transform)(v)));
                    if hit.is_some() == expects {
                        passed += 1;
                    } else {
                        failures.push(format!(
                            "{}-{test_id}: expected {}, values {:?}",
                            rule.id,
                            if expects { "a match" } else { "no match" },
                            values
                                .iter()
                                .map(|v| String::from_utf8_lossy(v).into_owned())
                                .collect::<Vec<_>>()
                        ));
                    }
                }
            }
            println!("{}: {passed} of {total}", rule.id);
            assert!(
                total > 0,
                "no tests found for {} in `{}`",
                rule.id,
                path.display()
            );
        }
        assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    }

    fn contains_id(ids: &Value, id: u64) -> bool {
        ids.as_sequence()
            .is_some_and(|s| s.iter().any(|v| v.as_u64() == Some(id)))
    }

    /// The values of the rule's variables in a test input (names and values of arguments and
    /// cookies, the listed headers, XML text and attributes).
    fn rule_inputs(input: &Value, rule: &Rule) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut content_type = String::new();
        if let Some(headers) = input["headers"].as_mapping() {
            for (name, value) in headers {
                let name = name.as_str().unwrap_or_default().to_ascii_lowercase();
                let value = value.as_str().unwrap_or_default();
                if rule.headers.contains(&name.as_str()) {
                    out.push(value.as_bytes().to_vec());
                }
                if name == "content-type" {
                    content_type = value.to_ascii_lowercase();
                }
                if name == "cookie" {
                    for pair in value.split(';') {
                        let (k, v) = pair.trim().split_once('=').unwrap_or((pair.trim(), ""));
                        out.push(k.as_bytes().to_vec());
                        out.push(v.as_bytes().to_vec());
                    }
                }
            }
        }
        let uri = input["uri"].as_str().unwrap_or_default();
        if let Some((_, query)) = uri.split_once('?') {
            push_form(&mut out, query.as_bytes());
        }
        let data = input["data"].as_str().unwrap_or_default();
        if content_type.contains("xml") {
            push_xml(&mut out, data);
        } else if !data.is_empty() {
            // go-ftw sends bodies as application/x-www-form-urlencoded unless told otherwise.
            push_form(&mut out, data.as_bytes());
        }
        out
    }

    /// `a=1&b=2` → names and values, form-decoded.
    fn push_form(out: &mut Vec<Vec<u8>>, body: &[u8]) {
        for pair in body.split(|&c| c == b'&').filter(|p| !p.is_empty()) {
            let mut kv = pair.splitn(2, |&c| c == b'=');
            out.push(url_decode_uni(kv.next().unwrap_or_default()));
            out.push(url_decode_uni(kv.next().unwrap_or_default()));
        }
    }

    /// Attribute values and text of an XML document, entity-decoded (`XML://@*`, `XML:/*`).
    fn push_xml(out: &mut Vec<Vec<u8>>, doc: &str) {
        let mut rest = doc;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            if !text.trim().is_empty() {
                out.push(xml_unescape(text));
            }
            let Some(close) = rest[open..].find('>') else {
                break;
            };
            let tag = &rest[open + 1..open + close];
            let mut attrs = tag;
            while let Some(eq) = attrs.find("=\"") {
                let after = &attrs[eq + 2..];
                let end = after.find('"').unwrap_or(after.len());
                out.push(xml_unescape(&after[..end]));
                attrs = &after[end.min(after.len())..];
                if let Some(stripped) = attrs.strip_prefix('"') {
                    attrs = stripped;
                }
            }
            rest = &rest[open + close + 1..];
        }
    }

    fn xml_unescape(s: &str) -> Vec<u8> {
        html_entity_decode(s.as_bytes())
    }

    fn hex(c: u8) -> Option<u8> {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }

    /// `urlDecodeUni`: `%XX`, `%uXXXX` (low byte, or the full-width ASCII mapping) and `+`.
    fn url_decode_uni(v: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(v.len());
        let mut i = 0;
        while i < v.len() {
            let c = v[i];
            if c == b'+' {
                out.push(b' ');
                i += 1;
            } else if c == b'%' && matches!(v.get(i + 1), Some(b'u' | b'U')) && i + 5 < v.len() {
                let digits: Option<Vec<u8>> = v[i + 2..i + 6].iter().map(|&d| hex(d)).collect();
                match digits {
                    Some(d) => {
                        let code = (u32::from(d[0]) << 12)
                            | (u32::from(d[1]) << 8)
                            | (u32::from(d[2]) << 4)
                            | u32::from(d[3]);
                        let byte = if (0xff01..=0xff5e).contains(&code) {
                            code - 0xff00 + 0x20
                        } else {
                            code & 0xff
                        };
                        out.push(u8::try_from(byte).unwrap_or(b'?'));
                        i += 6;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            } else if c == b'%' && i + 2 < v.len() {
                match (hex(v[i + 1]), hex(v[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            } else {
                out.push(c);
                i += 1;
            }
        }
        out
    }

    /// `htmlEntityDecode`: `&#NN;`, `&#xHH;`, and `&quot; &amp; &lt; &gt; &nbsp; &apos;`.
    fn html_entity_decode(v: &[u8]) -> Vec<u8> {
        const NAMED: &[(&[u8], u8)] = &[
            (b"quot", b'"'),
            (b"amp", b'&'),
            (b"lt", b'<'),
            (b"gt", b'>'),
            (b"nbsp", 0xa0),
            (b"apos", b'\''),
        ];
        let mut out = Vec::with_capacity(v.len());
        let mut i = 0;
        while i < v.len() {
            if v[i] == b'&' {
                let rest = &v[i + 1..];
                if let Some(num) = rest.strip_prefix(b"#") {
                    let (radix, digits) = match num.first() {
                        Some(b'x' | b'X') => (16, &num[1..]),
                        _ => (10, num),
                    };
                    let n = digits
                        .iter()
                        .take_while(|d| char::from(**d).is_digit(radix))
                        .count();
                    if n > 0 {
                        let text = std::str::from_utf8(&digits[..n]).unwrap_or("0");
                        let code = u32::from_str_radix(text, radix).unwrap_or(0);
                        out.push(u8::try_from(code & 0xff).unwrap_or(b'?'));
                        let used = 1 + usize::from(radix == 16) + n;
                        i += 1 + used + usize::from(digits.get(n) == Some(&b';'));
                        continue;
                    }
                }
                if let Some((name, c)) = NAMED.iter().find(|(name, _)| rest.starts_with(name)) {
                    out.push(*c);
                    i += 1 + name.len() + usize::from(rest.get(name.len()) == Some(&b';'));
                    continue;
                }
            }
            out.push(v[i]);
            i += 1;
        }
        out
    }

    /// `jsDecode`: `\xHH`, `\uHHHH`, the C escapes, and `\c` → `c`.
    fn js_decode(v: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(v.len());
        let mut i = 0;
        while i < v.len() {
            if v[i] != b'\\' || i + 1 >= v.len() {
                out.push(v[i]);
                i += 1;
                continue;
            }
            let next = v[i + 1];
            match next {
                b'x' if i + 3 < v.len() && hex(v[i + 2]).is_some() && hex(v[i + 3]).is_some() => {
                    out.push(hex(v[i + 2]).unwrap_or(0) << 4 | hex(v[i + 3]).unwrap_or(0));
                    i += 4;
                }
                b'u' if i + 5 < v.len() && v[i + 2..i + 6].iter().all(|&d| hex(d).is_some()) => {
                    out.push(hex(v[i + 4]).unwrap_or(0) << 4 | hex(v[i + 5]).unwrap_or(0));
                    i += 6;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                }
                b't' => {
                    out.push(b'\t');
                    i += 2;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 2;
                }
                _ => {
                    out.push(next);
                    i += 2;
                }
            }
        }
        out
    }

    /// `cssDecode`: `\` + up to 6 hex digits (low byte kept), or `\c` → `c`.
    fn css_decode(v: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(v.len());
        let mut i = 0;
        while i < v.len() {
            if v[i] != b'\\' || i + 1 >= v.len() {
                out.push(v[i]);
                i += 1;
                continue;
            }
            let n = v[i + 1..]
                .iter()
                .take(6)
                .take_while(|&&d| hex(d).is_some())
                .count();
            if n > 0 {
                let last = &v[i + 1 + n.saturating_sub(2)..i + 1 + n];
                let byte = last
                    .iter()
                    .fold(0u8, |acc, &d| acc << 4 | hex(d).unwrap_or(0));
                out.push(byte);
                i += 1 + n;
                if v.get(i) == Some(&b' ') {
                    i += 1;
                }
            } else if v[i + 1] == b'\n' {
                i += 2;
            } else {
                out.push(v[i + 1]);
                i += 2;
            }
        }
        out
    }

    fn remove_nulls(v: &[u8]) -> Vec<u8> {
        v.iter().copied().filter(|&c| c != 0).collect()
    }

    #[test]
    fn transformation_models() {
        assert_eq!(url_decode_uni(b"a%20b+c%u0041%zz"), b"a b cA%zz");
        assert_eq!(html_entity_decode(b"&lt;a&#x7B;&#65;&quot;"), b"<a{A\"");
        assert_eq!(js_decode(b"\\x41\\u0042\\\"c"), b"AB\"c");
        assert_eq!(css_decode(b"\\41 b\\\"c"), b"Ab\"c");
    }
}
