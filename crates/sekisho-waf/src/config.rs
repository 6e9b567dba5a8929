//! Engine-wide settings set by directives (`SecRuleEngine`, `SecRequestBodyLimit`, …).

/// `SecRuleEngine` and `ctl:ruleEngine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineMode {
    On,
    Off,
    DetectionOnly,
}

impl EngineMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "on" => Some(EngineMode::On),
            "off" => Some(EngineMode::Off),
            "detectiononly" => Some(EngineMode::DetectionOnly),
            _ => None,
        }
    }
}

/// What to do when a body exceeds its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAction {
    Reject,
    ProcessPartial,
}

/// `SecRequestBodyProcessor`-style choice, also set by `ctl:requestBodyProcessor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProcessor {
    UrlEncoded,
    Multipart,
    Json,
    Xml,
}

impl BodyProcessor {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "URLENCODED" => Some(BodyProcessor::UrlEncoded),
            "MULTIPART" => Some(BodyProcessor::Multipart),
            "JSON" => Some(BodyProcessor::Json),
            "XML" => Some(BodyProcessor::Xml),
            _ => None,
        }
    }

    /// The name `REQBODY_PROCESSOR` shows.
    pub fn name(self) -> &'static str {
        match self {
            BodyProcessor::UrlEncoded => "URLENCODED",
            BodyProcessor::Multipart => "MULTIPART",
            BodyProcessor::Json => "JSON",
            BodyProcessor::Xml => "XML",
        }
    }
}

/// Settings of a loaded rule set; a transaction starts from a copy and `ctl:` changes it.
#[derive(Debug, Clone)]
pub struct Config {
    pub engine: EngineMode,
    pub request_body_access: bool,
    pub response_body_access: bool,
    pub request_body_limit: usize,
    pub request_body_no_files_limit: usize,
    pub request_body_limit_action: LimitAction,
    pub response_body_limit: usize,
    pub response_body_limit_action: LimitAction,
    pub response_body_mime_types: Vec<String>,
    pub argument_separator: u8,
    /// `SecCookieFormat 1` is not supported; 0 is the only format.
    pub cookie_v0: bool,
    pub audit_engine: String,
    pub audit_log_parts: String,
    pub component_signatures: Vec<String>,
    pub unicode_map_code_page: Option<u32>,
    pub pcre_match_limit: Option<u64>,
    pub collection_timeout: u64,
    pub json_depth_limit: usize,
    pub argument_limit: usize,
    /// `SecUploadFileLimit`: files a multipart body may carry; beyond it
    /// `MULTIPART_FILE_LIMIT_EXCEEDED` is set. 0: no limit.
    pub upload_file_limit: usize,
    pub web_app_id: String,
    pub hostname: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            // ModSecurity's default is Off; rule files turn it on.
            engine: EngineMode::Off,
            request_body_access: false,
            response_body_access: false,
            request_body_limit: 134_217_728,
            request_body_no_files_limit: 1_048_576,
            request_body_limit_action: LimitAction::Reject,
            response_body_limit: 524_288,
            response_body_limit_action: LimitAction::Reject,
            response_body_mime_types: vec!["text/plain".into(), "text/html".into()],
            argument_separator: b'&',
            cookie_v0: true,
            audit_engine: "Off".into(),
            audit_log_parts: "ABIJDEFHZ".into(),
            component_signatures: Vec::new(),
            unicode_map_code_page: None,
            pcre_match_limit: None,
            collection_timeout: 3600,
            json_depth_limit: 512,
            argument_limit: 1000,
            upload_file_limit: 100,
            web_app_id: "default".into(),
            hostname: String::new(),
        }
    }
}
