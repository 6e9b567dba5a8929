//! SecLang variables (`ARGS`, `REQUEST_HEADERS`, `TX`, …): a static registry mapping each
//! name to a [`Var`], and one file per family that reads it from the transaction data.

mod args;
mod body;
mod connection;
mod headers;
mod matched;
mod request_line;
mod response;
mod stores;
mod time;

use crate::collection::KeySel;
use crate::transaction::data::TxData;
use std::borrow::Cow;

/// Every variable the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Var {
    Args,
    ArgsNames,
    ArgsGet,
    ArgsGetNames,
    ArgsPost,
    ArgsPostNames,
    ArgsCombinedSize,
    RequestHeaders,
    RequestHeadersNames,
    RequestCookies,
    RequestCookiesNames,
    ResponseHeaders,
    ResponseHeadersNames,
    RequestLine,
    RequestMethod,
    RequestProtocol,
    RequestUri,
    RequestUriRaw,
    RequestFilename,
    RequestBasename,
    QueryString,
    FullRequest,
    FullRequestLength,
    RequestBody,
    RequestBodyLength,
    ReqbodyProcessor,
    ReqbodyError,
    ReqbodyErrorMsg,
    ReqbodyProcessorError,
    InboundDataError,
    UrlencodedError,
    Files,
    FilesNames,
    FilesSizes,
    FilesCombinedSize,
    FilesTmpnames,
    FilesTmpContent,
    MultipartStrictError,
    MultipartUnmatchedBoundary,
    MultipartBoundaryQuoted,
    MultipartBoundaryWhitespace,
    MultipartDataAfter,
    MultipartDataBefore,
    MultipartFileLimitExceeded,
    MultipartHeaderFolding,
    MultipartInvalidHeaderFolding,
    MultipartInvalidPart,
    MultipartInvalidQuoting,
    MultipartLfLine,
    MultipartMissingSemicolon,
    MultipartCrlfLfLines,
    MultipartFilename,
    MultipartName,
    MultipartPartHeaders,
    Xml,
    ResponseBody,
    ResponseStatus,
    ResponseProtocol,
    ResponseContentType,
    ResponseContentLength,
    StatusLine,
    OutboundDataError,
    RemoteAddr,
    RemotePort,
    RemoteHost,
    RemoteUser,
    ServerAddr,
    ServerPort,
    ServerName,
    UniqueId,
    AuthType,
    Duration,
    Time,
    TimeDay,
    TimeEpoch,
    TimeHour,
    TimeMin,
    TimeMon,
    TimeSec,
    TimeWday,
    TimeYear,
    MatchedVar,
    MatchedVarName,
    MatchedVars,
    MatchedVarsNames,
    HighestSeverity,
    Rule,
    Tx,
    Ip,
    Global,
    Session,
    User,
    Resource,
    Geo,
    Env,
    WebserverErrorLog,
    ModsecBuild,
    WebAppId,
    PathInfo,
    SessionId,
    UserId,
    MscPcreLimitsExceeded,
}

/// Registry entry: the SecLang name and whether the variable is a collection (takes `:key`).
pub struct VarDef {
    pub name: &'static str,
    pub var: Var,
    pub collection: bool,
}

macro_rules! defs {
    ($($name:literal => $var:ident, $coll:literal;)*) => {
        /// Every variable, by its SecLang name.
        pub static VARIABLES: &[VarDef] = &[$(VarDef { name: $name, var: Var::$var, collection: $coll },)*];
    };
}

defs! {
    "ARGS" => Args, true;
    "ARGS_NAMES" => ArgsNames, true;
    "ARGS_GET" => ArgsGet, true;
    "ARGS_GET_NAMES" => ArgsGetNames, true;
    "ARGS_POST" => ArgsPost, true;
    "ARGS_POST_NAMES" => ArgsPostNames, true;
    "ARGS_COMBINED_SIZE" => ArgsCombinedSize, false;
    "REQUEST_HEADERS" => RequestHeaders, true;
    "REQUEST_HEADERS_NAMES" => RequestHeadersNames, true;
    "REQUEST_COOKIES" => RequestCookies, true;
    "REQUEST_COOKIES_NAMES" => RequestCookiesNames, true;
    "RESPONSE_HEADERS" => ResponseHeaders, true;
    "RESPONSE_HEADERS_NAMES" => ResponseHeadersNames, true;
    "REQUEST_LINE" => RequestLine, false;
    "REQUEST_METHOD" => RequestMethod, false;
    "REQUEST_PROTOCOL" => RequestProtocol, false;
    "REQUEST_URI" => RequestUri, false;
    "REQUEST_URI_RAW" => RequestUriRaw, false;
    "REQUEST_FILENAME" => RequestFilename, false;
    "REQUEST_BASENAME" => RequestBasename, false;
    "QUERY_STRING" => QueryString, false;
    "FULL_REQUEST" => FullRequest, false;
    "FULL_REQUEST_LENGTH" => FullRequestLength, false;
    "REQUEST_BODY" => RequestBody, false;
    "REQUEST_BODY_LENGTH" => RequestBodyLength, false;
    "REQBODY_PROCESSOR" => ReqbodyProcessor, false;
    "REQBODY_ERROR" => ReqbodyError, false;
    "REQBODY_ERROR_MSG" => ReqbodyErrorMsg, false;
    "REQBODY_PROCESSOR_ERROR" => ReqbodyProcessorError, false;
    "INBOUND_DATA_ERROR" => InboundDataError, false;
    "URLENCODED_ERROR" => UrlencodedError, false;
    "FILES" => Files, true;
    "FILES_NAMES" => FilesNames, true;
    "FILES_SIZES" => FilesSizes, true;
    "FILES_COMBINED_SIZE" => FilesCombinedSize, false;
    "FILES_TMPNAMES" => FilesTmpnames, true;
    "FILES_TMP_CONTENT" => FilesTmpContent, true;
    "MULTIPART_STRICT_ERROR" => MultipartStrictError, false;
    "MULTIPART_UNMATCHED_BOUNDARY" => MultipartUnmatchedBoundary, false;
    "MULTIPART_BOUNDARY_QUOTED" => MultipartBoundaryQuoted, false;
    "MULTIPART_BOUNDARY_WHITESPACE" => MultipartBoundaryWhitespace, false;
    "MULTIPART_DATA_AFTER" => MultipartDataAfter, false;
    "MULTIPART_DATA_BEFORE" => MultipartDataBefore, false;
    "MULTIPART_FILE_LIMIT_EXCEEDED" => MultipartFileLimitExceeded, false;
    "MULTIPART_HEADER_FOLDING" => MultipartHeaderFolding, false;
    "MULTIPART_INVALID_HEADER_FOLDING" => MultipartInvalidHeaderFolding, false;
    "MULTIPART_INVALID_PART" => MultipartInvalidPart, false;
    "MULTIPART_INVALID_QUOTING" => MultipartInvalidQuoting, false;
    "MULTIPART_LF_LINE" => MultipartLfLine, false;
    "MULTIPART_MISSING_SEMICOLON" => MultipartMissingSemicolon, false;
    "MULTIPART_CRLF_LF_LINES" => MultipartCrlfLfLines, false;
    "MULTIPART_FILENAME" => MultipartFilename, true;
    "MULTIPART_NAME" => MultipartName, true;
    "MULTIPART_PART_HEADERS" => MultipartPartHeaders, true;
    "XML" => Xml, true;
    "RESPONSE_BODY" => ResponseBody, false;
    "RESPONSE_STATUS" => ResponseStatus, false;
    "RESPONSE_PROTOCOL" => ResponseProtocol, false;
    "RESPONSE_CONTENT_TYPE" => ResponseContentType, false;
    "RESPONSE_CONTENT_LENGTH" => ResponseContentLength, false;
    "STATUS_LINE" => StatusLine, false;
    "OUTBOUND_DATA_ERROR" => OutboundDataError, false;
    "REMOTE_ADDR" => RemoteAddr, false;
    "REMOTE_PORT" => RemotePort, false;
    "REMOTE_HOST" => RemoteHost, false;
    "REMOTE_USER" => RemoteUser, false;
    "SERVER_ADDR" => ServerAddr, false;
    "SERVER_PORT" => ServerPort, false;
    "SERVER_NAME" => ServerName, false;
    "UNIQUE_ID" => UniqueId, false;
    "AUTH_TYPE" => AuthType, false;
    "DURATION" => Duration, false;
    "TIME" => Time, false;
    "TIME_DAY" => TimeDay, false;
    "TIME_EPOCH" => TimeEpoch, false;
    "TIME_HOUR" => TimeHour, false;
    "TIME_MIN" => TimeMin, false;
    "TIME_MON" => TimeMon, false;
    "TIME_SEC" => TimeSec, false;
    "TIME_WDAY" => TimeWday, false;
    "TIME_YEAR" => TimeYear, false;
    "MATCHED_VAR" => MatchedVar, false;
    "MATCHED_VAR_NAME" => MatchedVarName, false;
    "MATCHED_VARS" => MatchedVars, true;
    "MATCHED_VARS_NAMES" => MatchedVarsNames, true;
    "HIGHEST_SEVERITY" => HighestSeverity, false;
    "RULE" => Rule, true;
    "TX" => Tx, true;
    "IP" => Ip, true;
    "GLOBAL" => Global, true;
    "SESSION" => Session, true;
    "USER" => User, true;
    "RESOURCE" => Resource, true;
    "GEO" => Geo, true;
    "ENV" => Env, true;
    "WEBSERVER_ERROR_LOG" => WebserverErrorLog, true;
    "MODSEC_BUILD" => ModsecBuild, false;
    "WEBAPPID" => WebAppId, false;
    "PATH_INFO" => PathInfo, false;
    "SESSIONID" => SessionId, false;
    "USERID" => UserId, false;
    "MSC_PCRE_LIMITS_EXCEEDED" => MscPcreLimitsExceeded, false;
}

/// Other names of registry variables (ModSecurity v2/v3 spell some differently).
static ALIASES: &[(&str, &str)] = &[
    ("STATUS", "RESPONSE_STATUS"),
    ("MULTIPART_SEMICOLON_MISSING", "MULTIPART_MISSING_SEMICOLON"),
    ("REQBODY_PROCESSOR_ERROR_MSG", "REQBODY_ERROR_MSG"),
];

/// Looks a variable up by name, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static VarDef> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, canonical)| canonical);
    VARIABLES.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

impl Var {
    pub fn def(self) -> Option<&'static VarDef> {
        // The registry lists the variables in declaration order (a test checks it), so the
        // discriminant is the index; the search is only a fallback.
        VARIABLES
            .get(self as usize)
            .filter(|d| d.var == self)
            .or_else(|| VARIABLES.iter().find(|d| d.var == self))
    }

    pub fn name(self) -> &'static str {
        self.def().map_or("", |d| d.name)
    }

    pub fn is_collection(self) -> bool {
        self.def().is_some_and(|d| d.collection)
    }
}

/// The values of a rule's variables: most rules get a few, kept inline (no allocation).
pub type Values<'a> = smallvec::SmallVec<[VarValue<'a>; 24]>;

/// One value a variable yielded: what operators test.
#[derive(Debug, Clone)]
pub struct VarValue<'a> {
    pub var: Var,
    /// Member key for collections (empty for scalars).
    pub key: Cow<'a, [u8]>,
    pub value: Cow<'a, [u8]>,
}

impl VarValue<'_> {
    /// `ARGS:foo`, `REQUEST_URI`: what `MATCHED_VAR_NAME` shows.
    pub fn full_name(&self) -> String {
        let name = self.var.name();
        if self.key.is_empty() || !self.var.is_collection() {
            return name.to_string();
        }
        // Keys are almost always valid UTF-8: checking that is cheaper than the lossy pass.
        let key = match std::str::from_utf8(&self.key) {
            Ok(k) => Cow::Borrowed(k),
            Err(_) => String::from_utf8_lossy(&self.key),
        };
        let mut s = String::with_capacity(name.len() + 1 + key.len());
        s.push_str(name);
        s.push(':');
        s.push_str(&key);
        s
    }
}

/// Context variables need beside the data (the rule being run, for `RULE`).
pub struct RuleInfo<'a> {
    pub id: u64,
    pub msg: &'a str,
    pub severity: Option<u8>,
    pub rev: &'a str,
    pub ver: &'a str,
    pub phase: u8,
}

fn push<'a>(out: &mut Values<'a>, var: Var, value: Cow<'a, [u8]>) {
    out.push(VarValue {
        var,
        key: Cow::Borrowed(&[]),
        value,
    });
}

fn push_num(out: &mut Values<'_>, var: Var, n: impl std::fmt::Display) {
    push(out, var, Cow::Owned(n.to_string().into_bytes()));
}

fn push_members<'a>(
    out: &mut Values<'a>,
    var: Var,
    names: bool,
    it: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) {
    out.extend(it.map(|(k, v)| VarValue {
        var,
        key: Cow::Borrowed(k),
        value: Cow::Borrowed(if names { k } else { v }),
    }));
}

/// Appends every value `var` (restricted by `sel`) yields.
pub fn collect<'a>(
    var: Var,
    sel: &'a KeySel,
    data: &'a TxData,
    rule: &RuleInfo<'_>,
    out: &mut Values<'a>,
) {
    // Rule-written stores first: `TX` is what most rules of a rule set like the CRS read.
    if stores::collect(var, sel, data, out)
        || args::collect(var, sel, data, out)
        || headers::collect(var, sel, data, out)
        || request_line::collect(var, data, out)
        || body::collect(var, sel, data, out)
        || response::collect(var, data, out)
        || connection::collect(var, data, out)
        || time::collect(var, data, out)
        || matched::collect(var, sel, data, rule, out)
    {
        return;
    }
    match var {
        Var::ModsecBuild => push(out, var, Cow::Borrowed(b"030012000")),
        Var::WebAppId => push(out, var, Cow::Borrowed(data.web_app_id.as_bytes())),
        // Linear-time regexes have no backtracking limit to exceed.
        Var::MscPcreLimitsExceeded => push(out, var, Cow::Borrowed(b"0")),
        Var::SessionId if !data.session_id.is_empty() => {
            push(out, var, Cow::Borrowed(&data.session_id));
        }
        Var::UserId if !data.user_id.is_empty() => push(out, var, Cow::Borrowed(&data.user_id)),
        // PATH_INFO: a gateway maps no script, so there is no extra path; it stays empty.
        _ => {}
    }
}

/// The single value of a scalar variable or `VAR:key`, for macro expansion.
pub fn first_value(var: Var, sel: &KeySel, data: &TxData, rule: &RuleInfo<'_>) -> Option<Vec<u8>> {
    let mut out = Values::new();
    collect(var, sel, data, rule, &mut out);
    out.into_iter().next().map(|v| v.value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_one_entry() {
        for d in VARIABLES {
            assert_eq!(
                VARIABLES.iter().filter(|e| e.var == d.var).count(),
                1,
                "{}",
                d.name
            );
            assert!(std::ptr::eq(d.var.def().unwrap(), d));
        }
    }

    #[test]
    fn registry_is_in_declaration_order() {
        for (i, d) in VARIABLES.iter().enumerate() {
            assert_eq!(d.var as usize, i, "{} is out of order", d.name);
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(
            lookup("request_headers").map(|d| d.var),
            Some(Var::RequestHeaders)
        );
        assert!(lookup("NOPE").is_none());
        assert_eq!(lookup("status").map(|d| d.var), Some(Var::ResponseStatus));
    }

    /// Every variable the SecLang parser accepts is one the engine knows.
    #[test]
    fn parser_and_engine_agree_on_names() {
        for name in sekisho_seclang::variable_names() {
            assert!(
                lookup(name).is_some(),
                "`{name}` parses but the engine does not know it"
            );
        }
        for d in VARIABLES
            .iter()
            .filter(|d| sekisho_seclang::variable_names().any(|n| n == d.name))
        {
            let parsed = sekisho_seclang::parse_str(
                &format!("SecRule {}:x \"@rx a\" \"id:1,phase:1,pass\"", d.name),
                std::path::Path::new("t.conf"),
            );
            assert_eq!(
                parsed.is_ok(),
                d.collection,
                "`{}`: collection or not",
                d.name
            );
        }
    }
}
