//! `multipart/form-data` bodies, parsed with ModSecurity v3's strictness flags.
//!
//! A port of the behaviour (not the code) of ModSecurity v3's line-based parser: a 4 KiB line
//! buffer, the same `MULTIPART_*` flags, the same `REQBODY_ERROR_MSG` texts, and v3's habit of
//! carrying on after a bad part header (the last message wins; a missing final boundary then
//! drops every argument). Deliberate differences, each safer or saner than the original:
//! - a form field keeps the line breaks inside its value (v3 loses them by accident, v2 keeps them);
//! - an empty boundary is an error (v3 silently skips the body);
//! - `max_files` counts files, not v3's per-line quirk, and applies whether or not files are
//!   saved; `max_parts` and `max_part_headers` are additions;
//! - header names are not checked for invalid characters (older v3 behaviour): such headers stay
//!   visible in `MULTIPART_PART_HEADERS`, where CRS 922130 looks for them.

use super::Arg;

/// Bounds on one multipart body; exceeding `max_parts` or `max_part_headers` stops parsing with an
/// error; exceeding `max_files` sets [`MultipartFlags::file_limit_exceeded`] and an error, and
/// the extra files keep their name and size but not their content, as ModSecurity does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartLimits {
    /// `SecUploadFileLimit` (ModSecurity's default 100); 0 means no limit.
    pub max_files: usize,
    /// Most parts accepted before the body is an error.
    pub max_parts: usize,
    /// Most header lines in one part before the body is an error.
    pub max_part_headers: usize,
}

impl Default for MultipartLimits {
    fn default() -> Self {
        Self {
            max_files: 100,
            max_parts: 10_000,
            max_part_headers: 100,
        }
    }
}

/// The strictness flags ModSecurity sets while parsing; each field is the variable of the same
/// name (`boundary_quoted` is `MULTIPART_BOUNDARY_QUOTED`, …), `1` when `true`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MultipartFlags {
    /// ModSecurity's internal `flag_error` (a fatal C-T or boundary error); it feeds
    /// `MULTIPART_STRICT_ERROR` but is not itself a variable.
    pub parse_error: bool,
    pub boundary_quoted: bool,
    pub boundary_whitespace: bool,
    pub data_before: bool,
    pub data_after: bool,
    pub header_folding: bool,
    pub lf_line: bool,
    pub crlf_lf_lines: bool,
    pub missing_semicolon: bool,
    pub invalid_quoting: bool,
    pub invalid_part: bool,
    pub invalid_header_folding: bool,
    pub file_limit_exceeded: bool,
    /// `MULTIPART_UNMATCHED_BOUNDARY` is not a boolean: 0 = none, 1 = a line looked like a boundary
    /// but did not match, 2 = set by every matching boundary after the first (ModSecurity's quirk;
    /// CRS-style rules test `@eq 1`).
    pub unmatched_boundary: u8,
}

impl MultipartFlags {
    /// `MULTIPART_STRICT_ERROR`, computed as ModSecurity does: the OR of `parse_error` and every
    /// flag except `crlf_lf_lines` and `unmatched_boundary`.
    pub fn strict_error(&self) -> bool {
        self.parse_error
            || self.boundary_quoted
            || self.boundary_whitespace
            || self.data_before
            || self.data_after
            || self.header_folding
            || self.lf_line
            || self.missing_semicolon
            || self.invalid_quoting
            || self.invalid_part
            || self.invalid_header_folding
            || self.file_limit_exceeded
    }

    /// Every flag with its ModSecurity variable name and value (0/1, or 0/1/2 for
    /// `MULTIPART_UNMATCHED_BOUNDARY`), in a fixed order, `MULTIPART_STRICT_ERROR` last.
    pub fn variables(&self) -> [(&'static str, u8); 14] {
        let b = u8::from;
        [
            ("MULTIPART_BOUNDARY_QUOTED", b(self.boundary_quoted)),
            ("MULTIPART_BOUNDARY_WHITESPACE", b(self.boundary_whitespace)),
            ("MULTIPART_DATA_BEFORE", b(self.data_before)),
            ("MULTIPART_DATA_AFTER", b(self.data_after)),
            ("MULTIPART_HEADER_FOLDING", b(self.header_folding)),
            ("MULTIPART_LF_LINE", b(self.lf_line)),
            ("MULTIPART_CRLF_LF_LINES", b(self.crlf_lf_lines)),
            ("MULTIPART_MISSING_SEMICOLON", b(self.missing_semicolon)),
            ("MULTIPART_INVALID_QUOTING", b(self.invalid_quoting)),
            ("MULTIPART_INVALID_PART", b(self.invalid_part)),
            (
                "MULTIPART_INVALID_HEADER_FOLDING",
                b(self.invalid_header_folding),
            ),
            ("MULTIPART_FILE_LIMIT_EXCEEDED", b(self.file_limit_exceeded)),
            ("MULTIPART_UNMATCHED_BOUNDARY", self.unmatched_boundary),
            ("MULTIPART_STRICT_ERROR", b(self.strict_error())),
        ]
    }
}

/// One uploaded file (a part with a `filename` in its `Content-Disposition`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultipartFile {
    /// The form field name (`FILES_NAMES`).
    pub name: Vec<u8>,
    /// The client's file name (`FILES`, `MULTIPART_FILENAME`).
    pub filename: Vec<u8>,
    /// The part's `Content-Type`, if any.
    pub content_type: Option<Vec<u8>>,
    /// The file's size in bytes (`FILES_SIZES`), counted even when `content` is not kept.
    pub size: u64,
    /// The file's bytes (`FILES_TMP_CONTENT`); empty for files beyond
    /// [`MultipartLimits::max_files`]. ModSecurity fills `FILES_TMP_CONTENT` only with
    /// `SecTmpSaveUploadedFiles On`: the engine decides whether to expose it.
    pub content: Vec<u8>,
}

/// What a multipart body yields. Always returned, even for a malformed body: ModSecurity keeps
/// the flags and whatever it parsed before the error, and CRS tests both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multipart {
    /// Form fields without a file name, in order (`ARGS_POST`).
    pub args: Vec<Arg>,
    /// Uploaded files, in order (`FILES`, `FILES_NAMES`, `FILES_SIZES`, `FILES_TMP_CONTENT`).
    pub files: Vec<MultipartFile>,
    /// Every part's header lines as `(part name, "Name: value")`, in order
    /// (`MULTIPART_PART_HEADERS:<part name>`).
    pub part_headers: Vec<Arg>,
    /// Every `name` seen in a `Content-Disposition`, in order (`MULTIPART_NAME`).
    pub names: Vec<Vec<u8>>,
    /// Every `filename` seen in a `Content-Disposition`, in order (`MULTIPART_FILENAME`).
    pub filenames: Vec<Vec<u8>>,
    /// The strictness flags (`MULTIPART_*`).
    pub flags: MultipartFlags,
    /// `Some(REQBODY_ERROR_MSG)` when the body failed to parse (`REQBODY_ERROR` is then `1`), e.g.
    /// `Multipart parsing error: Multipart: Final boundary missing.`
    pub error: Option<String>,
}

impl Multipart {
    /// `MULTIPART_STRICT_ERROR`, as ModSecurity computes it.
    pub fn strict_error(&self) -> bool {
        self.flags.strict_error()
    }

    /// `FILES_COMBINED_SIZE`: the sum of all uploaded files' sizes.
    pub fn files_combined_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Parses a `multipart/form-data` body; `content_type` is the request's whole `Content-Type`
/// header value (the boundary is taken from it). Never fails: a malformed body is reported in
/// [`Multipart::error`] and the flags.
///
/// Follows ModSecurity v3's line-based parser (4 KiB line buffer, the same flags and messages,
/// and it keeps going after a bad part header as v3 does). One deliberate difference: a form
/// field's value keeps its inner line breaks (v3 drops them by accident; v2 keeps them).
pub fn parse(body: &[u8], content_type: &[u8], limits: &MultipartLimits) -> Multipart {
    let mut parser = Parser::new(*limits);
    match parse_boundary(content_type, &mut parser.flags) {
        Ok(boundary) => {
            parser.boundary = boundary;
            parser.process(body);
        }
        Err(msg) => parser.error = Some(msg.to_owned()),
    }
    parser.complete()
}

/// ModSecurity's `MULTIPART_BUF_SIZE`: the longest line handled in one piece.
const BUF_SIZE: usize = 4096;

/// C's `isspace` in the "C" locale, which ModSecurity uses.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The bytes before the first NUL: what the C code sees through `strlen`/`strstr`.
fn c_str(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(n) => bytes.get(..n).unwrap_or(bytes),
        None => bytes,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How many times `boundary` followed (anywhere later) by `=` occurs, case-insensitively.
fn count_boundary_params(value: &[u8]) -> usize {
    let lower = value.to_ascii_lowercase();
    let mut rest = lower.as_slice();
    let mut count = 0;
    while let Some(at) = find(rest, b"boundary") {
        rest = rest.get(at + 8..).unwrap_or_default();
        if rest.contains(&b'=') {
            count += 1;
        }
    }
    count
}

/// RFC 2046 boundary characters (a space is allowed, but not last).
fn boundary_characters_valid(boundary: &[u8]) -> bool {
    let last = boundary.len().saturating_sub(1);
    boundary.iter().enumerate().all(|(i, &c)| {
        c.is_ascii_alphanumeric() || (c == b' ' && i != last) || b"'()+_,-./:=?".contains(&c)
    })
}

const PREFIX: &str = "Multipart parsing error: ";

/// Extracts the boundary from the `Content-Type` value the way ModSecurity's `init` does,
/// setting the C-T flags; `Err` is the `REQBODY_ERROR_MSG`.
fn parse_boundary(
    content_type: &[u8],
    flags: &mut MultipartFlags,
) -> Result<Vec<u8>, &'static str> {
    let header = c_str(content_type);
    // Every failure here is fatal and counts as ModSecurity's `flag_error`.
    let fail = |flags: &mut MultipartFlags, msg: &'static str| {
        flags.parse_error = true;
        Err(msg)
    };
    if header.is_empty() {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Content-Type header not available.",
        );
    }
    if header.len() > 1024 {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Invalid boundary in C-T (length).",
        );
    }
    let mime_ok = header
        .get(..19)
        .is_some_and(|m| m.eq_ignore_ascii_case(b"multipart/form-data"));
    if !mime_ok {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Invalid MIME type.",
        );
    }
    if count_boundary_params(header) > 1 {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Multiple boundary parameters in C-T.",
        );
    }
    let Some(at) = find(header, b"boundary") else {
        if count_boundary_params(header) > 0 {
            return fail(
                flags,
                "Multipart parsing error: Multipart: Invalid boundary in C-T (case sensitivity).",
            );
        }
        return fail(
            flags,
            "Multipart parsing error: Multipart: Boundary not found in C-T.",
        );
    };
    let mut seen_semicolon = false;
    for &c in header.get(19..at).unwrap_or_default() {
        if is_c_space(c) {
            continue;
        }
        if c == b';' && !seen_semicolon {
            seen_semicolon = true;
        } else {
            return fail(
                flags,
                "Multipart parsing error: Multipart: Invalid boundary in C-T (malformed).",
            );
        }
    }
    if !seen_semicolon {
        flags.missing_semicolon = true;
    }
    let after_name = header.get(at + 8..).unwrap_or_default();
    let Some(eq) = after_name.iter().position(|&c| c == b'=') else {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Invalid boundary in C-T (malformed).",
        );
    };
    for &c in after_name.get(..eq).unwrap_or_default() {
        if is_c_space(c) {
            flags.boundary_whitespace = true;
        } else {
            return fail(
                flags,
                "Multipart parsing error: Multipart: Invalid boundary in C-T (parameter name).",
            );
        }
    }
    let value = after_name.get(eq + 1..).unwrap_or_default();
    if value.first().is_some_and(|&c| is_c_space(c)) {
        flags.boundary_whitespace = true;
    }
    let mut boundary =
        if value.len() >= 2 && value.first() == Some(&b'"') && value.last() == Some(&b'"') {
            flags.boundary_quoted = true;
            value.get(1..value.len() - 1).unwrap_or_default().to_vec()
        } else {
            if value.first() == Some(&b'"') || (value.len() >= 2 && value.last() == Some(&b'"')) {
                return fail(
                    flags,
                    "Multipart parsing error: Multipart: Invalid boundary in C-T (quote).",
                );
            }
            value.to_vec()
        };
    if boundary.is_empty() {
        // ModSecurity silently gives up here; an empty boundary is reported instead.
        return fail(
            flags,
            "Multipart parsing error: Multipart: Invalid boundary in C-T (empty).",
        );
    }
    if count_boundary_params(&boundary) != 0 {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Invalid boundary in C-T (content).",
        );
    }
    // Tolerated as ModSecurity does: some clients append `; charset=…` after the boundary.
    if !boundary_characters_valid(&boundary) {
        if let Some(semi) = boundary.iter().position(|&c| c == b';') {
            boundary.truncate(semi);
        }
    }
    if !boundary_characters_valid(&boundary) {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Invalid boundary in C-T (characters).",
        );
    }
    if boundary.is_empty() {
        return fail(
            flags,
            "Multipart parsing error: Multipart: Invalid boundary in C-T (empty).",
        );
    }
    Ok(boundary)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    #[default]
    FormData,
    File,
}

/// The part being built (ModSecurity's `MultipartPart`).
#[derive(Debug, Default)]
struct Part {
    kind: PartKind,
    name: Vec<u8>,
    filename: Vec<u8>,
    /// Headers as `(name, value)`; names compare case-insensitively.
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    last_header_name: Option<usize>,
    last_header_line: Vec<u8>,
    header_lines: Vec<Vec<u8>>,
    value: Vec<u8>,
    size: u64,
    /// Whether this file part's content is kept (it is within `max_files`).
    file_counted: Option<bool>,
}

impl Part {
    fn header(&self, name: &[u8]) -> Option<&Vec<u8>> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    fn flush_header_line(&mut self) {
        if !self.last_header_line.is_empty() {
            self.header_lines
                .push(std::mem::take(&mut self.last_header_line));
        }
    }
}

/// Signals that parsing stops (ModSecurity's `process` returning false).
struct Stop;

struct Parser {
    limits: MultipartLimits,
    boundary: Vec<u8>,
    flags: MultipartFlags,
    error: Option<String>,
    buf: Vec<u8>,
    buf_contains_line: bool,
    part: Option<Part>,
    /// `false` while reading the part's headers, `true` while reading its data.
    in_data: bool,
    /// Line terminator held back from the previous data line (dropped before a boundary).
    reserve: Vec<u8>,
    parts: Vec<Part>,
    parts_seen: usize,
    nfiles: usize,
    boundary_count: usize,
    seen_data: bool,
    is_complete: bool,
    /// ModSecurity's `flag_crlf_line`: only reported through `crlf_lf_lines`.
    crlf_line: bool,
    out: Multipart,
}

impl Parser {
    fn new(limits: MultipartLimits) -> Self {
        Self {
            limits,
            boundary: Vec::new(),
            flags: MultipartFlags::default(),
            error: None,
            buf: Vec::with_capacity(BUF_SIZE),
            buf_contains_line: true,
            part: None,
            in_data: false,
            reserve: Vec::new(),
            parts: Vec::new(),
            parts_seen: 0,
            nfiles: 0,
            boundary_count: 0,
            seen_data: false,
            is_complete: false,
            crlf_line: false,
            out: Multipart::default(),
        }
    }

    fn set_error(&mut self, msg: impl AsRef<str>) {
        self.error = Some(format!("{PREFIX}{}", msg.as_ref()));
    }

    /// Feeds the whole body, one line (or 4 KiB piece of a line) at a time.
    fn process(&mut self, body: &[u8]) {
        if body.is_empty() {
            return;
        }
        self.seen_data = true;
        let mut pos = 0;
        while let Some(&c) = body.get(pos) {
            // A `\r` never ends a full buffer, so that `\r\n` is never split.
            let split_cr = c == b'\r' && self.buf.len() == BUF_SIZE - 1;
            if !split_cr {
                self.buf.push(c);
                pos += 1;
            }
            if c == b'\n' || self.buf.len() == BUF_SIZE || split_cr {
                if self.process_chunk(split_cr).is_err() {
                    self.flags.parse_error = true;
                    // INVARIANT: `buf` keeps the failing line, as `complete` inspects it.
                    return;
                }
                self.buf.clear();
                self.buf_contains_line = c == b'\n' && !split_cr;
            }
            if self.is_complete && pos < body.len() {
                self.flags.data_after = true;
                return;
            }
        }
    }

    fn process_chunk(&mut self, split_cr: bool) -> Result<(), Stop> {
        let line = std::mem::take(&mut self.buf);
        let result = self.process_line(&line, split_cr);
        self.buf = line;
        result
    }

    fn process_line(&mut self, line: &[u8], split_cr: bool) -> Result<(), Stop> {
        let cline = c_str(line);
        let blen = self.boundary.len();
        let mut processed_as_boundary = false;
        if self.buf_contains_line && cline.len() > 3 && cline.starts_with(b"--") {
            if cline.len() >= blen + 2 && cline.get(2..2 + blen) == Some(self.boundary.as_slice()) {
                if self.boundary_count > 0 {
                    self.flags.unmatched_boundary = 2;
                }
                let mut end = cline.get(2 + blen..).unwrap_or_default();
                let is_final = end.starts_with(b"--");
                if is_final {
                    end = end.get(2..).unwrap_or_default();
                    if self.is_complete {
                        self.set_error("Multipart: Invalid boundary (final duplicate).");
                        return Err(Stop);
                    }
                }
                if end == b"\r\n" || end == b"\n" {
                    if end == b"\n" {
                        self.flags.lf_line = true;
                    } else {
                        self.crlf_line = true;
                    }
                    self.process_boundary(is_final)?;
                    if is_final {
                        self.is_complete = true;
                    }
                    processed_as_boundary = true;
                    self.boundary_count += 1;
                } else {
                    let msg = format!(
                        "Multipart: Invalid boundary: {}",
                        String::from_utf8_lossy(cline)
                    );
                    self.set_error(msg);
                    return Err(Stop);
                }
            } else {
                if self.flags.boundary_quoted
                    && cline.len() >= blen + 3
                    && cline.get(2) == Some(&b'"')
                    && cline.get(3..3 + blen) == Some(self.boundary.as_slice())
                {
                    self.set_error("Multipart: Invalid boundary (quotes).");
                    return Err(Stop);
                }
                let after = cline.get(2..).unwrap_or_default();
                let ws = after.iter().take_while(|&&c| is_c_space(c)).count();
                if ws > 0
                    && after
                        .get(ws..)
                        .is_some_and(|r| r.starts_with(&self.boundary))
                {
                    self.set_error("Multipart: Invalid boundary (whitespace).");
                    return Err(Stop);
                }
                self.flags.unmatched_boundary = 1;
            }
        } else if self.buf_contains_line {
            let resembles = line.windows(2).enumerate().any(|(i, w)| {
                w == b"--"
                    && line
                        .get(i + 2..)
                        .is_some_and(|r| r.starts_with(&self.boundary))
            });
            if resembles {
                self.flags.unmatched_boundary = 1;
            }
        }
        if processed_as_boundary {
            return Ok(());
        }
        if self.part.is_none() {
            self.flags.data_before = true;
        } else if !self.in_data {
            if line.len() == BUF_SIZE || split_cr {
                self.set_error(format!(
                    "Multipart: Part header line over {BUF_SIZE} bytes long"
                ));
                return Err(Stop);
            }
            self.process_part_header(line)?;
        } else {
            self.process_part_data(line);
        }
        Ok(())
    }

    /// Finishes the part being built and, unless `last`, starts a new one.
    fn process_boundary(&mut self, last: bool) -> Result<(), Stop> {
        if let Some(mut part) = self.part.take() {
            for line in part.header_lines.drain(..) {
                self.out.part_headers.push((part.name.clone(), line));
            }
            if part.name.is_empty() {
                self.flags.invalid_part = true;
            } else {
                self.parts.push(part);
            }
        }
        if !last {
            self.parts_seen += 1;
            if self.parts_seen > self.limits.max_parts {
                let max = self.limits.max_parts;
                self.set_error(format!("Multipart: more than {max} parts"));
                return Err(Stop);
            }
            self.part = Some(Part::default());
            self.in_data = false;
            self.reserve.clear();
        }
        Ok(())
    }

    fn process_part_header(&mut self, line: &[u8]) -> Result<(), Stop> {
        let Some(part) = self.part.as_mut() else {
            return Ok(());
        };
        // Bad part headers record an error and parsing goes on, as in ModSecurity v3.
        let mut error: Option<String> = None;
        if line.contains(&0) {
            self.set_error("Multipart: Nul byte in part headers.");
            return Ok(());
        }
        let len = line.len();
        let mut content_len = len.saturating_sub(1);
        if len > 1 && line.get(len - 2) == Some(&b'\r') {
            self.crlf_line = true;
            content_len = len - 2;
        } else {
            self.flags.lf_line = true;
        }
        if line == b"\r\n" || line == b"\n" {
            part.flush_header_line();
            let Some(cd) = part.header(b"Content-Disposition").cloned() else {
                self.set_error("Multipart: Part missing Content-Disposition header.");
                return Ok(());
            };
            // A second blank line re-parses the header against what is already set (v3).
            let mut disposition = Disposition {
                name: Some(part.name.clone()).filter(|n| !n.is_empty()),
                filename: Some(part.filename.clone()).filter(|f| !f.is_empty()),
                ..Disposition::default()
            };
            let rc = parse_content_disposition(&cd, &mut disposition);
            // Every name/filename seen counts, even in a header rejected later.
            self.out
                .names
                .extend(disposition.names_seen.iter().cloned());
            self.out
                .filenames
                .extend(disposition.filenames_seen.iter().cloned());
            self.flags.invalid_quoting |= disposition.invalid_quoting;
            if let Some(name) = disposition.name {
                part.name = name;
            }
            if let Some(filename) = disposition.filename {
                part.filename = filename;
            }
            if let Err(rc) = rc {
                error = Some(format!(
                    "Multipart: Invalid Content-Disposition header ({rc}): {}",
                    String::from_utf8_lossy(&cd)
                ));
            } else if part.name.is_empty() {
                error = Some("Multipart: Content-Disposition header missing name field.".into());
            } else if !part.filename.is_empty() && find(c_str(&cd), b"filename=").is_none() {
                error = Some("Multipart: Invalid Content-Disposition header (filename).".into());
            } else {
                part.kind = if part.filename.is_empty() {
                    PartKind::FormData
                } else {
                    PartKind::File
                };
                self.in_data = true;
                part.last_header_name = None;
            }
        } else if line.first().is_some_and(|&c| is_c_space(c)) {
            self.flags.header_folding = true;
            let ws = line.iter().take_while(|&&c| is_c_space(c)).count();
            if line
                .get(..ws)
                .is_some_and(|p| p.iter().any(|&c| c != b' ' && c != b'\t'))
            {
                self.flags.invalid_header_folding = true;
            }
            match part.last_header_name {
                None => error = Some("Multipart: Invalid part header (folding error).".into()),
                Some(index) => {
                    let more = chomp(line.get(ws..).unwrap_or_default());
                    if let Some((name, value)) = part.headers.get_mut(index) {
                        value.push(b' ');
                        value.extend_from_slice(more);
                        if value.len() > BUF_SIZE {
                            error = Some("Multipart: Part header too long.".into());
                        } else {
                            let mut full = name.clone();
                            full.extend_from_slice(b": ");
                            full.extend_from_slice(value);
                            part.last_header_line = full;
                        }
                    }
                }
            }
        } else {
            part.flush_header_line();
            match line.iter().position(|&c| c == b':') {
                None => {
                    error = Some(format!(
                        "Multipart: Invalid part header (colon missing): {}",
                        String::from_utf8_lossy(line)
                    ));
                }
                Some(0) => {
                    error = Some("Multipart: Invalid part header (header name missing).".into())
                }
                Some(colon) => {
                    let name = line.get(..colon).unwrap_or_default().to_vec();
                    let rest = line.get(colon + 1..).unwrap_or_default();
                    let ws = rest
                        .iter()
                        .take_while(|&&c| c == b' ' || c == b'\t')
                        .count();
                    let value = chomp(rest.get(ws..).unwrap_or_default()).to_vec();
                    // A duplicate header is dropped without an error message, as in v3.
                    if part.header(&name).is_none() {
                        if part.headers.len() >= self.limits.max_part_headers {
                            let max = self.limits.max_part_headers;
                            self.set_error(format!("Multipart: more than {max} headers in a part"));
                            return Err(Stop);
                        }
                        part.headers.push((name, value));
                        part.last_header_name = Some(part.headers.len() - 1);
                        part.last_header_line =
                            line.get(..content_len).unwrap_or_default().to_vec();
                    }
                }
            }
        }
        if let Some(msg) = error {
            self.set_error(msg);
        }
        Ok(())
    }

    fn process_part_data(&mut self, line: &[u8]) {
        let Some(part) = self.part.as_mut() else {
            return;
        };
        // Hold back the line terminator: it belongs to the next boundary if one follows.
        let held = if line.ends_with(b"\r\n") {
            2
        } else if line.ends_with(b"\n") {
            1
        } else {
            0
        };
        let data = line.get(..line.len() - held).unwrap_or_default();
        let reserve = std::mem::take(&mut self.reserve);
        match part.kind {
            PartKind::File => {
                let keep = match part.file_counted {
                    Some(keep) => keep,
                    None => {
                        let keep =
                            self.limits.max_files == 0 || self.nfiles < self.limits.max_files;
                        if keep {
                            self.nfiles += 1;
                        } else if !self.flags.file_limit_exceeded {
                            self.flags.file_limit_exceeded = true;
                            let max = self.limits.max_files;
                            self.error = Some(format!(
                                "{PREFIX}Multipart: Upload file limit exceeded {max}. Use SecUploadFileLimit to change the limit."
                            ));
                        }
                        part.file_counted = Some(keep);
                        keep
                    }
                };
                if keep {
                    part.value.extend_from_slice(&reserve);
                    part.value.extend_from_slice(data);
                }
                part.size += (reserve.len() + data.len()) as u64;
            }
            PartKind::FormData => {
                part.value.extend_from_slice(&reserve);
                part.value.extend_from_slice(data);
            }
        }
        self.reserve = line.get(line.len() - held..).unwrap_or_default().to_vec();
    }

    /// ModSecurity's `multipart_complete`: final checks, then the parts become arguments/files.
    fn complete(mut self) -> Multipart {
        self.flags.crlf_lf_lines = self.crlf_line && self.flags.lf_line;
        let mut error = self.error.take();
        let mut ok = true;
        if self.seen_data && !self.is_complete {
            if self.boundary_count > 0 {
                let blen = self.boundary.len();
                let last = &self.buf;
                let is_final = self.buf_contains_line
                    && last.len() == blen + 4
                    && last.starts_with(b"--")
                    && last.get(2..2 + blen) == Some(self.boundary.as_slice())
                    && last.ends_with(b"--");
                if is_final && self.process_boundary(true).is_ok() {
                    self.is_complete = true;
                } else {
                    error = Some(format!("{PREFIX}Multipart: Final boundary missing."));
                    ok = false;
                }
            } else {
                error = Some(format!(
                    "{PREFIX}Multipart: No boundaries found in payload."
                ));
                ok = false;
            }
        }
        let mut out = self.out;
        out.flags = self.flags;
        out.error = error;
        if ok {
            for part in self.parts {
                match part.kind {
                    PartKind::File => {
                        let content_type = part.header(b"Content-Type").cloned();
                        out.files.push(MultipartFile {
                            name: part.name,
                            filename: part.filename,
                            content_type,
                            size: part.size,
                            content: part.value,
                        });
                    }
                    PartKind::FormData => out.args.push((part.name, part.value)),
                }
            }
        }
        out
    }
}

/// Drops trailing CR and LF bytes.
fn chomp(mut s: &[u8]) -> &[u8] {
    while let Some((&last, rest)) = s.split_last() {
        if last != b'\n' && last != b'\r' {
            break;
        }
        s = rest;
    }
    s
}

/// What a `Content-Disposition` value yielded, kept even when it is rejected.
#[derive(Debug, Default)]
struct Disposition {
    name: Option<Vec<u8>>,
    filename: Option<Vec<u8>>,
    names_seen: Vec<Vec<u8>>,
    filenames_seen: Vec<Vec<u8>>,
    invalid_quoting: bool,
}

/// RFC 2045 token characters.
fn is_token_char(c: u8) -> bool {
    c > 32 && c < 127 && !b"()<>@,;:\\\"/[]?=".contains(&c)
}

/// RFC 5987 `mime-charsetc` punctuation and `attr-char` punctuation.
const MIME_CHARSET_SPECIAL: &[u8] = b"!#$%&+-^_`{}~";
const ATTR_CHAR_SPECIAL: &[u8] = b"!#$&+-.^_`|~";

/// ModSecurity's `parse_content_disposition`; `Err` is its negative return code.
fn parse_content_disposition(value: &[u8], out: &mut Disposition) -> Result<(), i32> {
    let v = c_str(value);
    if !v.starts_with(b"form-data") {
        return Err(-1);
    }
    let at = |p: usize| v.get(p).copied().unwrap_or(0);
    let skip_ws = |mut p: usize| {
        while at(p) == b' ' || at(p) == b'\t' {
            p += 1;
        }
        p
    };
    let mut p = skip_ws(9);
    if at(p) == 0 {
        return Ok(());
    }
    if at(p) != b';' {
        return Err(-2);
    }
    p += 1;
    let mut filename_star: Option<Vec<u8>> = None;
    while at(p) != 0 {
        p = skip_ws(p);
        if at(p) == 0 {
            return Err(-3);
        }
        let start = p;
        while !matches!(at(p), 0 | b'=' | b'\t' | b' ') {
            p += 1;
        }
        if at(p) == 0 {
            return Err(-4);
        }
        let name = v.get(start..p).unwrap_or_default();
        p = skip_ws(p);
        if at(p) == 0 {
            return Err(-5);
        }
        if at(p) != b'=' {
            return Err(-13);
        }
        p = skip_ws(p + 1);
        if at(p) == 0 {
            return Err(-6);
        }
        let mut quote = 0u8;
        let mut val = Vec::new();
        if name == b"filename*" {
            let charset_start = p;
            while at(p) != 0
                && (at(p).is_ascii_alphanumeric() || MIME_CHARSET_SPECIAL.contains(&at(p)))
            {
                p += 1;
            }
            if at(p) != b'\'' || p == charset_start {
                return Err(-16);
            }
            p += 1;
            while at(p) != 0 && at(p) != b'\'' {
                p += 1;
            }
            if at(p) != b'\'' {
                return Err(-17);
            }
            p += 1;
            let fn_start = p;
            while at(p) != 0 && at(p) != b';' {
                if at(p) == b'%' {
                    if !at(p + 1).is_ascii_hexdigit() || !at(p + 2).is_ascii_hexdigit() {
                        return Err(-18);
                    }
                    p += 3;
                } else if at(p).is_ascii_alphanumeric() || ATTR_CHAR_SPECIAL.contains(&at(p)) {
                    p += 1;
                } else {
                    return Err(-19);
                }
            }
            val.extend_from_slice(v.get(fn_start..p).unwrap_or_default());
        } else if at(p) == b'"' || at(p) == b'\'' {
            quote = at(p);
            if quote == b'\'' {
                out.invalid_quoting = true;
            }
            p += 1;
            if at(p) == 0 {
                return Err(-7);
            }
            while at(p) != 0 {
                if at(p) == b'\\' {
                    if at(p + 1) == 0 {
                        return Err(-8);
                    }
                    // Only the quote and the backslash can be escaped; others stay as is.
                    if at(p + 1) == quote || at(p + 1) == b'\\' {
                        p += 1;
                    }
                } else if at(p) == quote {
                    break;
                }
                val.push(at(p));
                p += 1;
            }
            // An unterminated quoted value (v3 would read past the end; v2 returns -10).
            if at(p) == 0 {
                return Err(-10);
            }
            p += 1;
        } else {
            let start = p;
            while at(p) != 0 && is_token_char(at(p)) {
                p += 1;
            }
            val.extend_from_slice(v.get(start..p).unwrap_or_default());
        }
        // A `'` inside a value not enclosed in double quotes is invalid quoting.
        if quote != b'"' && val.contains(&b'\'') && (name == b"name" || name == b"filename") {
            out.invalid_quoting = true;
        }
        match name {
            b"name" => {
                out.names_seen.push(val.clone());
                if out.name.as_ref().is_some_and(|n| !n.is_empty()) {
                    return Err(-14);
                }
                out.name = Some(val);
            }
            b"filename" => {
                out.filenames_seen.push(val.clone());
                if out.filename.as_ref().is_some_and(|n| !n.is_empty()) {
                    return Err(-15);
                }
                out.filename = Some(val);
            }
            b"filename*" => {
                if filename_star.is_some() {
                    return Err(-20);
                }
                filename_star = Some(val);
            }
            _ => return Err(-11),
        }
        if at(p) != 0 {
            p = skip_ws(p);
            if at(p) != 0 {
                if at(p) != b';' {
                    if p > 0 && matches!(at(p - 1), b'\'' | b'"') {
                        out.invalid_quoting = true;
                    }
                    return Err(-12);
                }
                p += 1;
            }
        }
    }
    let has_filename = out.filename.as_ref().is_some_and(|f| !f.is_empty());
    if filename_star.is_some_and(|f| !f.is_empty()) && !has_filename {
        return Err(-21);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &[u8] = b"multipart/form-data; boundary=XyZ";

    fn run(body: &[u8]) -> Multipart {
        parse(body, CT, &MultipartLimits::default())
    }

    fn arg<'a>(m: &'a Multipart, name: &str) -> Option<&'a [u8]> {
        m.args
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    const GOOD: &[u8] = b"--XyZ\r\n\
Content-Disposition: form-data; name=\"a\"\r\n\
\r\n\
line1\r\nline2\r\n\
--XyZ\r\n\
Content-Disposition: form-data; name=\"up\"; filename=\"x.php\"\r\n\
Content-Type: application/x-php\r\n\
\r\n\
<?php echo 1; ?>\r\n\
--XyZ--\r\n";

    #[test]
    fn fields_and_files() {
        let m = run(GOOD);
        assert_eq!(m.error, None);
        assert_eq!(arg(&m, "a"), Some(&b"line1\r\nline2"[..]));
        assert_eq!(m.files.len(), 1);
        let f = &m.files[0];
        assert_eq!(f.name, b"up");
        assert_eq!(f.filename, b"x.php");
        assert_eq!(f.content_type.as_deref(), Some(&b"application/x-php"[..]));
        assert_eq!(f.content, b"<?php echo 1; ?>");
        assert_eq!(f.size, 16);
        assert_eq!(m.files_combined_size(), 16);
        assert_eq!(m.names, vec![b"a".to_vec(), b"up".to_vec()]);
        assert_eq!(m.filenames, vec![b"x.php".to_vec()]);
        assert!(!m.strict_error());
        // Every boundary after the first sets the v3 value 2.
        assert_eq!(m.flags.unmatched_boundary, 2);
        assert_eq!(
            m.part_headers,
            vec![
                (
                    b"a".to_vec(),
                    b"Content-Disposition: form-data; name=\"a\"".to_vec()
                ),
                (
                    b"up".to_vec(),
                    b"Content-Disposition: form-data; name=\"up\"; filename=\"x.php\"".to_vec()
                ),
                (b"up".to_vec(), b"Content-Type: application/x-php".to_vec()),
            ]
        );
    }

    #[test]
    fn lf_lines_set_lf_flag() {
        let body = b"--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--\n";
        let m = run(body);
        assert_eq!(m.error, None);
        assert_eq!(arg(&m, "a"), Some(&b"v"[..]));
        assert!(m.flags.lf_line);
        assert!(!m.flags.crlf_lf_lines);
        assert!(m.strict_error());
    }

    #[test]
    fn mixed_line_endings() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\n\r\nv\r\n--XyZ--\r\n";
        let m = run(body);
        assert!(m.flags.lf_line && m.flags.crlf_lf_lines);
    }

    #[test]
    fn data_before_and_after() {
        let mut body = b"preamble\r\n".to_vec();
        body.extend_from_slice(GOOD);
        body.extend_from_slice(b"epilogue");
        let m = run(&body);
        assert!(m.flags.data_before);
        assert!(m.flags.data_after);
        assert!(m.strict_error());
        assert_eq!(m.error, None);
    }

    #[test]
    fn header_folding() {
        let body =
            b"--XyZ\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--XyZ--\r\n";
        let m = run(body);
        assert_eq!(m.error, None);
        assert!(m.flags.header_folding);
        assert!(!m.flags.invalid_header_folding);
        assert_eq!(arg(&m, "a"), Some(&b"v"[..]));
        assert_eq!(
            m.part_headers[0].1,
            b"Content-Disposition: form-data; name=\"a\""
        );
        let body =
            b"--XyZ\r\nContent-Disposition: form-data;\r\n\x0bname=\"a\"\r\n\r\nv\r\n--XyZ--\r\n";
        assert!(run(body).flags.invalid_header_folding);
    }

    #[test]
    fn content_type_flags() {
        let limits = MultipartLimits::default();
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--\r\n";
        let m = parse(body, b"multipart/form-data boundary=XyZ", &limits);
        assert!(m.flags.missing_semicolon);
        assert_eq!(arg(&m, "a"), Some(&b"v"[..]));
        let m = parse(body, b"multipart/form-data; boundary=\"XyZ\"", &limits);
        assert!(m.flags.boundary_quoted && m.strict_error());
        assert_eq!(m.error, None);
        let m = parse(body, b"multipart/form-data; boundary =XyZ", &limits);
        assert!(m.flags.boundary_whitespace);
        assert_eq!(m.error, None);
        // Tolerated: a parameter after the boundary.
        let m = parse(
            body,
            b"multipart/form-data; boundary=XyZ; charset=utf-8",
            &limits,
        );
        assert_eq!(m.error, None);
        assert_eq!(arg(&m, "a"), Some(&b"v"[..]));
    }

    #[test]
    fn content_type_errors() {
        let limits = MultipartLimits::default();
        let cases: &[(&[u8], &str)] = &[
            (b"", "Content-Type header not available."),
            (b"text/plain; boundary=x", "Invalid MIME type."),
            (b"multipart/form-data", "Boundary not found in C-T."),
            (
                b"multipart/form-data; BOUNDARY=x",
                "Invalid boundary in C-T (case sensitivity).",
            ),
            (
                b"multipart/form-data; boundary=a; boundary=b",
                "Multiple boundary parameters in C-T.",
            ),
            (
                b"multipart/form-data; x; boundary=a",
                "Invalid boundary in C-T (malformed).",
            ),
            (
                b"multipart/form-data; boundary=\"abc",
                "Invalid boundary in C-T (quote).",
            ),
            (
                b"multipart/form-data; boundary=a<b",
                "Invalid boundary in C-T (characters).",
            ),
            (
                b"multipart/form-data; boundaryx=a",
                "Invalid boundary in C-T (parameter name).",
            ),
        ];
        for (ct, msg) in cases {
            let m = parse(GOOD, ct, &limits);
            let err = m.error.clone().unwrap_or_default();
            assert!(err.ends_with(msg), "{}: {err}", String::from_utf8_lossy(ct));
            assert!(err.starts_with("Multipart parsing error: Multipart: "));
            assert!(m.flags.parse_error && m.strict_error());
            assert!(m.args.is_empty());
        }
    }

    #[test]
    fn invalid_quoting() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name='a'\r\n\r\nv\r\n--XyZ--\r\n";
        let m = run(body);
        assert!(m.flags.invalid_quoting);
        assert_eq!(arg(&m, "a"), Some(&b"v"[..]));
    }

    #[test]
    fn missing_content_disposition_is_error_and_invalid_part() {
        let body = b"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\nw\r\n--XyZ--\r\n";
        let m = run(body);
        // v3 keeps going after a bad part header; the last message wins.
        assert!(m
            .error
            .as_deref()
            .unwrap_or_default()
            .starts_with("Multipart parsing error: "));
        assert!(m.flags.invalid_part);
        assert_eq!(arg(&m, "b"), Some(&b"w"[..]));
    }

    #[test]
    fn final_boundary_missing_drops_arguments() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n";
        let m = run(body);
        assert_eq!(
            m.error.as_deref(),
            Some("Multipart parsing error: Multipart: Final boundary missing.")
        );
        assert!(m.args.is_empty());
    }

    #[test]
    fn final_boundary_without_newline() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--";
        let m = run(body);
        assert_eq!(m.error, None);
        assert_eq!(arg(&m, "a"), Some(&b"v"[..]));
    }

    #[test]
    fn no_boundaries() {
        let m = run(b"just text\r\n");
        assert_eq!(
            m.error.as_deref(),
            Some("Multipart parsing error: Multipart: No boundaries found in payload.")
        );
        assert!(m.flags.data_before);
        // An empty body is not an error in ModSecurity.
        assert_eq!(run(b"").error, None);
    }

    #[test]
    fn unmatched_boundary() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n--other\r\n--XyZ--\r\n";
        let m = run(body);
        assert_eq!(
            m.flags.unmatched_boundary, 2,
            "a later real boundary overwrites 1 with 2"
        );
        let body =
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--\r\n--zzz\r\n";
        let m = run(body);
        assert!(m.flags.data_after);
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx --XyZ y\r\n--XyZ--";
        assert_eq!(run(body).flags.unmatched_boundary, 1);
    }

    #[test]
    fn invalid_boundary_lines() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ  \r\n";
        let m = run(body);
        assert!(m.flags.parse_error);
        assert_eq!(
            m.error.as_deref(),
            Some("Multipart parsing error: Multipart: Final boundary missing.")
        );
        // As in v3, the final check overwrites the stop reason.
        let m = run(b"-- XyZ\r\n");
        assert!(m.flags.parse_error);
        assert_eq!(
            m.error.as_deref(),
            Some("Multipart parsing error: Multipart: No boundaries found in payload.")
        );
    }

    #[test]
    fn file_limit() {
        let limits = MultipartLimits {
            max_files: 1,
            ..MultipartLimits::default()
        };
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=f1; filename=a\r\n\r\nAAA\r\n--XyZ\r\nContent-Disposition: form-data; name=f2; filename=b\r\n\r\nBBBB\r\n--XyZ--\r\n";
        let m = parse(body, CT, &limits);
        assert!(m.flags.file_limit_exceeded && m.strict_error());
        assert_eq!(m.files.len(), 2);
        assert_eq!(m.files[1].content, b"");
        assert_eq!(m.files[1].size, 4);
        assert_eq!(m.files_combined_size(), 7);
        assert!(m.error.is_some());
    }

    #[test]
    fn empty_filename_is_a_field() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"\"\r\n\r\nv\r\n--XyZ--\r\n";
        let m = run(body);
        assert_eq!(arg(&m, "f"), Some(&b"v"[..]));
        assert!(m.files.is_empty());
        assert_eq!(m.filenames, vec![Vec::<u8>::new()]);
    }

    #[test]
    fn content_disposition_codes() {
        let cases: &[(&[u8], i32)] = &[
            (b"attachment; name=a", -1),
            (b"form-data x", -2),
            (b"form-data; name", -4),
            (b"form-data; name=\"a\"; other=b", -11),
            (b"form-data; name=\"a\" x", -12),
            (b"form-data; name=\"a\"; name=\"b\"", -14),
            (b"form-data; name=a; filename*=bad", -16),
            (b"form-data; name=a; filename*=utf-8''x", -21),
            (b"form-data; name=\"a", -10),
        ];
        for (value, code) in cases {
            let mut d = Disposition::default();
            assert_eq!(
                parse_content_disposition(value, &mut d),
                Err(*code),
                "{}",
                String::from_utf8_lossy(value)
            );
        }
        let mut d = Disposition::default();
        assert_eq!(
            parse_content_disposition(
                b"form-data; name=\"a\\\"b\"; filename*=utf-8''x%20y; filename=z",
                &mut d
            ),
            Ok(())
        );
        assert_eq!(d.name.as_deref(), Some(&b"a\"b"[..]));
    }

    #[test]
    fn long_lines_are_split_not_lost() {
        let big = vec![b'x'; 10_000];
        let mut body =
            b"--XyZ\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\n".to_vec();
        body.extend_from_slice(&big);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let m = run(&body);
        assert_eq!(m.error, None);
        assert_eq!(m.files[0].content, big);
        let mut body = b"--XyZ\r\nX-Long: ".to_vec();
        body.extend_from_slice(&big);
        let m = run(&body);
        assert!(m.flags.parse_error);
    }

    #[test]
    fn crs_922130_invalid_header_name_char_is_kept() {
        // From CRS 922130 test 1: the 0x0E header stays visible to MULTIPART_PART_HEADERS.
        let body = b"--boundary\r\n\x0eContent-Disposition: form-data; name=\"file\"; filename=\"1.php\"\r\nContent-Disposition: form-data; name=\"post\"\r\n\r\n<?php var_dump(file_get_contents(\"/etc/passwd\"));\r\n--boundary--";
        let m = parse(
            body,
            b"multipart/form-data; boundary=boundary",
            &MultipartLimits::default(),
        );
        assert_eq!(m.error, None);
        assert_eq!(m.part_headers[0].1[0], 0x0e);
        assert_eq!(
            arg(&m, "post"),
            Some(&b"<?php var_dump(file_get_contents(\"/etc/passwd\"));"[..])
        );
    }

    #[test]
    fn part_limit() {
        let limits = MultipartLimits {
            max_parts: 2,
            ..MultipartLimits::default()
        };
        let part = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n";
        let body = [&part[..], part, part, b"--XyZ--\r\n"].concat();
        let m = parse(&body, CT, &limits);
        assert!(m.error.is_some());
    }

    #[test]
    fn never_panics_on_garbage() {
        let inputs: &[&[u8]] = &[
            b"--",
            b"--XyZ",
            b"--XyZ\r",
            b"--XyZ\n\n\n",
            b"--XyZ\r\n\t\r\n",
            b"\0--XyZ\r\n\0\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"\r\n\r\n--XyZ--",
        ];
        for input in inputs {
            let _ = run(input);
        }
    }
}
