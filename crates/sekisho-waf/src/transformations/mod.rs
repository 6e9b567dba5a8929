//! SecLang transformations (`t:name`): one file each, listed in [`TRANSFORMATIONS`].
//!
//! Every transformation follows ModSecurity v3 byte for byte (invalid escapes are left as they
//! are, never an error) and returns `None` when the value is unchanged, so the common case of
//! a clean value costs a scan and no allocation.

mod base64_decode;
mod base64_decode_ext;
mod base64_encode;
mod cmd_line;
mod compress_whitespace;
mod css_decode;
mod escape_seq_decode;
mod hex_decode;
mod hex_encode;
mod html_entity_decode;
mod js_decode;
mod length;
mod lowercase;
mod md5;
mod none;
mod normalize_path;
mod normalize_path_win;
mod parity_even_7bit;
mod parity_odd_7bit;
mod parity_zero_7bit;
mod remove_comments;
mod remove_comments_char;
mod remove_nulls;
mod remove_whitespace;
mod replace_comments;
mod replace_nulls;
mod sha1;
mod sql_hex_decode;
mod trim;
mod trim_left;
mod trim_right;
mod uppercase;
mod url_decode;
mod url_decode_uni;
mod url_encode;
mod utf8_to_unicode;
mod util;

use crate::byteset::ByteSet;

/// A transformation: returns `None` when the input is unchanged (saves a copy).
pub type TransformFn = fn(&[u8]) -> Option<Vec<u8>>;

/// One registry entry.
#[derive(Debug)]
pub struct Transformation {
    /// SecLang name, in its canonical case (e.g. `urlDecodeUni`).
    pub name: &'static str,
    pub func: TransformFn,
    /// Bytes without which the transformation leaves a value unchanged ([`ByteSet::ALL`] when
    /// it may change any value): a value holding none of a list's bytes skips the list.
    pub triggers: ByteSet,
}

/// A transformation that may change any value.
const fn t(name: &'static str, func: TransformFn) -> Transformation {
    tt(name, func, ByteSet::ALL)
}

/// A transformation that leaves a value without any of `triggers` unchanged.
const fn tt(name: &'static str, func: TransformFn, triggers: ByteSet) -> Transformation {
    Transformation {
        name,
        func,
        triggers,
    }
}

/// `isspace()` in the C locale.
const C_SPACE: ByteSet = ByteSet::range(b'\t', b'\r').union(ByteSet::of_list(b" "));
const UPPER: ByteSet = ByteSet::range(b'A', b'Z');
const PERCENT_PLUS: ByteSet = ByteSet::of_list(b"%+");
const BACKSLASH: ByteSet = ByteSet::of_list(b"\\");
const NUL: ByteSet = ByteSet::of_list(b"\0");
const PATH: ByteSet = ByteSet::of_list(b"./");
const PATH_WIN: ByteSet = ByteSet::of_list(b"./\\");

/// Every transformation this engine knows (ModSecurity v3's complete list). British and
/// American spellings of the path normalisers are both registered.
pub static TRANSFORMATIONS: &[Transformation] = &[
    t("base64Decode", base64_decode::base64_decode),
    t("base64DecodeExt", base64_decode_ext::base64_decode_ext),
    t("base64Encode", base64_encode::base64_encode),
    tt(
        "cmdLine",
        cmd_line::cmd_line,
        UPPER.union(ByteSet::of_list(b"\"'\\^,;\t\r\n ")),
    ),
    tt(
        "compressWhitespace",
        compress_whitespace::compress_whitespace,
        C_SPACE,
    ),
    tt("cssDecode", css_decode::css_decode, BACKSLASH),
    tt(
        "escapeSeqDecode",
        escape_seq_decode::escape_seq_decode,
        BACKSLASH,
    ),
    t("hexDecode", hex_decode::hex_decode),
    t("hexEncode", hex_encode::hex_encode),
    tt(
        "htmlEntityDecode",
        html_entity_decode::html_entity_decode,
        ByteSet::of_list(b"&"),
    ),
    tt("jsDecode", js_decode::js_decode, BACKSLASH),
    t("length", length::length),
    tt("lowercase", lowercase::lowercase, UPPER),
    t("md5", md5::md5),
    tt("none", none::none, ByteSet::EMPTY),
    tt("normalisePath", normalize_path::normalize_path, PATH),
    tt("normalizePath", normalize_path::normalize_path, PATH),
    tt(
        "normalisePathWin",
        normalize_path_win::normalize_path_win,
        PATH_WIN,
    ),
    tt(
        "normalizePathWin",
        normalize_path_win::normalize_path_win,
        PATH_WIN,
    ),
    t("parityEven7bit", parity_even_7bit::parity_even_7bit),
    t("parityOdd7bit", parity_odd_7bit::parity_odd_7bit),
    t("parityZero7bit", parity_zero_7bit::parity_zero_7bit),
    tt(
        "removeComments",
        remove_comments::remove_comments,
        ByteSet::of_list(b"/<-#"),
    ),
    tt(
        "removeCommentsChar",
        remove_comments_char::remove_comments_char,
        ByteSet::of_list(b"/*<-#"),
    ),
    tt("removeNulls", remove_nulls::remove_nulls, NUL),
    tt(
        "removeWhitespace",
        remove_whitespace::remove_whitespace,
        C_SPACE.union(ByteSet::of_list(b"\xa0")),
    ),
    tt(
        "replaceComments",
        replace_comments::replace_comments,
        ByteSet::of_list(b"/"),
    ),
    tt("replaceNulls", replace_nulls::replace_nulls, NUL),
    t("sha1", sha1::sha1),
    tt(
        "sqlHexDecode",
        sql_hex_decode::sql_hex_decode,
        ByteSet::of_list(b"0"),
    ),
    tt("trim", trim::trim, C_SPACE),
    tt("trimLeft", trim_left::trim_left, C_SPACE),
    tt("trimRight", trim_right::trim_right, C_SPACE),
    tt(
        "uppercase",
        uppercase::uppercase,
        ByteSet::range(b'a', b'z'),
    ),
    tt("urlDecode", url_decode::url_decode, PERCENT_PLUS),
    tt("urlDecodeUni", url_decode_uni::url_decode_uni, PERCENT_PLUS),
    t("urlEncode", url_encode::url_encode),
    tt(
        "utf8toUnicode",
        utf8_to_unicode::utf8_to_unicode,
        NUL.union(ByteSet::range(0x80, 0xff)),
    ),
];

/// Looks a transformation up by its SecLang name, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static Transformation> {
    TRANSFORMATIONS
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
}

/// Applies `name`'s transformation; `None` when the name is unknown.
///
/// Convenience for tests and tools; the engine resolves names once with [`lookup`].
pub fn apply(name: &str, input: &[u8]) -> Option<Vec<u8>> {
    let t = lookup(name)?;
    Some((t.func)(input).unwrap_or_else(|| input.to_vec()))
}

#[cfg(test)]
mod tests;
