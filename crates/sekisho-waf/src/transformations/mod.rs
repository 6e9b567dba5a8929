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

/// A transformation: returns `None` when the input is unchanged (saves a copy).
pub type TransformFn = fn(&[u8]) -> Option<Vec<u8>>;

/// One registry entry.
#[derive(Debug)]
pub struct Transformation {
    /// SecLang name, in its canonical case (e.g. `urlDecodeUni`).
    pub name: &'static str,
    pub func: TransformFn,
}

const fn t(name: &'static str, func: TransformFn) -> Transformation {
    Transformation { name, func }
}

/// Every transformation this engine knows (ModSecurity v3's complete list). British and
/// American spellings of the path normalisers are both registered.
pub static TRANSFORMATIONS: &[Transformation] = &[
    t("base64Decode", base64_decode::base64_decode),
    t("base64DecodeExt", base64_decode_ext::base64_decode_ext),
    t("base64Encode", base64_encode::base64_encode),
    t("cmdLine", cmd_line::cmd_line),
    t(
        "compressWhitespace",
        compress_whitespace::compress_whitespace,
    ),
    t("cssDecode", css_decode::css_decode),
    t("escapeSeqDecode", escape_seq_decode::escape_seq_decode),
    t("hexDecode", hex_decode::hex_decode),
    t("hexEncode", hex_encode::hex_encode),
    t("htmlEntityDecode", html_entity_decode::html_entity_decode),
    t("jsDecode", js_decode::js_decode),
    t("length", length::length),
    t("lowercase", lowercase::lowercase),
    t("md5", md5::md5),
    t("none", none::none),
    t("normalisePath", normalize_path::normalize_path),
    t("normalizePath", normalize_path::normalize_path),
    t("normalisePathWin", normalize_path_win::normalize_path_win),
    t("normalizePathWin", normalize_path_win::normalize_path_win),
    t("parityEven7bit", parity_even_7bit::parity_even_7bit),
    t("parityOdd7bit", parity_odd_7bit::parity_odd_7bit),
    t("parityZero7bit", parity_zero_7bit::parity_zero_7bit),
    t("removeComments", remove_comments::remove_comments),
    t(
        "removeCommentsChar",
        remove_comments_char::remove_comments_char,
    ),
    t("removeNulls", remove_nulls::remove_nulls),
    t("removeWhitespace", remove_whitespace::remove_whitespace),
    t("replaceComments", replace_comments::replace_comments),
    t("replaceNulls", replace_nulls::replace_nulls),
    t("sha1", sha1::sha1),
    t("sqlHexDecode", sql_hex_decode::sql_hex_decode),
    t("trim", trim::trim),
    t("trimLeft", trim_left::trim_left),
    t("trimRight", trim_right::trim_right),
    t("uppercase", uppercase::uppercase),
    t("urlDecode", url_decode::url_decode),
    t("urlDecodeUni", url_decode_uni::url_decode_uni),
    t("urlEncode", url_encode::url_encode),
    t("utf8toUnicode", utf8_to_unicode::utf8_to_unicode),
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
