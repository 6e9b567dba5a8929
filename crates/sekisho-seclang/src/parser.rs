//! Entry points: read files (following `Include`) or text into directives, then attach chained
//! rules to their starters and check rule ids.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ast::{Directive, DirectiveKind, Rule, Span};
use crate::directives::{parse_directive, Parsed};
use crate::error::ParseError;
use crate::lexer::{logical_lines, split_args, UnclosedQuote};

/// Includes nested deeper than this are reported as an error (almost surely a cycle).
const MAX_INCLUDE_DEPTH: usize = 32;

/// Chains longer than this are an error: real chains have a handful of rules, and the AST is
/// recursive, so an absurd chain from hostile input must not reach deep recursion.
const MAX_CHAIN_LENGTH: usize = 100;

/// Parses `path` and every file it includes; returns the first error, if any.
pub fn parse_file(path: &Path) -> Result<Vec<Directive>, ParseError> {
    first_error(parse_file_all(path))
}

/// Parses `path` and every file it includes, collecting every error (for `waf check`).
///
/// Directives that parsed are returned even when there are errors.
pub fn parse_file_all(path: &Path) -> (Vec<Directive>, Vec<ParseError>) {
    let mut reader = Reader::default();
    reader.read_file(path, None);
    reader.finish()
}

/// Parses `text` as if read from `origin` (relative `Include`s resolve against `origin`'s
/// directory); returns the first error, if any.
pub fn parse_str(text: &str, origin: &Path) -> Result<Vec<Directive>, ParseError> {
    first_error(parse_str_all(text, origin))
}

/// Parses `text` as if read from `origin`, collecting every error.
pub fn parse_str_all(text: &str, origin: &Path) -> (Vec<Directive>, Vec<ParseError>) {
    let mut reader = Reader::default();
    reader.read_text(text, Arc::from(origin), 0);
    reader.finish()
}

fn first_error(
    (directives, mut errors): (Vec<Directive>, Vec<ParseError>),
) -> Result<Vec<Directive>, ParseError> {
    if errors.is_empty() {
        Ok(directives)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// Accumulates directives in source order (includes expanded in place) and errors.
#[derive(Default)]
struct Reader {
    directives: Vec<Directive>,
    errors: Vec<ParseError>,
    /// Canonical paths of the files being read, outermost first (cycle detection).
    open: Vec<PathBuf>,
}

impl Reader {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(ParseError::new(span, message));
    }

    /// Reads one file; `from` is the `Include` directive that named it.
    fn read_file(&mut self, path: &Path, from: Option<&Span>) {
        let whole_file = Span {
            file: Arc::from(path),
            line: 0,
        };
        let at = from.cloned().unwrap_or_else(|| whole_file.clone());
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.open.contains(&canonical) {
            let message = format!("include cycle: `{}` includes itself", path.display());
            self.error(at, message);
            return;
        }
        if self.open.len() >= MAX_INCLUDE_DEPTH {
            let message = format!(
                "includes nested more than {MAX_INCLUDE_DEPTH} deep at `{}`",
                path.display()
            );
            self.error(at, message);
            return;
        }
        if path.is_dir() {
            let message = format!(
                "`{}` is a directory; include its files with a glob such as `{}`",
                path.display(),
                path.join("*.conf").display()
            );
            self.error(at, message);
            return;
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let message = format!("cannot read `{}`: {e}", path.display());
                self.error(at, message);
                return;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let line = 1 + bytes
                    .get(..valid)
                    .unwrap_or_default()
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                let byte = bytes.get(valid).copied().unwrap_or_default();
                let span = Span { line, ..whole_file };
                self.error(span, format!("file is not valid UTF-8 (byte `0x{byte:02x}`); write raw bytes as `\\xNN` escapes"));
                return;
            }
        };
        self.open.push(canonical);
        let depth = self.open.len();
        self.read_text(&text, whole_file.file, depth);
        self.open.pop();
    }

    /// Reads directives from `text`, which comes from `file`.
    fn read_text(&mut self, text: &str, file: Arc<Path>, depth: usize) {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in logical_lines(text) {
            let span = Span {
                file: Arc::clone(&file),
                line: line.line,
            };
            let args = match split_args(&line.text) {
                Ok(args) => args,
                Err(UnclosedQuote(q)) => {
                    self.error(span, format!("unclosed `{q}` in `{}`", excerpt(&line.text)));
                    continue;
                }
            };
            let Some((name, rest)) = args.split_first() else {
                continue;
            };
            match parse_directive(name, rest, &span) {
                Ok(Parsed::Directive(kind)) => self.directives.push(Directive { span, kind }),
                Ok(Parsed::Include { path, optional }) => {
                    self.include(&path, optional, &span, depth)
                }
                Err(message) => self.error(span, message),
            }
        }
    }

    /// Resolves `Include PATTERN` against the including file's directory and reads each match
    /// in sorted order. A glob matching nothing is fine; a missing plain file is an error.
    fn include(&mut self, pattern: &str, optional: bool, span: &Span, depth: usize) {
        if depth >= MAX_INCLUDE_DEPTH {
            let message =
                format!("includes nested more than {MAX_INCLUDE_DEPTH} deep at `{pattern}`");
            self.error(span.clone(), message);
            return;
        }
        let base = span.file.parent().unwrap_or_else(|| Path::new(""));
        let full = base.join(pattern);
        if !pattern.contains(['*', '?', '[']) {
            if !optional || full.exists() {
                self.read_file(&full, Some(span));
            }
            return;
        }
        let Some(full_text) = full.to_str() else {
            self.error(
                span.clone(),
                format!("include path `{}` is not valid UTF-8", full.display()),
            );
            return;
        };
        let paths = match glob::glob(full_text) {
            Ok(paths) => paths,
            Err(e) => {
                self.error(
                    span.clone(),
                    format!("bad include pattern `{pattern}`: {e}"),
                );
                return;
            }
        };
        let mut files = Vec::new();
        for entry in paths {
            match entry {
                Ok(path) if path.is_file() => files.push(path),
                Ok(_) => {}
                Err(e) => self.error(
                    span.clone(),
                    format!("cannot read `{}`: {}", e.path().display(), e.error()),
                ),
            }
        }
        files.sort();
        for file in files {
            self.read_file(&file, Some(span));
        }
    }

    fn finish(mut self) -> (Vec<Directive>, Vec<ParseError>) {
        let directives = assemble_chains(std::mem::take(&mut self.directives), &mut self.errors);
        check_ids(&directives, &mut self.errors);
        (directives, self.errors)
    }
}

/// The start of a long line, for error messages.
fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    }
}

fn has_chain(rule: &Rule) -> bool {
    rule.actions.iter().any(|a| a.name == "chain")
}

/// The last rule of a chain.
fn chain_end(rule: &mut Rule) -> &mut Rule {
    match rule.chain {
        Some(ref mut next) => chain_end(next),
        None => rule,
    }
}

/// Moves each rule that follows a rule with `chain` into that rule's `chain` field.
fn assemble_chains(flat: Vec<Directive>, errors: &mut Vec<ParseError>) -> Vec<Directive> {
    let mut out: Vec<Directive> = Vec::with_capacity(flat.len());
    // The directive being chained and the number of rules in its chain so far.
    let mut open: Option<(Directive, usize)> = None;
    for directive in flat {
        let Some((mut starter, length)) = open.take() else {
            if matches!(&directive.kind, DirectiveKind::Rule(r) | DirectiveKind::Action(r) if has_chain(r))
            {
                open = Some((directive, 1));
            } else {
                out.push(directive);
            }
            continue;
        };
        let (DirectiveKind::Rule(head) | DirectiveKind::Action(head)) = &mut starter.kind else {
            out.push(starter);
            out.push(directive);
            continue;
        };
        let last = chain_end(head);
        match directive.kind {
            DirectiveKind::Rule(rule) if length >= MAX_CHAIN_LENGTH => {
                errors.push(ParseError::new(
                    rule.span,
                    format!("chain longer than {MAX_CHAIN_LENGTH} rules"),
                ));
                out.push(starter);
            }
            DirectiveKind::Rule(rule) => {
                check_chained(&rule, errors);
                let continues = has_chain(&rule);
                last.chain = Some(Box::new(rule));
                if continues {
                    open = Some((starter, length + 1));
                } else {
                    out.push(starter);
                }
            }
            other => {
                let message = format!(
                    "rule has `chain` but is followed by `{}` instead of a `SecRule` (at {})",
                    other.directive_name(),
                    directive.span
                );
                errors.push(ParseError::new(last.span.clone(), message));
                out.push(starter);
                out.push(Directive {
                    span: directive.span,
                    kind: other,
                });
            }
        }
    }
    if let Some((mut starter, _)) = open {
        if let DirectiveKind::Rule(head) | DirectiveKind::Action(head) = &mut starter.kind {
            let last = chain_end(head);
            errors.push(ParseError::new(
                last.span.clone(),
                "rule has `chain` but no `SecRule` follows it",
            ));
        }
        out.push(starter);
    }
    out
}

/// A chained rule inherits id and phase from its starter and may not disrupt on its own.
fn check_chained(rule: &Rule, errors: &mut Vec<ParseError>) {
    for action in &rule.actions {
        let name = action.name.as_str();
        let problem = if name == "id" || name == "phase" {
            format!("a chained rule cannot have `{name}`; it belongs on the chain starter")
        } else if crate::actions::DISRUPTIVE.contains(&name) {
            format!("disruptive action `{name}` is only allowed on the chain starter")
        } else {
            continue;
        };
        errors.push(ParseError::new(rule.span.clone(), problem));
    }
}

/// Every rule (and `SecAction`) needs a unique `id`, as in ModSecurity.
fn check_ids(directives: &[Directive], errors: &mut Vec<ParseError>) {
    let mut seen: HashMap<u64, &Span> = HashMap::new();
    for directive in directives {
        let (DirectiveKind::Rule(rule) | DirectiveKind::Action(rule)) = &directive.kind else {
            continue;
        };
        let Some(id) = rule.id() else {
            let message = format!("`{}` has no `id` action", directive.kind.directive_name());
            errors.push(ParseError::new(rule.span.clone(), message));
            continue;
        };
        match seen.get(&id) {
            Some(first) => {
                let message = format!("duplicate rule id `{id}` (first used at {first})");
                errors.push(ParseError::new(rule.span.clone(), message));
            }
            None => {
                seen.insert(id, &rule.span);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Directive>, Vec<ParseError>) {
        parse_str_all(text, Path::new("t.conf"))
    }

    #[test]
    fn attaches_chains_recursively_including_secaction_starters() {
        let text = "SecAction \"id:1,phase:1,pass,chain\"\n\
                    SecRule ARGS \"@rx a\" \"chain\"\n\
                    SecRule ARGS \"@rx b\"\n\
                    SecRule ARGS \"@rx c\" \"id:2,phase:2,pass\"\n";
        let (directives, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(directives.len(), 2);
        let DirectiveKind::Action(head) = &directives[0].kind else {
            panic!("expected SecAction")
        };
        let lines: Vec<usize> = head.chain_iter().map(|r| r.span.line).collect();
        assert_eq!(lines, vec![1, 2, 3]);
        assert_eq!(head.operator.name, "unconditionalmatch");
    }

    #[test]
    fn absurd_chains_are_cut_with_an_error() {
        let mut text = String::from("SecRule ARGS \"@rx a\" \"id:1,phase:1,pass,chain\"\n");
        for _ in 0..150 {
            text.push_str("SecRule ARGS \"@rx a\" \"chain\"\n");
        }
        let (directives, errors) = parse(&text);
        assert!(errors
            .iter()
            .any(|e| e.message.contains("chain longer than 100")));
        let depth = directives
            .iter()
            .filter_map(|d| match &d.kind {
                DirectiveKind::Rule(r) => Some(r.chain_iter().count()),
                _ => None,
            })
            .max();
        assert_eq!(depth, Some(MAX_CHAIN_LENGTH));
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let (directives, errors) = parse("\u{feff}SecRuleEngine On\r\nSecMarker \"A B\"\r\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(directives[1].kind, DirectiveKind::Marker("A B".into()));
        assert_eq!(directives[1].span.line, 2);
    }
}
