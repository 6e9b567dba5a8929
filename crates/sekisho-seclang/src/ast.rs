//! The SecLang abstract syntax tree: one [`Directive`] per configuration directive, in source
//! order, with `Include` already resolved and chained rules already attached to their starter.
//!
//! Names are canonicalised so the engine never re-parses text: directive kinds are enum
//! variants, variable names upper case, operator and action names lower case. Values (operator
//! arguments, action values, variable keys) are kept exactly as written, minus SecLang quoting.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Where a directive comes from: the file and the line its first physical line is on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file the directive was read from (the `origin_path` for [`crate::parse_str`]).
    pub file: Arc<Path>,
    /// 1-based line of the directive's first physical line (continuations do not count);
    /// 0 means the whole file (e.g. it could not be read).
    pub line: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// One configuration directive and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Location of the directive's first line.
    pub span: Span,
    /// What the directive says.
    pub kind: DirectiveKind,
}

/// Every SecLang directive sekisho understands (`Include` is resolved by the parser and never
/// appears here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectiveKind {
    /// `SecRule VARIABLES OPERATOR [ACTIONS]`, with its chain attached.
    Rule(Rule),
    /// `SecAction ACTIONS`: a [`Rule`] with no variables and the `unconditionalmatch` operator.
    Action(Rule),
    /// `SecMarker NAME`: a `skipAfter` target.
    Marker(String),
    /// `SecDefaultAction ACTIONS`: default actions of every later rule of the same phase.
    DefaultAction(Vec<Action>),

    /// `SecRuleEngine On|Off|DetectionOnly`.
    RuleEngine(EngineMode),
    /// `SecRequestBodyAccess On|Off`.
    RequestBodyAccess(bool),
    /// `SecResponseBodyAccess On|Off`.
    ResponseBodyAccess(bool),
    /// `SecResponseBodyMimeType TYPE...`: adds MIME types whose response bodies are inspected.
    ResponseBodyMimeType(Vec<String>),
    /// `SecResponseBodyMimeTypesClear`: empties the inspected response MIME type list.
    ResponseBodyMimeTypesClear,
    /// `SecRequestBodyLimit BYTES`.
    RequestBodyLimit(u64),
    /// `SecRequestBodyNoFilesLimit BYTES`: request body limit excluding uploaded files.
    RequestBodyNoFilesLimit(u64),
    /// `SecRequestBodyInMemoryLimit BYTES` (accepted; bodies are always held in memory).
    RequestBodyInMemoryLimit(u64),
    /// `SecRequestBodyLimitAction Reject|ProcessPartial`.
    RequestBodyLimitAction(BodyLimitAction),
    /// `SecRequestBodyJsonDepthLimit DEPTH`.
    RequestBodyJsonDepthLimit(u64),
    /// `SecArgumentsLimit COUNT`: maximum number of arguments parsed from a request body.
    ArgumentsLimit(u64),
    /// `SecResponseBodyLimit BYTES`.
    ResponseBodyLimit(u64),
    /// `SecResponseBodyLimitAction Reject|ProcessPartial`.
    ResponseBodyLimitAction(BodyLimitAction),
    /// `SecPcreMatchLimit N` (accepted; the regex engine is linear-time).
    PcreMatchLimit(u64),
    /// `SecPcreMatchLimitRecursion N` (accepted; the regex engine is linear-time).
    PcreMatchLimitRecursion(u64),

    /// `SecRuleRemoveById ID|RANGE...`.
    RuleRemoveById(Vec<IdRange>),
    /// `SecRuleRemoveByTag TAG`.
    RuleRemoveByTag(String),
    /// `SecRuleRemoveByMsg MSG`.
    RuleRemoveByMsg(String),
    /// `SecRuleUpdateTargetById ID|RANGE TARGETS [REPLACED]`.
    RuleUpdateTargetById {
        /// Rules to update.
        ids: Vec<IdRange>,
        /// Targets to add (or, when `negated`, to exclude).
        targets: Vec<VariableSpec>,
        /// The optional third argument: the target that `targets` replace.
        replace: Option<VariableSpec>,
    },
    /// `SecRuleUpdateTargetByTag TAG TARGETS`.
    RuleUpdateTargetByTag {
        /// Tag of the rules to update.
        tag: String,
        /// Targets to add (or, when `negated`, to exclude).
        targets: Vec<VariableSpec>,
    },
    /// `SecRuleUpdateTargetByMsg MSG TARGETS`.
    RuleUpdateTargetByMsg {
        /// Message of the rules to update.
        msg: String,
        /// Targets to add (or, when `negated`, to exclude).
        targets: Vec<VariableSpec>,
    },
    /// `SecRuleUpdateActionById ID ACTIONS`.
    RuleUpdateActionById {
        /// Rule to update.
        id: u64,
        /// Actions that replace the rule's actions of the same kind.
        actions: Vec<Action>,
    },

    /// `SecComponentSignature TEXT`.
    ComponentSignature(String),
    /// `SecServerSignature TEXT`.
    ServerSignature(String),
    /// `SecWebAppId NAME`.
    WebAppId(String),
    /// `SecArgumentSeparator CHAR`.
    ArgumentSeparator(char),
    /// `SecCookieFormat 0|1` (cookie version).
    CookieFormat(u8),
    /// `SecCollectionTimeout SECONDS`.
    CollectionTimeout(u64),
    /// `SecStatusEngine On|Off` (accepted; sekisho never phones home).
    StatusEngine(bool),
    /// `SecXmlExternalEntity On|Off`.
    XmlExternalEntity(bool),
    /// `SecHttpBlKey KEY` (accepted; `@rbl` needs DNS and is unsupported).
    HttpBlKey(String),
    /// `SecGeoLookupDb PATH` (MaxMind mmdb for `@geoLookup`), resolved against the file's dir.
    GeoLookupDb(String),
    /// `SecUnicodeMapFile PATH [CODEPAGE]`.
    UnicodeMapFile {
        /// The map file as written.
        path: String,
        /// The code page, when given.
        code_page: Option<u32>,
    },

    /// `SecAuditEngine On|Off|RelevantOnly`.
    AuditEngine(AuditEngineMode),
    /// `SecAuditLog PATH`.
    AuditLog(String),
    /// `SecAuditLog2 PATH`.
    AuditLog2(String),
    /// `SecAuditLogParts PARTS` such as `ABIJDEFHZ`.
    AuditLogParts(String),
    /// `SecAuditLogType Serial|Concurrent|HTTPS`.
    AuditLogType(AuditLogType),
    /// `SecAuditLogFormat JSON|Native`.
    AuditLogFormat(AuditLogFormat),
    /// `SecAuditLogRelevantStatus REGEX`.
    AuditLogRelevantStatus(String),
    /// `SecAuditLogStorageDir PATH`.
    AuditLogStorageDir(String),
    /// `SecAuditLogDirMode OCTAL|default`; `None` means `default`.
    AuditLogDirMode(Option<u32>),
    /// `SecAuditLogFileMode OCTAL|default`; `None` means `default`.
    AuditLogFileMode(Option<u32>),

    /// `SecDebugLog PATH`.
    DebugLog(String),
    /// `SecDebugLogLevel 0..9`.
    DebugLogLevel(u8),
    /// `SecTmpDir PATH`.
    TmpDir(String),
    /// `SecDataDir PATH`.
    DataDir(String),
    /// `SecUploadDir PATH`.
    UploadDir(String),
    /// `SecUploadKeepFiles On|Off|RelevantOnly`.
    UploadKeepFiles(AuditEngineMode),
    /// `SecUploadFileLimit COUNT`.
    UploadFileLimit(u64),
    /// `SecUploadFileMode OCTAL|default`; `None` means `default`.
    UploadFileMode(Option<u32>),
    /// `SecTmpSaveUploadedFiles On|Off`.
    TmpSaveUploadedFiles(bool),
}

impl DirectiveKind {
    /// The SecLang directive name this kind comes from, e.g. `SecRule`.
    pub fn directive_name(&self) -> &'static str {
        match self {
            Self::Rule(_) => "SecRule",
            Self::Action(_) => "SecAction",
            Self::Marker(_) => "SecMarker",
            Self::DefaultAction(_) => "SecDefaultAction",
            Self::RuleEngine(_) => "SecRuleEngine",
            Self::RequestBodyAccess(_) => "SecRequestBodyAccess",
            Self::ResponseBodyAccess(_) => "SecResponseBodyAccess",
            Self::ResponseBodyMimeType(_) => "SecResponseBodyMimeType",
            Self::ResponseBodyMimeTypesClear => "SecResponseBodyMimeTypesClear",
            Self::RequestBodyLimit(_) => "SecRequestBodyLimit",
            Self::RequestBodyNoFilesLimit(_) => "SecRequestBodyNoFilesLimit",
            Self::RequestBodyInMemoryLimit(_) => "SecRequestBodyInMemoryLimit",
            Self::RequestBodyLimitAction(_) => "SecRequestBodyLimitAction",
            Self::RequestBodyJsonDepthLimit(_) => "SecRequestBodyJsonDepthLimit",
            Self::ArgumentsLimit(_) => "SecArgumentsLimit",
            Self::ResponseBodyLimit(_) => "SecResponseBodyLimit",
            Self::ResponseBodyLimitAction(_) => "SecResponseBodyLimitAction",
            Self::PcreMatchLimit(_) => "SecPcreMatchLimit",
            Self::PcreMatchLimitRecursion(_) => "SecPcreMatchLimitRecursion",
            Self::RuleRemoveById(_) => "SecRuleRemoveById",
            Self::RuleRemoveByTag(_) => "SecRuleRemoveByTag",
            Self::RuleRemoveByMsg(_) => "SecRuleRemoveByMsg",
            Self::RuleUpdateTargetById { .. } => "SecRuleUpdateTargetById",
            Self::RuleUpdateTargetByTag { .. } => "SecRuleUpdateTargetByTag",
            Self::RuleUpdateTargetByMsg { .. } => "SecRuleUpdateTargetByMsg",
            Self::RuleUpdateActionById { .. } => "SecRuleUpdateActionById",
            Self::ComponentSignature(_) => "SecComponentSignature",
            Self::ServerSignature(_) => "SecServerSignature",
            Self::WebAppId(_) => "SecWebAppId",
            Self::ArgumentSeparator(_) => "SecArgumentSeparator",
            Self::CookieFormat(_) => "SecCookieFormat",
            Self::CollectionTimeout(_) => "SecCollectionTimeout",
            Self::StatusEngine(_) => "SecStatusEngine",
            Self::XmlExternalEntity(_) => "SecXmlExternalEntity",
            Self::HttpBlKey(_) => "SecHttpBlKey",
            Self::GeoLookupDb(_) => "SecGeoLookupDb",
            Self::UnicodeMapFile { .. } => "SecUnicodeMapFile",
            Self::AuditEngine(_) => "SecAuditEngine",
            Self::AuditLog(_) => "SecAuditLog",
            Self::AuditLog2(_) => "SecAuditLog2",
            Self::AuditLogParts(_) => "SecAuditLogParts",
            Self::AuditLogType(_) => "SecAuditLogType",
            Self::AuditLogFormat(_) => "SecAuditLogFormat",
            Self::AuditLogRelevantStatus(_) => "SecAuditLogRelevantStatus",
            Self::AuditLogStorageDir(_) => "SecAuditLogStorageDir",
            Self::AuditLogDirMode(_) => "SecAuditLogDirMode",
            Self::AuditLogFileMode(_) => "SecAuditLogFileMode",
            Self::DebugLog(_) => "SecDebugLog",
            Self::DebugLogLevel(_) => "SecDebugLogLevel",
            Self::TmpDir(_) => "SecTmpDir",
            Self::DataDir(_) => "SecDataDir",
            Self::UploadDir(_) => "SecUploadDir",
            Self::UploadKeepFiles(_) => "SecUploadKeepFiles",
            Self::UploadFileLimit(_) => "SecUploadFileLimit",
            Self::UploadFileMode(_) => "SecUploadFileMode",
            Self::TmpSaveUploadedFiles(_) => "SecTmpSaveUploadedFiles",
        }
    }
}

/// `SecRuleEngine` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineMode {
    /// Rules run and disruptive actions apply.
    On,
    /// Rules do not run.
    Off,
    /// Rules run but never interrupt the transaction.
    DetectionOnly,
}

/// What to do when a body exceeds its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyLimitAction {
    /// Reject the transaction (HTTP 413 for requests).
    Reject,
    /// Inspect the part of the body up to the limit.
    ProcessPartial,
}

/// `SecAuditEngine` / `SecUploadKeepFiles` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditEngineMode {
    /// Always.
    On,
    /// Never.
    Off,
    /// Only for relevant transactions (matched rules or a status matching the relevant regex).
    RelevantOnly,
}

/// `SecAuditLogType` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditLogType {
    /// One file, one entry after another.
    Serial,
    /// One file per transaction under the storage dir.
    Concurrent,
    /// Entries posted to an HTTPS endpoint.
    Https,
}

/// `SecAuditLogFormat` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditLogFormat {
    /// One JSON document per transaction.
    Json,
    /// ModSecurity's native multi-part text format.
    Native,
}

/// An inclusive range of rule ids; a single id `n` is `n-n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdRange {
    /// First id of the range.
    pub start: u64,
    /// Last id of the range (inclusive).
    pub end: u64,
}

impl IdRange {
    /// Whether `id` lies in this range.
    pub fn contains(&self, id: u64) -> bool {
        self.start <= id && id <= self.end
    }
}

/// A `SecRule` (or `SecAction`, see [`DirectiveKind::Action`]) with its chained rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The variables the operator runs on, in source order (exclusions included).
    pub variables: Vec<VariableSpec>,
    /// The operator.
    pub operator: OperatorSpec,
    /// The actions, in source order.
    pub actions: Vec<Action>,
    /// The next rule of the chain when `actions` contain `chain`.
    pub chain: Option<Box<Rule>>,
    /// Location of this rule's first line.
    pub span: Span,
}

impl Rule {
    /// The first action named `name` (lower case), if any.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// The rule's `id` action parsed as a number, if present and numeric.
    pub fn id(&self) -> Option<u64> {
        self.action("id")?.value.as_deref()?.trim().parse().ok()
    }

    /// The rule's `phase` as 1–5 (`request` = 2, `response` = 4, `logging` = 5), if present.
    pub fn phase(&self) -> Option<u8> {
        let value = self.action("phase")?.value.as_deref()?.trim();
        match value.to_ascii_lowercase().as_str() {
            "request" => Some(2),
            "response" => Some(4),
            "logging" => Some(5),
            other => other.parse().ok().filter(|p| (1..=5).contains(p)),
        }
    }

    /// Whether this rule's actions contain `chain`.
    pub fn has_chain_action(&self) -> bool {
        self.actions.iter().any(|a| a.name == "chain")
    }

    /// This rule followed by its chained rules, starter first.
    pub fn chain_iter(&self) -> impl Iterator<Item = &Rule> {
        std::iter::successors(Some(self), |rule| rule.chain.as_deref())
    }
}

/// One entry of a rule's variable list, e.g. `!REQUEST_HEADERS:User-Agent` or `&TX:/^x_/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VariableSpec {
    /// `!`: exclude this variable (or key) from the list.
    pub negated: bool,
    /// `&`: use the number of matching values instead of the values.
    pub count: bool,
    /// Canonical upper-case name, e.g. `REQUEST_HEADERS`.
    pub name: String,
    /// The selector after `:`, if any.
    pub key: Option<VariableKey>,
}

/// The selector of a collection variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VariableKey {
    /// An exact (case-insensitive for most collections) key, or an XPath for `XML`.
    Literal(String),
    /// A regex written `/.../` (slashes removed), e.g. `ARGS:/^id_/` → `^id_`.
    Regex(String),
}

/// A rule's operator, e.g. `!@eq 0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorSpec {
    /// `!`: the rule matches when the operator does not.
    pub negated: bool,
    /// Canonical lower-case name without `@`, e.g. `rx`, `detectsqli`; `rx` when `@` is absent.
    pub name: String,
    /// The argument as written (quote escapes removed), empty when there is none.
    pub arg: String,
}

/// One action, e.g. `msg:'x y'` → name `msg`, value `x y`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Action {
    /// Canonical lower-case name, e.g. `setvar`, `t`, `ctl`, `skipafter`.
    pub name: String,
    /// The value after `:` with its single quotes removed, if any.
    pub value: Option<String>,
}
