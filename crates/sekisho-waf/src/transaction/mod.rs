//! A `Transaction`: one HTTP exchange run through a [`RuleSet`], one call per phase.
//!
//! Phases: 1 request headers, 2 request body, 3 response headers, 4 response body,
//! 5 logging. Each phase call returns the interruption if a rule stopped the transaction
//! (never in `DetectionOnly`); later phase calls then do nothing.

mod body;
pub(crate) mod data;
pub(crate) mod eval;
mod request;

use crate::actions::ctl::TargetRef;
use crate::actions::AllowScope;
use crate::config::{BodyProcessor, EngineMode, LimitAction};
use crate::operators::{MatchOutput, Operator};
use crate::outcome::{Interruption, MatchedRule};
use crate::ruleset::RuleSet;
use data::TxData;
use rustc_hash::FxHashMap;
use sekisho_seclang::IdRange;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which rules a `ctl:ruleRemoveTarget*` applies to.
#[derive(Debug, Clone)]
pub(crate) enum RuleSel {
    Ids(Vec<IdRange>),
    /// The rules carrying a tag, by index (see `RuleSet::tagged`).
    Tagged(Arc<[u32]>),
    Msg(String),
}

/// Settings `ctl:` may change for this transaction only.
#[derive(Debug, Clone)]
pub(crate) struct TxSettings {
    pub engine: EngineMode,
    pub request_body_access: bool,
    pub response_body_access: bool,
    pub request_body_limit: usize,
    pub response_body_limit: usize,
    pub body_processor: Option<BodyProcessor>,
    pub force_request_body_variable: bool,
    pub audit_engine: String,
    pub audit_log_parts: String,
}

/// (value address, value length, transformation list id).
pub(crate) type TransformKey = (usize, usize, u32);

/// Per-transaction caches that make repeated work cheap.
#[derive(Default)]
pub(crate) struct Caches {
    /// (value address, value length, transformation list) → transformed value; only for
    /// request/response data, which never changes once set within a phase.
    /// Shared (`Arc`) so that a hit hands it out without copying.
    pub transforms: FxHashMap<TransformKey, Option<Arc<[u8]>>>,
    /// Operators whose argument held macros, by (name, expanded argument).
    pub operators: FxHashMap<(String, String), Box<dyn Operator>>,
    pub out: MatchOutput,
    pub prefilter: crate::prefilter::PrefilterState,
    /// The bytes of the phase's values, by address.
    pub known: crate::byteset::Known,
    /// Scratch space for a `setvar`'s expanded name and number.
    pub name_buf: Vec<u8>,
    pub value_buf: Vec<u8>,
}

impl Caches {
    /// Empty again for the next transaction, keeping what it allocated.
    fn reset(&mut self) {
        self.transforms.clear();
        // A large body grows the cache far beyond a usual request's needs: do not keep that.
        self.transforms.shrink_to(KEPT_ENTRIES);
        // Built from arguments a request's data may have shaped: not kept.
        self.operators.clear();
        self.out.captures.clear();
        self.prefilter.reset();
        self.known.next_phase();
        // A name or number built from a large request value is not worth keeping.
        self.name_buf.clear();
        self.name_buf.shrink_to(256);
        self.value_buf.clear();
        self.value_buf.shrink_to(256);
    }
}

/// What a finished transaction leaves for the next one of its rule set: its caches and
/// its matched-rule list, emptied but still allocated (see [`crate::ruleset::Spares`]).
#[derive(Default)]
pub(crate) struct Spare {
    caches: Caches,
    matched: Vec<Record>,
    /// The `TX` store: the CRS writes ~200 variables per request, and growing the table to
    /// that size again for every transaction cost more than clearing it.
    tx: crate::collection::VarStore,
    /// `tx` is the rule set's prelude store (`fold.rs`), ready for the next phase 1: put
    /// back rather than cleared and copied again (two atomic operations per variable).
    tx_ready: bool,
    /// `MATCHED_VARS`, emptied: its members' buffers served the next transaction's matches
    /// (~17 allocations a request when each transaction started without them).
    matched_vars: crate::collection::Recycled,
}

/// A matched rule as a transaction keeps it. Most are the records of replays, built at load
/// and kept by the rule set (`fold.rs`): referring to them by rule index costs no reference
/// count (two atomic operations per record and request, ~90 records of the CRS).
pub(crate) enum Record {
    /// The record of the replayed rule at this index.
    Replayed(u32),
    Made(Box<MatchedRule>),
}

/// The rules a transaction matched, in order ([`Transaction::matched_rules`]).
#[derive(Clone, Copy)]
pub struct MatchedRules<'t> {
    records: &'t [Record],
    rules: &'t RuleSet,
}

impl<'t> MatchedRules<'t> {
    fn resolve(&self, r: &'t Record) -> Option<&'t MatchedRule> {
        match r {
            Record::Made(m) => Some(m),
            Record::Replayed(idx) => match self.rules.folding.outcome(*idx as usize) {
                Some(crate::fold::Outcome::Always(r)) => r.record.as_deref(),
                _ => None,
            },
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&'t MatchedRule> {
        self.records.get(i).and_then(|r| self.resolve(r))
    }

    pub fn last(&self) -> Option<&'t MatchedRule> {
        self.records.last().and_then(|r| self.resolve(r))
    }

    pub fn iter(&self) -> impl Iterator<Item = &'t MatchedRule> + 't {
        let this = *self;
        self.records.iter().filter_map(move |r| this.resolve(r))
    }
}

impl<'t> IntoIterator for MatchedRules<'t> {
    type Item = &'t MatchedRule;
    type IntoIter = Box<dyn Iterator<Item = &'t MatchedRule> + 't>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// One HTTP transaction. Cheap to create; not shared between threads.
pub struct Transaction {
    pub(crate) rules: Arc<RuleSet>,
    pub(crate) data: TxData,
    pub(crate) settings: TxSettings,
    pub(crate) removed_ids: Vec<IdRange>,
    pub(crate) removed_tags: Vec<String>,
    pub(crate) removed_msgs: Vec<String>,
    pub(crate) removed_targets: Vec<(RuleSel, TargetRef)>,
    pub(crate) interruption: Option<Interruption>,
    pub(crate) matched: Vec<Record>,
    /// `allow` in effect: the scope and the phase it was set in.
    pub(crate) allow: Option<(AllowScope, u8)>,
    pub(crate) caches: Caches,
    /// The rule set's prelude `TX` store, handed over by the last transaction, for phase 1.
    pub(crate) prelude_tx: Option<crate::collection::VarStore>,
    /// Highest phase already run (a phase runs at most once).
    pub(crate) last_phase: u8,
    /// Whether what the rule set decided at load still holds: no rule it relies on was
    /// removed at runtime (see `fold.rs`).
    pub(crate) folding_holds: bool,
    /// The index of the rule being evaluated by the phase loop (`usize::MAX` otherwise).
    pub(crate) evaluating: usize,
    pub(crate) request_body_limit_hit: bool,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The most `MATCHED_VARS` members whose buffers a finished transaction hands on.
const KEPT_MATCHED_VARS: usize = 64;

/// The most entries a recycled transformation cache keeps allocated (see [`Spare`]): a
/// 2 KB JSON body needs a few thousand, and growing the cache again each time was most of
/// what recycling saves on such bodies.
const KEPT_ENTRIES: usize = 8192;

impl Drop for Transaction {
    fn drop(&mut self) {
        let prelude = &self.rules.folding.prelude.store;
        let (tx, tx_ready) = match self.prelude_tx.take() {
            // Phase 1 never ran.
            Some(ready) => (ready, true),
            None => {
                let mut tx = std::mem::take(&mut self.data.tx);
                let ready = !prelude.is_empty() && tx.reset_to(prelude);
                if !ready {
                    tx.clear(1024);
                }
                (tx, ready)
            }
        };
        let mut matched_vars = std::mem::take(&mut self.data.matched_vars);
        matched_vars.recycle(KEPT_MATCHED_VARS);
        let mut spare = Spare {
            caches: std::mem::take(&mut self.caches),
            matched: std::mem::take(&mut self.matched),
            tx,
            tx_ready,
            matched_vars,
        };
        spare.caches.reset();
        spare.matched.clear();
        spare.matched.shrink_to(256);
        self.rules.spares.give(spare);
    }
}

impl Transaction {
    pub(crate) fn new(rules: Arc<RuleSet>) -> Transaction {
        let cfg = &rules.config;
        let settings = TxSettings {
            engine: cfg.engine,
            request_body_access: cfg.request_body_access,
            response_body_access: cfg.response_body_access,
            request_body_limit: cfg.request_body_limit,
            response_body_limit: cfg.response_body_limit,
            body_processor: None,
            force_request_body_variable: false,
            audit_engine: cfg.audit_engine.clone(),
            audit_log_parts: cfg.audit_log_parts.clone(),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut data = TxData {
            unique_id: format!("{}{:06}.{n}", now.as_secs(), now.subsec_micros()),
            started: Some(std::time::Instant::now()),
            start_epoch: now.as_secs(),
            highest_severity: 255,
            web_app_id: cfg.web_app_id.clone(),
            ..TxData::default()
        };
        let matched_guess = rules.rule_count().min(256);
        let spare = rules.spares.take().unwrap_or_else(|| Spare {
            // Sized up front: CRS matches ~170 bookkeeping rules per request, and growing a
            // vector of these records step by step cost more than filling it.
            matched: Vec::with_capacity(matched_guess),
            // Sized for a rule set like the CRS: growing them value by value costs more.
            caches: Caches {
                transforms: FxHashMap::with_capacity_and_hasher(512, Default::default()),
                ..Caches::default()
            },
            tx: crate::collection::VarStore::default(),
            tx_ready: false,
            matched_vars: crate::collection::Recycled::default(),
        });
        data.matched_vars = spare.matched_vars;
        let prelude_tx = if spare.tx_ready {
            Some(spare.tx)
        } else {
            data.tx = spare.tx;
            None
        };
        Transaction {
            rules,
            data,
            settings,
            removed_ids: Vec::new(),
            removed_tags: Vec::new(),
            removed_msgs: Vec::new(),
            removed_targets: Vec::new(),
            interruption: None,
            matched: spare.matched,
            allow: None,
            caches: spare.caches,
            prelude_tx,
            last_phase: 0,
            request_body_limit_hit: false,
            folding_holds: true,
            evaluating: usize::MAX,
        }
    }

    /// Records the connection's addresses (`REMOTE_ADDR`, `SERVER_PORT`, …).
    pub fn process_connection(
        &mut self,
        client_ip: &str,
        client_port: u16,
        server_ip: &str,
        server_port: u16,
    ) {
        self.data.remote_addr = client_ip.to_string();
        self.data.remote_port = client_port;
        self.data.server_addr = server_ip.to_string();
        self.data.server_port = server_port;
    }

    /// Records the request line: method, URI (origin or absolute form) and protocol.
    pub fn process_uri(&mut self, uri: &[u8], method: &str, protocol: &str) {
        request::process_uri(
            &mut self.data,
            uri,
            method,
            protocol,
            self.rules.config.argument_separator,
        );
        // `SecArgumentsLimit`: arguments past it are not kept (CRS setups deny `&ARGS` at
        // the limit, so nothing slips through uninspected).
        self.data
            .args_get
            .entries
            .truncate(self.rules.config.argument_limit);
    }

    /// Adds one request header (call once per header line, in order).
    pub fn add_request_header(&mut self, name: &[u8], value: &[u8]) {
        request::add_header(&mut self.data, name, value);
    }

    /// Phase 1: runs the request-header rules.
    pub fn process_request_headers(&mut self) -> Option<Interruption> {
        // As in ModSecurity, REQBODY_PROCESSOR is known from `Content-Type` before phase 1
        // (CRS 920400 compares upload sizes in phase 1 for multipart bodies only).
        if let Some(p) = body::by_content_type(
            self.data
                .request_headers
                .get(b"content-type")
                .unwrap_or_default(),
        ) {
            self.data.reqbody_processor = p.name().into();
        }
        self.run_phase(1)
    }

    /// Buffers a chunk of the request body, enforcing `SecRequestBodyLimit`: over the limit,
    /// `Reject` interrupts with 413 (when the engine is `On`), `ProcessPartial` keeps the
    /// first bytes and sets `INBOUND_DATA_ERROR`.
    pub fn append_request_body(&mut self, chunk: &[u8]) -> Option<Interruption> {
        if self.interruption.is_some() {
            return self.interruption.clone();
        }
        self.data.request_body_received += chunk.len();
        let limit = self.settings.request_body_limit;
        let room = limit.saturating_sub(self.data.request_body.len());
        if chunk.len() <= room {
            self.data.request_body.extend_from_slice(chunk);
            return None;
        }
        self.data
            .request_body
            .extend_from_slice(chunk.get(..room).unwrap_or_default());
        self.data.inbound_data_error = true;
        self.request_body_limit_hit = true;
        if self.rules.config.request_body_limit_action == LimitAction::Reject
            && self.settings.engine == EngineMode::On
        {
            self.interruption = Some(Interruption::body_limit(413, 2));
        }
        self.interruption.clone()
    }

    /// Runs the body processor (chosen by `ctl:requestBodyProcessor` or `Content-Type`),
    /// then phase 2.
    pub fn process_request_body(&mut self) -> Option<Interruption> {
        if self.interruption.is_some() {
            return self.interruption.clone();
        }
        if self.settings.request_body_access {
            if let Some(i) = body::enforce_no_files_limit(self) {
                return Some(i);
            }
            body::process_request_body(self);
        }
        self.run_phase(2)
    }

    /// Adds one response header.
    pub fn add_response_header(&mut self, name: &[u8], value: &[u8]) {
        self.data.response_headers.add(name, value);
    }

    /// Phase 3: runs the response-header rules.
    pub fn process_response_headers(
        &mut self,
        status: u16,
        protocol: &str,
    ) -> Option<Interruption> {
        self.data.response_status = status;
        self.data.response_protocol = protocol.as_bytes().to_vec();
        self.run_phase(3)
    }

    /// Buffers a chunk of the response body when `SecResponseBodyAccess` is on and the
    /// response's MIME type is one of `SecResponseBodyMimeType`; bounded by
    /// `SecResponseBodyLimit`.
    pub fn append_response_body(&mut self, chunk: &[u8]) -> Option<Interruption> {
        if self.interruption.is_some() {
            return self.interruption.clone();
        }
        if !self.response_body_inspected() {
            return None;
        }
        self.data.response_body_received += chunk.len();
        let room = self
            .settings
            .response_body_limit
            .saturating_sub(self.data.response_body.len());
        if chunk.len() <= room {
            self.data.response_body.extend_from_slice(chunk);
            return None;
        }
        self.data
            .response_body
            .extend_from_slice(chunk.get(..room).unwrap_or_default());
        self.data.outbound_data_error = true;
        if self.rules.config.response_body_limit_action == LimitAction::Reject
            && self.settings.engine == EngineMode::On
        {
            self.interruption = Some(Interruption::body_limit(500, 4));
        }
        self.interruption.clone()
    }

    /// Whether the response body is kept for phase 4 (access on and MIME type listed).
    pub fn response_body_inspected(&self) -> bool {
        if !self.settings.response_body_access {
            return false;
        }
        let ct = self
            .data
            .response_headers
            .get(b"content-type")
            .unwrap_or_default();
        let mime = String::from_utf8_lossy(ct.split(|&b| b == b';').next().unwrap_or_default())
            .trim()
            .to_ascii_lowercase();
        self.rules.config.response_body_mime_types.contains(&mime)
    }

    /// Phase 4: runs the response-body rules.
    pub fn process_response_body(&mut self) -> Option<Interruption> {
        self.run_phase(4)
    }

    /// Phase 5: runs the logging rules (never interrupts).
    pub fn process_logging(&mut self) {
        let saved = self.interruption.clone();
        self.interruption = None;
        self.run_phase(5);
        if saved.is_some() {
            self.interruption = saved;
        } else {
            self.interruption = None;
        }
    }

    /// The interruption, once a rule stopped the transaction.
    pub fn interruption(&self) -> Option<&Interruption> {
        self.interruption.as_ref()
    }

    /// Every rule (chain) that matched so far, in order.
    pub fn matched_rules(&self) -> MatchedRules<'_> {
        MatchedRules {
            records: &self.matched,
            rules: &self.rules,
        }
    }

    /// One ModSecurity-style error-log line per logged match.
    pub fn log_lines(&self) -> Vec<String> {
        self.matched_rules()
            .iter()
            .filter(|m| m.log)
            .map(|m| m.log_line.clone())
            .collect()
    }

    /// A `TX` collection value (key in any case), e.g. `blocking_inbound_anomaly_score`.
    pub fn tx_var(&self, name: &str) -> Option<String> {
        self.data
            .tx
            .get_ci(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// CRS's inbound and outbound anomaly scores (0 when unset).
    pub fn anomaly_scores(&self) -> (i64, i64) {
        let get = |k: &str| {
            self.data
                .tx
                .get(k)
                .map_or(0, crate::actions::setvar::to_int)
        };
        (
            get("blocking_inbound_anomaly_score").max(get("anomaly_score")),
            get("blocking_outbound_anomaly_score").max(get("outbound_anomaly_score")),
        )
    }

    /// The engine mode in effect (`ctl:ruleEngine` may have changed it).
    pub fn engine_mode(&self) -> EngineMode {
        self.settings.engine
    }

    /// `UNIQUE_ID` of this transaction.
    pub fn unique_id(&self) -> &str {
        &self.data.unique_id
    }
}

#[cfg(test)]
mod tests;
