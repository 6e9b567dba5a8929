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
    /// How it may make a string appear that its input did not hold.
    pub makes: Makes,
    /// How long its output may be.
    pub grows: Grows,
}

/// How long a transformation's output may be, for an input of `n` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grows {
    /// At most `n` bytes: it decodes, deletes or replaces byte for byte.
    Never,
    /// At most what `n` Base64 characters decode to (`n / 4 * 3`, plus 1 or 2 for a
    /// trailing 2 or 3).
    Base64,
    /// Longer (encodings, hashes, `t:length` of the empty value).
    Longer,
}

impl Grows {
    /// The longest output for an input of `n` bytes.
    pub fn bound(self, n: usize) -> usize {
        match self {
            Grows::Never => n,
            Grows::Base64 => n / 4 * 3 + (n % 4).saturating_sub(1),
            Grows::Longer => usize::MAX,
        }
    }
}

/// How a transformation may make a string appear in its output that its input did not hold,
/// compared blind to ASCII case (as the prefilter compares literals). A `multiMatch` rule
/// passes over a value when no stage of its list can make one of the rule's literals.
#[derive(Debug, Clone, Copy)]
pub struct Makes {
    /// Bytes whose presence lets it make any string: what it decodes, or deletes so that
    /// their neighbours meet.
    pub any: ByteSet,
    /// Bytes whose presence lets it make only strings holding a byte of `with`, and add
    /// only bytes of `with`: `t:cmdLine` turns `,` into a space and drops a space before
    /// `/`, so a new string holds a space, a `/` or a `(`.
    pub some: ByteSet,
    pub with: ByteSet,
}

impl Makes {
    /// Makes anything once one of `any` is present.
    pub(crate) const fn any(any: ByteSet) -> Makes {
        Makes {
            any,
            some: ByteSet::EMPTY,
            with: ByteSet::EMPTY,
        }
    }
}

/// A transformation that may change any value and make it longer.
const fn t(name: &'static str, func: TransformFn) -> Transformation {
    Transformation {
        grows: Grows::Longer,
        ..tt(name, func, ByteSet::ALL)
    }
}

/// [`t`] for one that never makes a value longer.
const fn shrinks(name: &'static str, func: TransformFn, grows: Grows) -> Transformation {
    Transformation {
        grows,
        ..tt(name, func, ByteSet::ALL)
    }
}

/// A transformation that leaves a value without any of `triggers` unchanged (and may make
/// anything of one with them).
const fn tt(name: &'static str, func: TransformFn, triggers: ByteSet) -> Transformation {
    tm(name, func, triggers, Makes::any(triggers))
}

/// [`tt`] for a transformation that makes less than anything of its triggers.
const fn tm(
    name: &'static str,
    func: TransformFn,
    triggers: ByteSet,
    makes: Makes,
) -> Transformation {
    Transformation {
        name,
        func,
        triggers,
        makes,
        grows: Grows::Never,
    }
}

/// Makes nothing new: changes letter case, or keeps a part of the value.
const NOTHING: Makes = Makes::any(ByteSet::EMPTY);
/// `+` decodes to a space.
const URL_DECODE: Makes = Makes {
    any: ByteSet::of_list(b"%"),
    some: ByteSet::of_list(b"+"),
    with: ByteSet::of_list(b" "),
};

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
    shrinks("base64Decode", base64_decode::base64_decode, Grows::Base64),
    shrinks(
        "base64DecodeExt",
        base64_decode_ext::base64_decode_ext,
        Grows::Base64,
    ),
    t("base64Encode", base64_encode::base64_encode),
    tm(
        "cmdLine",
        cmd_line::cmd_line,
        UPPER.union(ByteSet::of_list(b"\"'\\^,;\t\r\n ")),
        Makes {
            any: ByteSet::of_list(b"\"'\\^"),
            some: ByteSet::of_list(b",;\t\r\n "),
            with: ByteSet::of_list(b" /("),
        },
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
    shrinks("hexDecode", hex_decode::hex_decode, Grows::Never),
    t("hexEncode", hex_encode::hex_encode),
    tt(
        "htmlEntityDecode",
        html_entity_decode::html_entity_decode,
        ByteSet::of_list(b"&"),
    ),
    tt("jsDecode", js_decode::js_decode, BACKSLASH),
    t("length", length::length),
    tm("lowercase", lowercase::lowercase, UPPER, NOTHING),
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
    shrinks(
        "parityEven7bit",
        parity_even_7bit::parity_even_7bit,
        Grows::Never,
    ),
    shrinks(
        "parityOdd7bit",
        parity_odd_7bit::parity_odd_7bit,
        Grows::Never,
    ),
    shrinks(
        "parityZero7bit",
        parity_zero_7bit::parity_zero_7bit,
        Grows::Never,
    ),
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
    tm("trim", trim::trim, C_SPACE, NOTHING),
    tm("trimLeft", trim_left::trim_left, C_SPACE, NOTHING),
    tm("trimRight", trim_right::trim_right, C_SPACE, NOTHING),
    tm(
        "uppercase",
        uppercase::uppercase,
        ByteSet::range(b'a', b'z'),
        NOTHING,
    ),
    tm(
        "urlDecode",
        url_decode::url_decode,
        PERCENT_PLUS,
        URL_DECODE,
    ),
    tm(
        "urlDecodeUni",
        url_decode_uni::url_decode_uni,
        PERCENT_PLUS,
        URL_DECODE,
    ),
    t("urlEncode", url_encode::url_encode),
    Transformation {
        grows: Grows::Longer,
        ..tt(
            "utf8toUnicode",
            utf8_to_unicode::utf8_to_unicode,
            NUL.union(ByteSet::range(0x80, 0xff)),
        )
    },
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
pub(crate) mod tests;
