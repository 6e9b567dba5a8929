//! SecLang operators (`@name arg`): one file each, listed in [`OPERATORS`].
//!
//! Each follows ModSecurity v3's semantics. Operators that cannot work offline or are unsafe
//! are listed in [`UNSUPPORTED`] and refused by [`build`] with the reason.

mod begins_with;
mod contains;
mod contains_word;
mod detect_sqli;
mod detect_xss;
mod ends_with;
mod eq;
mod ge;
mod geo_lookup;
mod gt;
mod ip_match;
mod ip_match_from_file;
mod le;
mod lt;
mod no_match;
pub(crate) mod number;
mod pm;
mod pm_from_file;
pub mod rx;
mod rx_global;
mod streq;
mod strmatch;
mod unconditional_match;
mod validate_byte_range;
mod validate_url_encoding;
mod validate_utf8_encoding;
mod verify_cc;
mod verify_cpf;
mod verify_ssn;
mod verify_svnr;
mod within;

use std::path::Path;

/// Capture groups of a match (`TX.0` … `TX.9`).
pub type Captures = Vec<Vec<u8>>;

/// What an operator may need when it is built.
#[derive(Debug, Clone, Copy)]
pub struct OperatorEnv<'a> {
    /// Directory of the rule file, for `@pmFromFile`, `@ipMatchFromFile`, …
    pub base_dir: &'a Path,
    /// MaxMind database from `SecGeoLookupDb`, for `@geoLookup`.
    pub geo_db: Option<&'a Path>,
}

/// What a match produces beside its verdict.
#[derive(Debug, Default)]
pub struct MatchOutput {
    /// Set by the engine when the rule has `capture`: the operator then fills `captures`.
    pub want_captures: bool,
    /// Group 0 is the whole match; at most 10 groups are kept.
    pub captures: Captures,
    /// Filled by `@geoLookup`: the fields of the `GEO` collection (e.g. `COUNTRY_CODE`).
    pub geo: Vec<(&'static str, String)>,
    /// Where `@rx`'s capture groups matched: kept from one search to the next, as a fresh
    /// set of positions per search was an allocation per capturing match.
    pub slots: Vec<Option<regex_automata::util::primitives::NonMaxUsize>>,
}

impl MatchOutput {
    /// Records `text` as the only capture (`TX.0`) when captures are wanted.
    pub(crate) fn capture0(&mut self, text: &[u8]) {
        if self.want_captures {
            self.captures.clear();
            self.captures.push(text.to_vec());
        }
    }
}

/// A compiled operator. Negation (`!@op`) is the engine's job, not the operator's.
pub trait Operator: Send + Sync + std::fmt::Debug {
    /// Tests one value.
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool;

    /// Byte strings one of which every input this operator matches contains (compared ASCII
    /// case-insensitively), or `None` when there is no such set. The engine's prefilter
    /// skips a rule when a value contains none of them, so the set must never be too small.
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        None
    }
}

/// Builds an operator from its (macro-expanded) argument.
pub type Constructor = fn(&str, &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String>;

/// Every supported operator, by its SecLang name (aliases included).
pub static OPERATORS: &[(&str, Constructor)] = &[
    ("beginsWith", begins_with::build),
    ("contains", contains::build),
    ("containsWord", contains_word::build),
    ("detectSQLi", detect_sqli::build),
    ("detectXSS", detect_xss::build),
    ("endsWith", ends_with::build),
    ("eq", eq::build),
    ("ge", ge::build),
    ("geoLookup", geo_lookup::build),
    ("gt", gt::build),
    ("ipMatch", ip_match::build),
    ("ipMatchF", ip_match_from_file::build),
    ("ipMatchFromFile", ip_match_from_file::build),
    ("le", le::build),
    ("lt", lt::build),
    ("noMatch", no_match::build),
    ("pm", pm::build),
    ("pmf", pm_from_file::build),
    ("pmFromFile", pm_from_file::build),
    ("rx", rx::build),
    ("rxGlobal", rx_global::build),
    ("streq", streq::build),
    ("strmatch", strmatch::build),
    ("unconditionalMatch", unconditional_match::build),
    ("validateByteRange", validate_byte_range::build),
    ("validateUrlEncoding", validate_url_encoding::build),
    ("validateUtf8Encoding", validate_utf8_encoding::build),
    ("verifyCC", verify_cc::build),
    ("verifyCPF", verify_cpf::build),
    ("verifySSN", verify_ssn::build),
    ("verifySVNR", verify_svnr::build),
    ("within", within::build),
];

/// ModSecurity operators this engine refuses, with the reason given to the user.
pub static UNSUPPORTED: &[(&str, &str)] = &[
    ("fuzzyHash", "it needs the ssdeep library"),
    (
        "gsbLookup",
        "it needs Google Safe Browsing over the network",
    ),
    ("inspectFile", "it runs external programs"),
    ("rbl", "it needs DNS lookups"),
    (
        "rsub",
        "it rewrites stream data, which this engine does not do",
    ),
    ("validateDTD", "it needs an XML DTD validator (libxml2)"),
    (
        "validateHash",
        "it needs response rewriting (SecHashEngine), which this engine does not do",
    ),
    (
        "validateSchema",
        "it needs an XML Schema validator (libxml2)",
    ),
];

/// Builds the operator `name` (without `@`, any case) with its argument. The argument has
/// its macros (`%{tx.x}`) already expanded: the engine rebuilds operators whose argument
/// holds a macro at evaluation time.
pub fn build(name: &str, arg: &str, env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    if let Some((_, ctor)) = OPERATORS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return ctor(arg, env);
    }
    if let Some((n, why)) = UNSUPPORTED
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return Err(format!("`@{n}` is not supported: {why}"));
    }
    Err(format!("unknown operator `@{name}`"))
}

/// Whether `name` is an operator [`build`] knows (any case), supported or not.
pub fn is_known(name: &str) -> bool {
    OPERATORS.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        || UNSUPPORTED
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
pub(crate) fn test_env() -> OperatorEnv<'static> {
    OperatorEnv {
        base_dir: Path::new(tests::CRS_RULES),
        geo_db: None,
    }
}

#[cfg(test)]
pub(crate) mod tests;
