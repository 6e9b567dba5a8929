//! `application/json` bodies as ModSecurity v3 names their arguments (`json.a.b`).
//!
//! A small iterative parser (no recursion, so nesting can never overflow the stack) that follows
//! ModSecurity v3's yajl callbacks:
//!
//! | JSON                      | arguments                                          |
//! |---------------------------|----------------------------------------------------|
//! | `{"a":{"b":"x"}}`         | `json.a.b` = `x`                                   |
//! | `{"a":[1,true,null]}`     | `json.a.array_0` = `1`, `…array_1` = `true`, `…array_2` = `` |
//! | `[{"b":1}]`               | `json.array_0.b` = `1`                             |
//! | `"x"` (top-level scalar)  | `json` = `x`                                       |
//! | `{"":1}`                  | `json.empty-key` = `1`                             |
//!
//! Numbers keep their source text (`1.50e3` stays `1.50e3`), strings are unescaped, `null` is
//! the empty string. Like yajl: UTF-8 is validated, comments and trailing data are errors.

use super::Arg;

/// Default nesting limit (`SecRequestBodyJsonDepthLimit`, ModSecurity's default 10000).
pub const DEFAULT_MAX_DEPTH: usize = 10_000;

/// Output budget: names repeat their parents' path, so deep documents with many leaves could
/// otherwise grow quadratically. The arguments' total size may not exceed this many times the
/// body size (plus [`OUTPUT_SLACK`]).
const OUTPUT_FACTOR: usize = 16;
const OUTPUT_SLACK: usize = 64 * 1024;

/// Flattens a JSON document into arguments named the ModSecurity v3 way (see the module doc).
/// A document nested deeper than `max_depth` or malformed is an `Err` with the
/// `REQBODY_ERROR_MSG` text (`JSON parsing error: …`). An empty body gives no arguments and no
/// error, as in ModSecurity.
///
/// Example: `parse(br#"{"a":[1]}"#, 10)` gives `[("json.a.array_0", "1")]`.
pub fn parse(body: &[u8], max_depth: usize) -> Result<Vec<Arg>, String> {
    match parse_partial(body, max_depth) {
        (args, None) => Ok(args),
        (_, Some(err)) => Err(err),
    }
}

/// [`parse`], but keeps the arguments found before an error, as ModSecurity's streaming parser
/// does (they stay in `ARGS` while `REQBODY_ERROR` is set).
pub fn parse_partial(body: &[u8], max_depth: usize) -> (Vec<Arg>, Option<String>) {
    let mut parser = Parser {
        input: body,
        pos: 0,
        containers: Vec::new(),
        current_key: None,
        args: Vec::new(),
        output: 0,
        budget: body
            .len()
            .saturating_mul(OUTPUT_FACTOR)
            .saturating_add(OUTPUT_SLACK),
        max_depth,
    };
    if body.is_empty() {
        return (Vec::new(), None);
    }
    let result = parser.run();
    let error = result.err().map(|e| format!("JSON parsing error: {e}"));
    (parser.args, error)
}

/// One open container (ModSecurity's `JSONContainer`).
struct Container {
    name: Vec<u8>,
    /// `Some(next element index)` for an array, `None` for an object.
    array: Option<usize>,
    /// Whether at least one element/member was read (for `,` handling).
    non_empty: bool,
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    containers: Vec<Container>,
    /// The last object key read and not yet used (yajl's `m_current_key`).
    current_key: Option<Vec<u8>>,
    args: Vec<Arg>,
    output: usize,
    budget: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// ModSecurity's `getCurrentKey`: `json` at the top, `empty-key` for an empty object key,
    /// nothing inside an array; consumes the key.
    fn current_key(&mut self) -> Vec<u8> {
        if self.containers.is_empty() {
            return b"json".to_vec();
        }
        match self.current_key.take().filter(|k| !k.is_empty()) {
            Some(key) => key,
            None if self.in_array() => Vec::new(),
            None => b"empty-key".to_vec(),
        }
    }

    fn in_array(&self) -> bool {
        self.containers.last().is_some_and(|c| c.array.is_some())
    }

    fn add_argument(&mut self, value: Vec<u8>) -> Result<(), String> {
        let mut path = Vec::new();
        for c in &self.containers {
            path.extend_from_slice(&c.name);
            match c.array {
                Some(index) => {
                    path.extend_from_slice(b".array_");
                    path.extend_from_slice(index.to_string().as_bytes());
                }
                None => path.push(b'.'),
            }
        }
        if let Some(Container {
            array: Some(index), ..
        }) = self.containers.last_mut()
        {
            *index += 1;
        } else {
            path.extend_from_slice(&self.current_key());
        }
        self.output = self.output.saturating_add(path.len() + value.len());
        if self.output > self.budget {
            return Err("arguments exceed the size limit".into());
        }
        self.args.push((path, value));
        Ok(())
    }

    fn open(&mut self, array: bool) -> Result<(), String> {
        if self.containers.len() >= self.max_depth {
            return Err(format!(
                "nesting deeper than the limit of {}",
                self.max_depth
            ));
        }
        let name = self.current_key();
        self.containers.push(Container {
            name,
            array: array.then_some(0),
            non_empty: false,
        });
        Ok(())
    }

    fn close(&mut self) {
        self.containers.pop();
        if let Some(Container {
            array: Some(index), ..
        }) = self.containers.last_mut()
        {
            *index += 1;
        }
    }

    fn run(&mut self) -> Result<(), String> {
        self.skip_ws();
        self.value()?;
        loop {
            self.skip_ws();
            let Some(top) = self.containers.last_mut() else {
                break;
            };
            let (is_array, non_empty) = (top.array.is_some(), top.non_empty);
            top.non_empty = true;
            let c = self.peek().ok_or("premature EOF")?;
            let close = if is_array { b']' } else { b'}' };
            if c == close {
                self.pos += 1;
                self.close();
                continue;
            }
            if non_empty {
                if c != b',' {
                    return Err(
                        "after array element or object value, expect `,` or a closing bracket"
                            .into(),
                    );
                }
                self.pos += 1;
                self.skip_ws();
            }
            if !is_array {
                // An object member: key, colon, then the value.
                if self.peek() != Some(b'"') {
                    return Err("object key and value must be separated by a colon or a key is not a string".into());
                }
                let key = self.string()?;
                self.current_key = Some(key);
                self.skip_ws();
                if self.peek() != Some(b':') {
                    return Err("object key and value must be separated by a colon".into());
                }
                self.pos += 1;
                self.skip_ws();
            }
            self.value()?;
        }
        if self.pos < self.input.len() {
            return Err("trailing garbage".into());
        }
        Ok(())
    }

    /// Reads one value; a container is only opened (its members are read by `run`).
    fn value(&mut self) -> Result<(), String> {
        match self.peek().ok_or("premature EOF")? {
            b'{' => {
                self.pos += 1;
                self.open(false)
            }
            b'[' => {
                self.pos += 1;
                self.open(true)
            }
            b'"' => {
                let s = self.string()?;
                self.add_argument(s)
            }
            b't' => self.literal(b"true", b"true"),
            b'f' => self.literal(b"false", b"false"),
            b'n' => self.literal(b"null", b""),
            b'-' | b'0'..=b'9' => {
                let n = self.number()?;
                self.add_argument(n)
            }
            b'/' => Err("probable comment found in input text, comments are not enabled".into()),
            _ => Err("invalid char in json text".into()),
        }
    }

    fn literal(&mut self, word: &[u8], value: &[u8]) -> Result<(), String> {
        if self.input.get(self.pos..self.pos + word.len()) != Some(word) {
            return Err("invalid string in json text".into());
        }
        self.pos += word.len();
        self.add_argument(value.to_vec())
    }

    fn number(&mut self) -> Result<Vec<u8>, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - s
        };
        if digits(self) == 0 {
            return Err("malformed number, a digit is required after the minus sign".into());
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err("malformed number, a digit is required after the decimal point".into());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err("malformed number, a digit is required after the exponent".into());
            }
        }
        Ok(self.input.get(start..self.pos).unwrap_or_default().to_vec())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .input
            .get(self.pos..self.pos + 4)
            .ok_or("premature EOF")?;
        let text = std::str::from_utf8(digits).map_err(|_| "invalid escaped unicode")?;
        let value = u32::from_str_radix(text, 16)
            .map_err(|_| "invalid (non-hex) character occurs after '\\u' inside string")?;
        self.pos += 4;
        Ok(value)
    }

    /// Reads a string at `"`, unescaped; raw bytes must be valid UTF-8 (yajl validates them).
    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut raw_start = self.pos;
        loop {
            let c = self.peek().ok_or("premature EOF")?;
            match c {
                b'"' | b'\\' => {
                    let raw = self.input.get(raw_start..self.pos).unwrap_or_default();
                    if std::str::from_utf8(raw).is_err() {
                        return Err("invalid bytes in UTF8 string".into());
                    }
                    out.extend_from_slice(raw);
                    self.pos += 1;
                    if c == b'"' {
                        return Ok(out);
                    }
                    let e = self.peek().ok_or("premature EOF")?;
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) {
                                // A high surrogate needs its low half; yajl writes `?` otherwise.
                                let low = self.input.get(self.pos..self.pos + 2) == Some(b"\\u");
                                if low {
                                    self.pos += 2;
                                    let second = self.hex4()?;
                                    code = if (0xDC00..0xE000).contains(&second) {
                                        0x10000 + ((code - 0xD800) << 10) + (second - 0xDC00)
                                    } else {
                                        u32::from(b'?')
                                    };
                                } else {
                                    code = u32::from(b'?');
                                }
                            }
                            let ch = char::from_u32(code).unwrap_or('?');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => {
                            return Err(
                                "inside a string, '\\' occurs before a character which it may not"
                                    .into(),
                            )
                        }
                    }
                    raw_start = self.pos;
                }
                0..=0x1f => return Err("invalid character inside string".into()),
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str) -> Vec<(String, String)> {
        parse(body.as_bytes(), DEFAULT_MAX_DEPTH)
            .unwrap_or_else(|e| panic!("{body}: {e}"))
            .into_iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(&n).into(),
                    String::from_utf8_lossy(&v).into(),
                )
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn nested_objects() {
        assert_eq!(
            names(r#"{"a":{"b":"x"},"c":1}"#),
            pairs(&[("json.a.b", "x"), ("json.c", "1")])
        );
    }

    #[test]
    fn arrays_and_scalars() {
        assert_eq!(
            names(r#"{"a":[1,true,null,false,-1.5e3]}"#),
            pairs(&[
                ("json.a.array_0", "1"),
                ("json.a.array_1", "true"),
                ("json.a.array_2", ""),
                ("json.a.array_3", "false"),
                ("json.a.array_4", "-1.5e3"),
            ])
        );
        assert_eq!(
            names(r#"[{"b":1},{"b":2}]"#),
            pairs(&[("json.array_0.b", "1"), ("json.array_1.b", "2")])
        );
        assert_eq!(
            names(r#"[[1,2],[3]]"#),
            pairs(&[
                ("json.array_0.array_0", "1"),
                ("json.array_0.array_1", "2"),
                ("json.array_1.array_0", "3"),
            ])
        );
        assert_eq!(names(r#""top""#), pairs(&[("json", "top")]));
        assert_eq!(names("42"), pairs(&[("json", "42")]));
        assert_eq!(names(r#"{"":1}"#), pairs(&[("json.empty-key", "1")]));
        assert_eq!(names("{}"), pairs(&[]));
        assert_eq!(names(" [ ] "), pairs(&[]));
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            names(r#"{"a":"\u003cscript\u003e\n\"\\\/"}"#),
            pairs(&[("json.a", "<script>\n\"\\/")])
        );
        assert_eq!(
            names(r#"["\ud83d\ude00","\ud800x"]"#),
            pairs(&[("json.array_0", "😀"), ("json.array_1", "?x")])
        );
    }

    #[test]
    fn errors() {
        for bad in [
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1}x",
            "{}{}",
            "/*c*/1",
            "[01x]",
            "\"a\u{1}\"",
            "{1:2}",
            "tru",
            "[1 2]",
        ] {
            let r = parse(bad.as_bytes(), DEFAULT_MAX_DEPTH);
            let err = r.expect_err(bad);
            assert!(err.starts_with("JSON parsing error: "), "{err}");
        }
        assert!(parse(b"[\"\xff\"]", DEFAULT_MAX_DEPTH).is_err());
        assert_eq!(parse(b"", DEFAULT_MAX_DEPTH), Ok(vec![]));
    }

    #[test]
    fn partial_keeps_earlier_arguments() {
        let (args, err) = parse_partial(br#"{"a":"x","b":"#, DEFAULT_MAX_DEPTH);
        assert_eq!(args, vec![(b"json.a".to_vec(), b"x".to_vec())]);
        assert!(err.is_some());
    }

    #[test]
    fn depth_limit_without_stack_overflow() {
        let deep = "[".repeat(1_000_000);
        assert!(parse(deep.as_bytes(), DEFAULT_MAX_DEPTH).is_err());
        let ok = format!("{}1{}", "[".repeat(3), "]".repeat(3));
        assert!(parse(ok.as_bytes(), 3).is_ok());
        assert!(parse(ok.as_bytes(), 2).is_err());
    }

    #[test]
    fn output_is_bounded() {
        // Deep path repeated by many leaves: names would grow quadratically without the budget.
        let body = format!("{}{}", "[".repeat(5000), "1,".repeat(200_000));
        let (args, err) = parse_partial(body.as_bytes(), DEFAULT_MAX_DEPTH);
        assert!(err.is_some_and(|e| e.contains("size limit")));
        let total: usize = args.iter().map(|(n, v)| n.len() + v.len()).sum();
        assert!(total <= body.len() * OUTPUT_FACTOR + OUTPUT_SLACK);
    }
}
