//! Rule variable lists (`REQUEST_HEADERS:User-Agent|!ARGS:/^id_/|&TX:x`) and the registry of
//! ModSecurity v3 variable names.

use crate::ast::{VariableKey, VariableSpec};
use crate::suggest;

/// Whether a variable is a collection (takes an optional `:key`) or a single value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A collection: `ARGS`, `ARGS:id`, `ARGS:/^id_/`.
    Collection,
    /// A single value: `REQUEST_URI`; a key is an error.
    Scalar,
}

use Kind::{Collection, Scalar};

/// Every ModSecurity v3 variable, with its kind. Sorted by name.
const VARIABLES: &[(&str, Kind)] = &[
    ("ARGS", Collection),
    ("ARGS_COMBINED_SIZE", Scalar),
    ("ARGS_GET", Collection),
    ("ARGS_GET_NAMES", Collection),
    ("ARGS_NAMES", Collection),
    ("ARGS_POST", Collection),
    ("ARGS_POST_NAMES", Collection),
    ("AUTH_TYPE", Scalar),
    ("DURATION", Scalar),
    ("ENV", Collection),
    ("FILES", Collection),
    ("FILES_COMBINED_SIZE", Scalar),
    ("FILES_NAMES", Collection),
    ("FILES_SIZES", Collection),
    ("FILES_TMPNAMES", Collection),
    ("FILES_TMP_CONTENT", Collection),
    ("FULL_REQUEST", Scalar),
    ("FULL_REQUEST_LENGTH", Scalar),
    ("GEO", Collection),
    ("GLOBAL", Collection),
    ("HIGHEST_SEVERITY", Scalar),
    ("INBOUND_DATA_ERROR", Scalar),
    ("IP", Collection),
    ("MATCHED_VAR", Scalar),
    ("MATCHED_VARS", Collection),
    ("MATCHED_VARS_NAMES", Collection),
    ("MATCHED_VAR_NAME", Scalar),
    ("MODSEC_BUILD", Scalar),
    ("MSC_PCRE_LIMITS_EXCEEDED", Scalar),
    ("MULTIPART_BOUNDARY_QUOTED", Scalar),
    ("MULTIPART_BOUNDARY_WHITESPACE", Scalar),
    ("MULTIPART_CRLF_LF_LINES", Scalar),
    ("MULTIPART_DATA_AFTER", Scalar),
    ("MULTIPART_DATA_BEFORE", Scalar),
    ("MULTIPART_FILENAME", Collection),
    ("MULTIPART_FILE_LIMIT_EXCEEDED", Scalar),
    ("MULTIPART_HEADER_FOLDING", Scalar),
    ("MULTIPART_INVALID_HEADER_FOLDING", Scalar),
    ("MULTIPART_INVALID_PART", Scalar),
    ("MULTIPART_INVALID_QUOTING", Scalar),
    ("MULTIPART_LF_LINE", Scalar),
    ("MULTIPART_MISSING_SEMICOLON", Scalar),
    ("MULTIPART_NAME", Collection),
    ("MULTIPART_PART_HEADERS", Collection),
    ("MULTIPART_SEMICOLON_MISSING", Scalar),
    ("MULTIPART_STRICT_ERROR", Scalar),
    ("MULTIPART_UNMATCHED_BOUNDARY", Scalar),
    ("OUTBOUND_DATA_ERROR", Scalar),
    ("PATH_INFO", Scalar),
    ("QUERY_STRING", Scalar),
    ("REMOTE_ADDR", Scalar),
    ("REMOTE_HOST", Scalar),
    ("REMOTE_PORT", Scalar),
    ("REMOTE_USER", Scalar),
    ("REQBODY_ERROR", Scalar),
    ("REQBODY_ERROR_MSG", Scalar),
    ("REQBODY_PROCESSOR", Scalar),
    ("REQBODY_PROCESSOR_ERROR", Scalar),
    ("REQBODY_PROCESSOR_ERROR_MSG", Scalar),
    ("REQUEST_BASENAME", Scalar),
    ("REQUEST_BODY", Scalar),
    ("REQUEST_BODY_LENGTH", Scalar),
    ("REQUEST_COOKIES", Collection),
    ("REQUEST_COOKIES_NAMES", Collection),
    ("REQUEST_FILENAME", Scalar),
    ("REQUEST_HEADERS", Collection),
    ("REQUEST_HEADERS_NAMES", Collection),
    ("REQUEST_LINE", Scalar),
    ("REQUEST_METHOD", Scalar),
    ("REQUEST_PROTOCOL", Scalar),
    ("REQUEST_URI", Scalar),
    ("REQUEST_URI_RAW", Scalar),
    ("RESOURCE", Collection),
    ("RESPONSE_BODY", Scalar),
    ("RESPONSE_CONTENT_LENGTH", Scalar),
    ("RESPONSE_CONTENT_TYPE", Scalar),
    ("RESPONSE_HEADERS", Collection),
    ("RESPONSE_HEADERS_NAMES", Collection),
    ("RESPONSE_PROTOCOL", Scalar),
    ("RESPONSE_STATUS", Scalar),
    ("RULE", Collection),
    ("SERVER_ADDR", Scalar),
    ("SERVER_NAME", Scalar),
    ("SERVER_PORT", Scalar),
    ("SESSION", Collection),
    ("SESSIONID", Scalar),
    ("STATUS", Scalar),
    ("STATUS_LINE", Scalar),
    ("TIME", Scalar),
    ("TIME_DAY", Scalar),
    ("TIME_EPOCH", Scalar),
    ("TIME_HOUR", Scalar),
    ("TIME_MIN", Scalar),
    ("TIME_MON", Scalar),
    ("TIME_SEC", Scalar),
    ("TIME_WDAY", Scalar),
    ("TIME_YEAR", Scalar),
    ("TX", Collection),
    ("UNIQUE_ID", Scalar),
    ("URLENCODED_ERROR", Scalar),
    ("USER", Collection),
    ("USERID", Scalar),
    ("WEBAPPID", Scalar),
    ("XML", Collection),
];

/// Variables of ModSecurity v2 that v3 (and sekisho) reject, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "WEBSERVER_ERROR_LOG",
        "the web server's error log is not available to the WAF",
    ),
    (
        "STREAM_INPUT_BODY",
        "stream body rewriting is not supported",
    ),
    (
        "STREAM_OUTPUT_BODY",
        "stream body rewriting is not supported",
    ),
    (
        "SCRIPT_FILENAME",
        "there is no local script: sekisho is a gateway",
    ),
    ("USERAGENT_IP", "not available in ModSecurity v3"),
];

/// Every known variable name, upper case (for engine-side checks and documentation).
pub fn variable_names() -> impl Iterator<Item = &'static str> {
    VARIABLES.iter().map(|(name, _)| *name)
}

/// Parses a `|`-separated variable list such as `ARGS|!ARGS:id|&TX:/^x_/`.
///
/// `|` inside a single-quoted key (`ARGS:'/a|b/'`) does not separate; blanks around `|` are
/// ignored. Returns the first error message (without location).
pub(crate) fn parse_variables(text: &str) -> Result<Vec<VariableSpec>, String> {
    let mut out = Vec::new();
    for part in split_unquoted(text, '|') {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!("empty variable in `{text}`"));
        }
        out.push(parse_variable(part)?);
    }
    Ok(out)
}

/// Splits on `sep` outside single quotes (a `\'` does not open or close a quote).
pub(crate) fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quote = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '\'' {
            in_quote = !in_quote;
        } else if c == sep && !in_quote {
            parts.push(text.get(start..i).unwrap_or_default());
            start = i + c.len_utf8();
        }
    }
    parts.push(text.get(start..).unwrap_or_default());
    parts
}

/// Parses one entry: `[!|&]NAME[(:|.)KEY]`.
fn parse_variable(text: &str) -> Result<VariableSpec, String> {
    let mut rest = text;
    let mut negated = false;
    let mut count = false;
    loop {
        if let Some(r) = rest.strip_prefix('!') {
            if negated {
                return Err(format!("variable `{text}` has `!` twice"));
            }
            negated = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('&') {
            if count {
                return Err(format!("variable `{text}` has `&` twice"));
            }
            count = true;
            rest = r;
        } else {
            break;
        }
    }
    let name_end = rest.find([':', '.']).unwrap_or(rest.len());
    let (raw_name, raw_key) = rest.split_at(name_end);
    let name = raw_name.to_ascii_uppercase();
    let Some((_, kind)) = VARIABLES.iter().find(|(known, _)| *known == name) else {
        if let Some((_, reason)) = UNSUPPORTED.iter().find(|(known, _)| *known == name) {
            return Err(format!("variable `{raw_name}` is not supported: {reason}"));
        }
        if raw_name.is_empty() {
            return Err(format!("missing variable name in `{text}`"));
        }
        return Err(format!(
            "unknown variable `{raw_name}`{}",
            suggest::hint(raw_name, variable_names())
        ));
    };
    // The separator is one char (`:` or `.`), so slicing after it is on a boundary.
    let key_text = raw_key.get(1..).unwrap_or_default();
    let key = if raw_key.is_empty() {
        None
    } else if *kind == Scalar {
        return Err(format!(
            "variable `{name}` is not a collection and takes no key, got `{text}`"
        ));
    } else if key_text.is_empty() {
        return Err(format!("empty key after `{name}` in `{text}`"));
    } else {
        Some(parse_key(&name, key_text)?)
    };
    Ok(VariableSpec {
        negated,
        count,
        name,
        key,
    })
}

/// Parses a key: `'quoted'`, `/regex/` (except for `XML`, whose keys are XPath), or literal.
fn parse_key(name: &str, text: &str) -> Result<VariableKey, String> {
    let unquoted = if let Some(inner) = text.strip_prefix('\'') {
        let Some(inner) = inner.strip_suffix('\'') else {
            return Err(format!("unclosed `'` in variable key `{text}`"));
        };
        inner.replace("\\'", "'")
    } else {
        text.to_owned()
    };
    if name != "XML" && unquoted.len() >= 2 && unquoted.starts_with('/') && unquoted.ends_with('/')
    {
        let regex = unquoted.get(1..unquoted.len() - 1).unwrap_or_default();
        return Ok(VariableKey::Regex(regex.to_owned()));
    }
    Ok(VariableKey::Literal(unquoted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(name: &str, key: &str) -> VariableSpec {
        VariableSpec {
            negated: false,
            count: false,
            name: name.into(),
            key: Some(VariableKey::Literal(key.into())),
        }
    }

    #[test]
    fn registry_is_sorted_and_unique() {
        let names: Vec<_> = variable_names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn parses_lists_with_keys_negation_and_count() {
        let vars = parse_variables("REQUEST_HEADERS:User-Agent | !ARGS:id|&tx:/^x_/|ARGS").unwrap();
        assert_eq!(vars[0], lit("REQUEST_HEADERS", "User-Agent"));
        assert!(vars[1].negated && vars[1].key == Some(VariableKey::Literal("id".into())));
        assert!(vars[2].count && vars[2].name == "TX");
        assert_eq!(vars[2].key, Some(VariableKey::Regex("^x_".into())));
        assert_eq!(vars[3].key, None);
    }

    #[test]
    fn quoted_regex_keys_may_contain_pipes() {
        let vars = parse_variables("ARGS:'/a|b/'|TX.score").unwrap();
        assert_eq!(vars[0].key, Some(VariableKey::Regex("a|b".into())));
        assert_eq!(vars[1], lit("TX", "score"));
    }

    #[test]
    fn xml_keys_are_xpath_not_regex() {
        let vars = parse_variables("XML:/*|XML://@*").unwrap();
        assert_eq!(vars[0], lit("XML", "/*"));
        assert_eq!(vars[1], lit("XML", "//@*"));
    }

    #[test]
    fn keys_keep_colons_and_slashes() {
        let vars = parse_variables("REQUEST_HEADERS:x:y/z").unwrap();
        assert_eq!(vars[0], lit("REQUEST_HEADERS", "x:y/z"));
    }

    #[test]
    fn rejects_unknown_scalar_keys_and_empties() {
        let err = parse_variables("ARGS|REQUEST_HEADER:x").unwrap_err();
        assert_eq!(
            err,
            "unknown variable `REQUEST_HEADER` (did you mean `REQUEST_HEADERS`?)"
        );
        assert!(parse_variables("REQUEST_URI:x")
            .unwrap_err()
            .contains("takes no key"));
        assert!(parse_variables("ARGS||TX")
            .unwrap_err()
            .contains("empty variable"));
        assert!(parse_variables("ARGS:").unwrap_err().contains("empty key"));
        assert!(parse_variables("WEBSERVER_ERROR_LOG")
            .unwrap_err()
            .contains("not supported"));
    }
}
