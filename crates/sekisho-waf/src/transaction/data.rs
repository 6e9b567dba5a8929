//! Everything a transaction knows about its request and response: what variables read.

use crate::collection::{Collection, Recycled, VarStore};

/// One uploaded file (multipart part with a filename).
#[derive(Debug, Clone, Default)]
pub struct FileInfo {
    /// The part's field name (`FILES_NAMES`).
    pub field: Vec<u8>,
    /// The client's file name (`FILES`).
    pub filename: Vec<u8>,
    pub size: usize,
}

/// Request and response data, filled by the phase calls and body processors.
#[derive(Debug, Default)]
pub struct TxData {
    pub remote_addr: String,
    pub remote_port: u16,
    pub server_addr: String,
    pub server_port: u16,
    pub unique_id: String,

    pub request_line: Vec<u8>,
    pub request_method: Vec<u8>,
    pub request_protocol: Vec<u8>,
    pub request_uri: Vec<u8>,
    pub request_uri_raw: Vec<u8>,
    pub request_filename: Vec<u8>,
    pub request_basename: Vec<u8>,
    pub query_string: Vec<u8>,
    pub args_get: Collection,
    pub args_post: Collection,
    pub request_headers: Collection,
    pub request_cookies: Collection,

    pub request_body: Vec<u8>,
    /// Body bytes received (may exceed what is kept when a limit is hit).
    pub request_body_received: usize,
    pub reqbody_processor: String,
    pub reqbody_error: bool,
    pub reqbody_error_msg: String,
    pub reqbody_processor_error: bool,
    pub inbound_data_error: bool,
    pub urlencoded_error: bool,
    pub files: Vec<FileInfo>,
    pub files_tmp_content: Collection,
    pub files_combined_size: usize,
    /// Multipart flags and error counters (`MULTIPART_STRICT_ERROR`, …) by name.
    pub multipart: Collection,
    pub multipart_part_headers: Collection,
    /// Every part's file name and field name, each keyed by itself (ModSecurity v3).
    pub multipart_filename: Collection,
    pub multipart_name: Collection,
    /// XML: text content of the whole document (`XML:/*`) and attribute values (`XML://@*`),
    /// the two forms CRS reads, made once; other XPaths are evaluated on `xml` when read.
    pub xml_text: Option<Vec<u8>>,
    pub xml_attrs: Vec<Vec<u8>>,
    pub xml: Option<crate::bodies::xml::XmlDocument>,

    pub response_status: u16,
    pub response_protocol: Vec<u8>,
    pub response_headers: Collection,
    pub response_body: Vec<u8>,
    pub response_body_received: usize,
    pub outbound_data_error: bool,

    pub tx: VarStore,
    pub ip: VarStore,
    pub global: VarStore,
    pub session: VarStore,
    pub user: VarStore,
    pub resource: VarStore,
    pub geo: VarStore,
    pub env: VarStore,
    /// `SESSIONID` and `USERID`: what `setsid` / `setuid` last set.
    pub session_id: Vec<u8>,
    pub user_id: Vec<u8>,
    /// `WEBAPPID`: the rule set's `SecWebAppId`.
    pub web_app_id: String,

    pub matched_var: Vec<u8>,
    pub matched_var_name: Vec<u8>,
    /// The replayed match `MATCHED_VAR` and `MATCHED_VAR_NAME` hold (`Replay::hit_id`; 0:
    /// another), so that the next replay of the same match copies nothing.
    pub(crate) matched_hit: u32,
    pub matched_vars: Recycled,
    /// Lowest severity number seen (most severe); 255 when none.
    pub highest_severity: u8,
    pub webserver_error_log: Collection,

    /// Start time, for `DURATION`.
    pub started: Option<std::time::Instant>,
    /// Seconds since the epoch at the start, for `TIME*`.
    pub start_epoch: u64,
}
