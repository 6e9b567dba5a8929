//! `RuleSet`: SecLang directives compiled once into an immutable, shareable rule set.
//!
//! Load order follows ModSecurity v3: `SecDefaultAction` applies to the rules after it;
//! `SecRuleRemove*`, `SecRuleUpdateTarget*` and `SecRuleUpdateActionById` apply to every
//! rule of the set, wherever they appear.

use crate::actions::ctl::TargetRef;
use crate::actions::{self, Actions, Disruptive};
use crate::byteset::ByteSet;
use crate::collection::KeySel;
use crate::config::{Config, EngineMode, LimitAction};
use crate::error::{Error, Errors};
use crate::macros::Macro;
use crate::operators::{self, OperatorEnv};
use crate::prefilter::Prefilter;
use crate::rule::{display_name, ChainStep, Defaults, Op, OpKind, Rule, Target};
use crate::transaction::Transaction;
use crate::transformations::TransformFn;
use crate::variables;
use rustc_hash::FxHashMap;
use sekisho_seclang::{self as ast, Directive, DirectiveKind, IdRange, VariableKey, VariableSpec};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One step of a phase's rule list.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// A rule (index into `rules`) and, for `skipAfter`, the list position to go on from.
    Rule {
        idx: usize,
        skip_to: Option<usize>,
    },
    Marker,
}

/// A compiled rule set: immutable, `Send + Sync`, shared by `Arc` between transactions.
#[derive(Debug)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    /// Phases 1–5 at indexes 0–4.
    pub(crate) phases: [Vec<Entry>; 5],
    pub(crate) config: Config,
    /// Skips rules that cannot match a request's values (see `prefilter.rs`).
    pub(crate) prefilter: Prefilter,
    /// What the configuration alone decides (see `fold.rs`).
    pub(crate) folding: crate::fold::Folding,
    /// Each phase as its walk reads it, built from the three above.
    pub(crate) walk: [Vec<crate::prefilter::Step>; 5],
    /// The transformation lists of all rules, by `Rule::chain_idx`.
    pub(crate) chains: Vec<ChainStep>,
    /// Buffers of finished transactions, for the next ones.
    pub(crate) spares: Spares,
    pub(crate) files: usize,
    /// Tag → the indexes of the rules that carry it, in order: `ctl:ruleRemoveTargetByTag`
    /// names its rules once, not every rule evaluated after it comparing its tags.
    pub(crate) tagged: rustc_hash::FxHashMap<String, Arc<[u32]>>,
}

/// The emptied buffers of finished transactions (caches, matched-rule list: ~100 KB for the
/// CRS on a small request), handed to the next transactions. Allocating them anew for every
/// request was a visible cost (−4 % on a benign GET, −12 % on a 2 KB JSON POST without it):
/// large blocks make the allocator consolidate its free lists each time, caches grow again
/// entry by entry, and fresh memory is cold. At most [`Spares::MAX`] are kept (about one per
/// thread running transactions at once), each trimmed to at most ~1 MB.
#[derive(Default)]
pub(crate) struct Spares(std::sync::Mutex<Vec<crate::transaction::Spare>>);

impl std::fmt::Debug for Spares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spares")
    }
}

impl Spares {
    const MAX: usize = 16;

    pub(crate) fn take(&self) -> Option<crate::transaction::Spare> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
    }

    pub(crate) fn give(&self, spare: crate::transaction::Spare) {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.len() < Self::MAX {
            kept.push(spare);
        }
    }
}

/// Collects rule sources, then compiles them in order with [`RuleSetBuilder::build`].
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    directives: Vec<Directive>,
    errors: Vec<Error>,
    files: usize,
}

fn parse_error(e: sekisho_seclang::ParseError) -> Error {
    Error::new(
        e.span.file.to_path_buf(),
        u32::try_from(e.span.line).unwrap_or(u32::MAX),
        e.message,
    )
}

impl RuleSetBuilder {
    /// Adds a rule file (and the files it includes).
    pub fn add_file(mut self, path: impl AsRef<Path>) -> Self {
        let (dirs, errs) = sekisho_seclang::parse_file_all(path.as_ref());
        self.files += 1 + count_files(&dirs, path.as_ref());
        self.directives.extend(dirs);
        self.errors.extend(errs.into_iter().map(parse_error));
        self
    }

    /// Adds rule text; `origin` names it in errors and anchors relative paths.
    pub fn add_str(mut self, text: &str, origin: impl AsRef<Path>) -> Self {
        let (dirs, errs) = sekisho_seclang::parse_str_all(text, origin.as_ref());
        self.files += 1;
        self.directives.extend(dirs);
        self.errors.extend(errs.into_iter().map(parse_error));
        self
    }

    /// Compiles everything added; every error is reported.
    pub fn build(self) -> Result<RuleSet, Errors> {
        let mut c = Compiler {
            errors: self.errors,
            ..Compiler::default()
        };
        for d in self.directives {
            c.directive(d);
        }
        let set = c.finish(self.files);
        if c.errors.is_empty() {
            Ok(set)
        } else {
            Err(Errors(c.errors))
        }
    }
}

fn count_files(dirs: &[Directive], top: &Path) -> usize {
    let mut seen: Vec<&Path> = Vec::new();
    for d in dirs {
        let f: &Path = &d.span.file;
        if f != top && !seen.contains(&f) {
            seen.push(f);
        }
    }
    seen.len()
}

impl RuleSet {
    /// Loads rule files in order.
    pub fn from_files(paths: &[impl AsRef<Path>]) -> Result<RuleSet, Errors> {
        paths
            .iter()
            .fold(RuleSet::builder(), |b, p| b.add_file(p))
            .build()
    }

    /// Loads rule text; `origin` is used for errors and relative `Include`/`@pmFromFile`.
    pub fn from_str(text: &str, origin: &Path) -> Result<RuleSet, Errors> {
        RuleSet::builder().add_str(text, origin).build()
    }

    /// The same rule set with its prefilter off: every rule is evaluated. For tests that
    /// check that the prefilter never changes a verdict.
    #[doc(hidden)]
    pub fn without_prefilter(mut self) -> RuleSet {
        self.prefilter = Prefilter::default();
        self.walk = self.prefilter.walk(&self.phases, &self.folding);
        self
    }

    /// The same rule set without what the configuration decides at load (`fold.rs`):
    /// every reached rule is evaluated, and the prefilter searches for every rule. For
    /// tests that check that this never changes a verdict.
    #[doc(hidden)]
    pub fn without_folding(mut self) -> RuleSet {
        self.folding = crate::fold::Folding::default();
        self.prefilter = Prefilter::build(&self.rules, &self.phases, &self.chains, &self.folding)
            .unwrap_or_default();
        self.walk = self.prefilter.walk(&self.phases, &self.folding);
        self
    }

    pub fn builder() -> RuleSetBuilder {
        RuleSetBuilder::default()
    }

    /// Starts a transaction on this rule set.
    pub fn transaction(self: &Arc<Self>) -> Transaction {
        Transaction::new(Arc::clone(self))
    }

    /// Number of rules (chains count once).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Number of files read (including included files).
    pub fn file_count(&self) -> usize {
        self.files
    }

    /// The rule set's configuration (`SecRuleEngine`, limits, …).
    pub fn config(&self) -> &Config {
        &self.config
    }
}

enum Pending {
    Rule {
        ast: ast::Rule,
        defaults: Arc<Defaults>,
        phase: u8,
    },
    Marker(String),
}

enum Slot {
    Rule(usize),
    Marker(String),
}

enum RuleSel {
    Ids(Vec<IdRange>),
    Tag(String),
    Msg(String),
}

struct TargetUpdate {
    sel: RuleSel,
    targets: Vec<VariableSpec>,
    replace: Option<VariableSpec>,
    span: ast::Span,
}

#[derive(Default)]
struct Compiler {
    errors: Vec<Error>,
    config: Config,
    defaults: [Arc<Defaults>; 5],
    pending: Vec<Pending>,
    removes: Vec<RuleSel>,
    target_updates: Vec<TargetUpdate>,
    action_updates: Vec<(u64, Vec<ast::Action>, ast::Span)>,
    geo_db: Option<PathBuf>,
    chains: FxHashMap<Vec<&'static str>, u32>,
    /// Indexed by the ids in `chains`.
    steps: Vec<ChainStep>,
}

fn err_at(span: &ast::Span, msg: impl Into<String>) -> Error {
    Error::new(
        span.file.to_path_buf(),
        u32::try_from(span.line).unwrap_or(u32::MAX),
        msg,
    )
}

fn phase_of(rule: &ast::Rule) -> u8 {
    rule.action("phase")
        .and_then(|a| a.value.as_deref())
        .and_then(actions::parse_phase)
        .unwrap_or(2)
}

fn limit(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl Compiler {
    fn directive(&mut self, d: Directive) {
        let span = d.span;
        let cfg = &mut self.config;
        match d.kind {
            DirectiveKind::Rule(r) | DirectiveKind::Action(r) => {
                let phase = phase_of(&r);
                let defaults = self
                    .defaults
                    .get(usize::from(phase) - 1)
                    .cloned()
                    .unwrap_or_default();
                self.pending.push(Pending::Rule {
                    ast: r,
                    defaults,
                    phase,
                });
            }
            DirectiveKind::Marker(m) => self.pending.push(Pending::Marker(m)),
            DirectiveKind::DefaultAction(list) => self.default_action(&list, &span),
            DirectiveKind::RuleEngine(m) => {
                cfg.engine = match m {
                    ast::EngineMode::On => EngineMode::On,
                    ast::EngineMode::Off => EngineMode::Off,
                    ast::EngineMode::DetectionOnly => EngineMode::DetectionOnly,
                }
            }
            DirectiveKind::RequestBodyAccess(b) => cfg.request_body_access = b,
            DirectiveKind::ResponseBodyAccess(b) => cfg.response_body_access = b,
            DirectiveKind::ResponseBodyMimeType(types) => {
                for t in types {
                    let t = t.to_ascii_lowercase();
                    if !cfg.response_body_mime_types.contains(&t) {
                        cfg.response_body_mime_types.push(t);
                    }
                }
            }
            DirectiveKind::ResponseBodyMimeTypesClear => cfg.response_body_mime_types.clear(),
            DirectiveKind::RequestBodyLimit(n) => cfg.request_body_limit = limit(n),
            DirectiveKind::RequestBodyNoFilesLimit(n) => cfg.request_body_no_files_limit = limit(n),
            DirectiveKind::RequestBodyLimitAction(a) => {
                cfg.request_body_limit_action = limit_action(a)
            }
            DirectiveKind::ResponseBodyLimit(n) => cfg.response_body_limit = limit(n),
            DirectiveKind::ResponseBodyLimitAction(a) => {
                cfg.response_body_limit_action = limit_action(a)
            }
            DirectiveKind::RequestBodyJsonDepthLimit(n) => cfg.json_depth_limit = limit(n),
            DirectiveKind::ArgumentsLimit(n) => cfg.argument_limit = limit(n),
            DirectiveKind::UploadFileLimit(n) => cfg.upload_file_limit = limit(n),
            DirectiveKind::PcreMatchLimit(n) => cfg.pcre_match_limit = Some(n),
            DirectiveKind::RuleRemoveById(ids) => self.removes.push(RuleSel::Ids(ids)),
            DirectiveKind::RuleRemoveByTag(t) => self.removes.push(RuleSel::Tag(t)),
            DirectiveKind::RuleRemoveByMsg(m) => self.removes.push(RuleSel::Msg(m)),
            DirectiveKind::RuleUpdateTargetById {
                ids,
                targets,
                replace,
            } => self.target_updates.push(TargetUpdate {
                sel: RuleSel::Ids(ids),
                targets,
                replace,
                span,
            }),
            DirectiveKind::RuleUpdateTargetByTag { tag, targets } => {
                self.target_updates.push(TargetUpdate {
                    sel: RuleSel::Tag(tag),
                    targets,
                    replace: None,
                    span,
                })
            }
            DirectiveKind::RuleUpdateTargetByMsg { msg, targets } => {
                self.target_updates.push(TargetUpdate {
                    sel: RuleSel::Msg(msg),
                    targets,
                    replace: None,
                    span,
                })
            }
            DirectiveKind::RuleUpdateActionById { id, actions } => {
                self.action_updates.push((id, actions, span))
            }
            DirectiveKind::ComponentSignature(s) => cfg.component_signatures.push(s),
            DirectiveKind::WebAppId(s) => cfg.web_app_id = s,
            DirectiveKind::ArgumentSeparator(c) => match u8::try_from(c) {
                Ok(b) if c.is_ascii() => cfg.argument_separator = b,
                _ => self.errors.push(err_at(
                    &span,
                    format!("argument separator `{c}` is not ASCII"),
                )),
            },
            DirectiveKind::CookieFormat(v) if v != 0 => {
                self.errors.push(err_at(
                    &span,
                    "`SecCookieFormat 1` is not supported: only version 0 cookies",
                ));
            }
            DirectiveKind::CookieFormat(_) => {}
            DirectiveKind::CollectionTimeout(n) => cfg.collection_timeout = n,
            DirectiveKind::AuditEngine(m) => {
                cfg.audit_engine = match m {
                    ast::AuditEngineMode::On => "On",
                    ast::AuditEngineMode::Off => "Off",
                    ast::AuditEngineMode::RelevantOnly => "RelevantOnly",
                }
                .into()
            }
            DirectiveKind::AuditLogParts(p) => cfg.audit_log_parts = p,
            DirectiveKind::UnicodeMapFile { code_page, .. } => {
                cfg.unicode_map_code_page = code_page
            }
            DirectiveKind::GeoLookupDb(p) => {
                let base = span.file.parent().unwrap_or(Path::new("."));
                self.geo_db = Some(base.join(p));
            }
            // Accepted without effect here: logging destinations, temp dirs, upload keeping,
            // signatures, status engine, XXE (never resolved), HTTP:BL key (`@rbl` unsupported).
            _ => {}
        }
    }

    fn default_action(&mut self, list: &[ast::Action], span: &ast::Span) {
        let a = match Actions::parse(list) {
            Ok(a) => a,
            Err(es) => {
                self.errors.extend(es.into_iter().map(|e| err_at(span, e)));
                return;
            }
        };
        let Some(phase) = a.phase else {
            self.errors
                .push(err_at(span, "`SecDefaultAction` needs a `phase`"));
            return;
        };
        let d = Defaults {
            transforms: a.transforms,
            log: a.log.unwrap_or(true),
            disruptive: a.disruptive.unwrap_or(Disruptive::Pass),
            status: a.status,
        };
        if let Some(slot) = self.defaults.get_mut(usize::from(phase) - 1) {
            *slot = Arc::new(d);
        }
    }

    fn finish(&mut self, files: usize) -> RuleSet {
        // SecRuleUpdateActionById: merged into the source actions before compiling.
        let updates = std::mem::take(&mut self.action_updates);
        for (id, new, span) in updates {
            let mut found = false;
            for p in &mut self.pending {
                if let Pending::Rule { ast, .. } = p {
                    if ast.id() == Some(id) {
                        merge_actions(&mut ast.actions, &new);
                        found = true;
                    }
                }
            }
            if !found {
                self.errors.push(err_at(
                    &span,
                    format!("`SecRuleUpdateActionById`: no rule with id `{id}`"),
                ));
            }
        }

        let pending = std::mem::take(&mut self.pending);
        let mut rules: Vec<Rule> = Vec::new();
        let mut order: Vec<Slot> = Vec::new();
        let mut seen_ids: FxHashMap<u64, ()> = FxHashMap::default();
        for p in pending {
            match p {
                Pending::Marker(m) => order.push(Slot::Marker(m)),
                Pending::Rule {
                    ast,
                    defaults,
                    phase,
                } => {
                    let span = ast.span.clone();
                    match self.compile_rule(&ast, &defaults, phase, true) {
                        Some(rule) => {
                            if seen_ids.insert(rule.id, ()).is_some() {
                                self.errors.push(err_at(
                                    &span,
                                    format!("duplicate rule id `{}`", rule.id),
                                ));
                                continue;
                            }
                            order.push(Slot::Rule(rules.len()));
                            rules.push(rule);
                        }
                        None => continue,
                    }
                }
            }
        }

        self.apply_target_updates(&mut rules);
        let removed: Vec<bool> = rules
            .iter()
            .map(|r| self.removes.iter().any(|s| selects(s, r)))
            .collect();

        let phases = [1u8, 2, 3, 4, 5].map(|ph| build_phase(&rules, &order, &removed, ph));
        let folding = crate::fold::analyse(&rules, &phases, &self.steps, &self.config);
        // Without a prefilter every rule is evaluated: slower, same verdicts.
        let prefilter =
            Prefilter::build(&rules, &phases, &self.steps, &folding).unwrap_or_default();
        let mut tagged: rustc_hash::FxHashMap<String, Vec<u32>> = Default::default();
        for (i, r) in (0u32..).zip(&rules) {
            for t in r.actions.tags.iter() {
                tagged.entry(t.clone()).or_default().push(i);
            }
        }
        RuleSet {
            spares: Spares::default(),
            tagged: tagged.into_iter().map(|(t, i)| (t, i.into())).collect(),
            walk: prefilter.walk(&phases, &folding),
            phases,
            prefilter,
            folding,
            chains: std::mem::take(&mut self.steps),
            rules,
            config: self.config.clone(),
            files,
        }
    }

    fn apply_target_updates(&mut self, rules: &mut [Rule]) {
        let updates = std::mem::take(&mut self.target_updates);
        for u in &updates {
            let mut hit = false;
            for r in rules.iter_mut() {
                if !selects(&u.sel, r) {
                    continue;
                }
                hit = true;
                if let Some(rep) = &u.replace {
                    match target_of(rep) {
                        Ok(t) => r
                            .targets
                            .retain(|x| !(x.var == t.var && same_sel(&x.sel, &t.sel))),
                        Err(e) => self.errors.push(err_at(&u.span, e)),
                    }
                }
                for spec in &u.targets {
                    if spec.negated {
                        match exclusion_of(spec) {
                            Ok(x) => r.exclusions.push(x),
                            Err(e) => self.errors.push(err_at(&u.span, e)),
                        }
                    } else {
                        match target_of(spec) {
                            Ok(t) => r.targets.push(t),
                            Err(e) => self.errors.push(err_at(&u.span, e)),
                        }
                    }
                }
            }
            // ModSecurity accepts updates of rules that are not loaded (e.g. paranoia
            // levels left out); so do we.
            let _ = hit;
        }
    }

    /// Interns a transformation list and every list it starts with (see [`ChainStep`]).
    fn chain_idx(&mut self, list: &[(&'static str, TransformFn)]) -> u32 {
        let names: Vec<&'static str> = list.iter().map(|(n, _)| *n).collect();
        if let Some(&id) = self.chains.get(&names) {
            return id;
        }
        let step = match list.split_last() {
            Some(((name, f), rest)) => {
                let parent = self.chain_idx(rest);
                let before = self
                    .steps
                    .get(parent as usize)
                    .map_or(ByteSet::ALL, |p| p.triggers);
                let own = crate::transformations::lookup(name).map_or(ByteSet::ALL, |t| t.triggers);
                let blind_before = self
                    .steps
                    .get(parent as usize)
                    .map_or(ByteSet::ALL, |p| p.case_blind_triggers);
                let changes_case_only = matches!(*name, "lowercase" | "uppercase");
                let func_id = crate::transformations::TRANSFORMATIONS
                    .iter()
                    .position(|t| t.name == *name)
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(u32::MAX);
                ChainStep {
                    parent,
                    func: Some(*f),
                    func_id,
                    triggers: before.union(own),
                    case_blind_triggers: if changes_case_only {
                        blind_before
                    } else {
                        blind_before.union(own)
                    },
                }
            }
            None => ChainStep {
                parent: 0,
                func: None,
                func_id: u32::MAX,
                triggers: ByteSet::EMPTY,
                case_blind_triggers: ByteSet::EMPTY,
            },
        };
        let id = u32::try_from(self.steps.len()).unwrap_or(u32::MAX);
        self.steps.push(step);
        self.chains.insert(names, id);
        id
    }

    fn compile_rule(
        &mut self,
        src: &ast::Rule,
        defaults: &Defaults,
        phase: u8,
        starter: bool,
    ) -> Option<Rule> {
        let span = &src.span;
        let mut ok = true;
        let mut actions = match Actions::parse(&src.actions) {
            Ok(a) => a,
            Err(es) => {
                self.errors.extend(es.into_iter().map(|e| err_at(span, e)));
                ok = false;
                Actions::default()
            }
        };
        let id = actions.id.unwrap_or(0);
        if starter && actions.id.is_none() && ok {
            // The parser usually said so already; one error per problem.
            let line = u32::try_from(span.line).unwrap_or(u32::MAX);
            if !self
                .errors
                .iter()
                .any(|e| e.line == line && *e.file == *span.file)
            {
                self.errors.push(err_at(span, "rule has no `id` action"));
            }
            ok = false;
        }
        if !starter {
            if actions.id.is_some() || actions.phase.is_some_and(|p| p != phase) {
                // ModSecurity rejects ids and phases on chained rules.
                self.errors
                    .push(err_at(span, "a chained rule may not have `id` or `phase`"));
                ok = false;
            }
            if actions.disruptive.is_some() {
                self.errors.push(err_at(
                    span,
                    "a chained rule may not have a disruptive action",
                ));
                ok = false;
            }
        }
        if actions.chain != src.chain.is_some() {
            self.errors
                .push(err_at(span, "`chain` without a following rule"));
            ok = false;
        }

        let mut targets = Vec::new();
        let mut exclusions = Vec::new();
        for v in &src.variables {
            let res = if v.negated {
                exclusion_of(v).map(|x| exclusions.push(x))
            } else {
                target_of(v).map(|t| targets.push(t))
            };
            if let Err(e) = res {
                self.errors.push(err_at(span, e));
                ok = false;
            }
        }

        let op = match self.build_operator(&src.operator, span) {
            Ok(op) => op,
            Err(e) => {
                self.errors.push(err_at(span, e));
                ok = false;
                Op {
                    negated: false,
                    name: String::new(),
                    display: "",
                    arg: String::new(),
                    kind: OpKind::Never,
                }
            }
        };

        let mut list: Vec<(&'static str, crate::transformations::TransformFn)> = Vec::new();
        if !actions.t_none {
            list.extend(defaults.transforms.iter().copied());
        }
        list.extend(actions.transforms.iter().copied());
        let chain_idx = self.chain_idx(&list);
        let transforms = list.iter().map(|(_, f)| *f).collect();

        let chain = match &src.chain {
            Some(c) => self.compile_rule(c, defaults, phase, false).map(Box::new),
            None => None,
        };
        if src.chain.is_some() && chain.is_none() {
            ok = false;
        }

        let log = actions.log.unwrap_or(defaults.log);
        let disruptive = match actions.disruptive.take() {
            None | Some(Disruptive::Block) => defaults.disruptive.clone(),
            Some(d) => d,
        };
        let status = actions.status.or(defaults.status);
        if !ok {
            return None;
        }
        let keeps_matched_vars = src.chain.is_some()
            || src.actions.iter().any(|a| {
                a.value
                    .as_deref()
                    .is_some_and(|v| v.to_ascii_lowercase().contains("matched_vars"))
            });
        Some(Rule {
            id,
            phase,
            file: Arc::clone(&span.file),
            line: span.line,
            targets,
            exclusions,
            op,
            transforms,
            chain_idx,
            actions,
            log,
            disruptive,
            status,
            keeps_matched_vars,
            chain,
        })
    }

    fn build_operator(&self, spec: &ast::OperatorSpec, span: &ast::Span) -> Result<Op, String> {
        let name = spec.name.to_ascii_lowercase();
        let kind = match name.as_str() {
            "unconditionalmatch" => OpKind::Always,
            "nomatch" => OpKind::Never,
            _ if spec.arg.contains("%{") => {
                // Checked once now so a bad operator name is a load error.
                let m = Macro::parse(&spec.arg)?;
                if display_name(&name) == "Unknown" {
                    return Err(format!("unknown operator `@{}`", spec.name));
                }
                OpKind::Dynamic(m)
            }
            _ => {
                let base = span.file.parent().unwrap_or(Path::new("."));
                let env = OperatorEnv {
                    base_dir: base,
                    geo_db: self.geo_db.as_deref(),
                };
                OpKind::Static(operators::build(&name, &spec.arg, &env)?)
            }
        };
        Ok(Op {
            negated: spec.negated,
            display: display_name(&name),
            name,
            arg: spec.arg.clone(),
            kind,
        })
    }
}

fn limit_action(a: ast::BodyLimitAction) -> LimitAction {
    match a {
        ast::BodyLimitAction::Reject => LimitAction::Reject,
        ast::BodyLimitAction::ProcessPartial => LimitAction::ProcessPartial,
    }
}

fn key_text(var: variables::Var, k: &Option<VariableKey>) -> Result<KeySel, String> {
    match k {
        None => Ok(KeySel::All),
        // An `XML` key is an XPath: case matters, and one outside the subset the engine
        // evaluates is refused here rather than read as something else.
        Some(VariableKey::Literal(s)) if var == variables::Var::Xml => {
            crate::bodies::xml::check_xpath(s).map_err(|e| format!("`XML:{s}`: {e}"))?;
            Ok(KeySel::Exact(s.as_str().into()))
        }
        Some(VariableKey::Literal(s)) => Ok(KeySel::Exact(s.to_ascii_lowercase().into())),
        Some(VariableKey::Regex(r)) => KeySel::parse(Some(&format!("/{r}/"))),
    }
}

fn target_of(v: &VariableSpec) -> Result<Target, String> {
    let def = variables::lookup(&v.name).ok_or_else(|| format!("unknown variable `{}`", v.name))?;
    if v.key.is_some() && !def.collection {
        return Err(format!("variable `{}` takes no key", v.name));
    }
    Ok(Target {
        var: def.var,
        sel: key_text(def.var, &v.key)?,
        count: v.count,
    })
}

fn exclusion_of(v: &VariableSpec) -> Result<TargetRef, String> {
    let def = variables::lookup(&v.name).ok_or_else(|| format!("unknown variable `{}`", v.name))?;
    Ok(TargetRef {
        var: def.var,
        sel: key_text(def.var, &v.key)?,
    })
}

pub(crate) fn same_sel(a: &KeySel, b: &KeySel) -> bool {
    match (a, b) {
        (KeySel::All, KeySel::All) => true,
        (KeySel::Exact(x), KeySel::Exact(y)) => x == y,
        (KeySel::Regex(x), KeySel::Regex(y)) => x.as_str() == y.as_str(),
        (KeySel::Prefix(x), KeySel::Prefix(y)) => x == y,
        (KeySel::Contains(x), KeySel::Contains(y)) => x == y,
        _ => false,
    }
}

fn selects(sel: &RuleSel, r: &Rule) -> bool {
    match sel {
        RuleSel::Ids(ids) => ids.iter().any(|i| i.contains(r.id)),
        RuleSel::Tag(t) => r.actions.tags.iter().any(|x| x == t),
        RuleSel::Msg(m) => r.actions.msg.as_ref().is_some_and(|x| &x.text == m),
    }
}

/// Actions that may appear many times are appended; the others replace their kind.
fn merge_actions(old: &mut Vec<ast::Action>, new: &[ast::Action]) {
    let disruptive = |n: &str| matches!(actions::kind(n), Some(actions::Kind::Disruptive));
    for a in new {
        let multi = matches!(a.name.as_str(), "t" | "setvar" | "tag" | "ctl" | "setenv");
        if !multi {
            if disruptive(&a.name) {
                old.retain(|o| !disruptive(&o.name));
            } else {
                old.retain(|o| o.name != a.name);
            }
        }
        if a.name == "t"
            && a.value
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            old.retain(|o| o.name != "t");
        }
        // `chain` must stay last so the chained rule still follows.
        let pos = old
            .iter()
            .position(|o| o.name == "chain")
            .unwrap_or(old.len());
        old.insert(pos, a.clone());
    }
}

/// Where `skip:n` goes on when the rule loop is at `next` (just after the rule): `n` rules
/// further, markers not counted; `None` for `skip:0` (no skip).
pub(crate) fn skip_target(list: &[Entry], next: usize, n: u32) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let (mut left, mut j) = (n, next);
    while left > 0 {
        match list.get(j) {
            Some(Entry::Rule { .. }) => left -= 1,
            Some(Entry::Marker) => {}
            None => break,
        }
        j += 1;
    }
    Some(j)
}

fn build_phase(rules: &[Rule], order: &[Slot], removed: &[bool], phase: u8) -> Vec<Entry> {
    let mut list: Vec<Entry> = Vec::new();
    let mut markers: Vec<(usize, &str)> = Vec::new();
    for slot in order {
        match slot {
            Slot::Marker(name) => {
                markers.push((list.len(), name));
                list.push(Entry::Marker);
            }
            Slot::Rule(idx) => {
                let Some(r) = rules.get(*idx) else { continue };
                if r.phase == phase && !removed.get(*idx).copied().unwrap_or(false) {
                    list.push(Entry::Rule {
                        idx: *idx,
                        skip_to: None,
                    });
                }
            }
        }
    }
    let len = list.len();
    for (pos, e) in list.iter_mut().enumerate() {
        if let Entry::Rule { idx, skip_to } = e {
            let Some(target) = rules
                .get(*idx)
                .and_then(|r| r.actions.skip_after.as_deref())
            else {
                continue;
            };
            // Skip to just after the next marker of that name; none left: end of phase.
            let to = markers
                .iter()
                .find(|(mpos, name)| *mpos > pos && *name == target)
                .map_or(len, |(mpos, _)| mpos + 1);
            *skip_to = Some(to);
        }
    }
    list
}
