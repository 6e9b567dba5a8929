//! The directive registry: each SecLang directive name and how its arguments become a
//! [`DirectiveKind`]. `Include` is returned as a request for the parser to resolve.

use crate::actions::parse_actions;
use crate::args::{
    file_mode, id_ranges, limit_action, no_replace, none, number, on_off, one, parse_id,
    relevant_mode, update_target_args,
};
use crate::ast::{
    Action, AuditLogFormat, AuditLogType, DirectiveKind, EngineMode, OperatorSpec, Rule, Span,
};
use crate::operators::parse_operator;
use crate::suggest;
use crate::variables::parse_variables;

/// What one directive line turned into.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A directive for the AST.
    Directive(DirectiveKind),
    /// `Include PATH` (or `IncludeOptional`, where a missing file is fine).
    Include {
        /// The path or glob as written.
        path: String,
        /// Whether a missing non-glob file is silently skipped.
        optional: bool,
    },
}

/// A directive parser: its arguments (without the name) and its location.
type Handler = fn(&[String], &Span) -> Result<Parsed, String>;

/// Every supported directive, by its documented name (matched case-insensitively).
const DIRECTIVES: &[(&str, Handler)] = &[
    ("Include", |a, _| include(a, false)),
    ("IncludeOptional", |a, _| include(a, true)),
    ("SecRule", sec_rule),
    ("SecAction", sec_action),
    ("SecMarker", |a, _| {
        ok(DirectiveKind::Marker(one(a)?.to_owned()))
    }),
    ("SecDefaultAction", sec_default_action),
    ("SecRuleEngine", |a, _| {
        let mode = match one(a)?.to_ascii_lowercase().as_str() {
            "on" => EngineMode::On,
            "off" => EngineMode::Off,
            "detectiononly" => EngineMode::DetectionOnly,
            _ => {
                return Err(format!(
                    "expected `On`, `Off` or `DetectionOnly`, got `{}`",
                    one(a)?
                ))
            }
        };
        ok(DirectiveKind::RuleEngine(mode))
    }),
    ("SecRequestBodyAccess", |a, _| {
        ok(DirectiveKind::RequestBodyAccess(on_off(a)?))
    }),
    ("SecResponseBodyAccess", |a, _| {
        ok(DirectiveKind::ResponseBodyAccess(on_off(a)?))
    }),
    ("SecResponseBodyMimeType", |a, _| {
        let types: Vec<String> = a
            .iter()
            .flat_map(|t| t.split_whitespace())
            .map(str::to_owned)
            .collect();
        if types.is_empty() {
            return Err("expected at least one MIME type".to_owned());
        }
        ok(DirectiveKind::ResponseBodyMimeType(types))
    }),
    ("SecResponseBodyMimeTypesClear", |a, _| {
        none(a)?;
        ok(DirectiveKind::ResponseBodyMimeTypesClear)
    }),
    ("SecRequestBodyLimit", |a, _| {
        ok(DirectiveKind::RequestBodyLimit(number(a)?))
    }),
    ("SecRequestBodyNoFilesLimit", |a, _| {
        ok(DirectiveKind::RequestBodyNoFilesLimit(number(a)?))
    }),
    ("SecRequestBodyInMemoryLimit", |a, _| {
        ok(DirectiveKind::RequestBodyInMemoryLimit(number(a)?))
    }),
    ("SecRequestBodyLimitAction", |a, _| {
        ok(DirectiveKind::RequestBodyLimitAction(limit_action(a)?))
    }),
    ("SecRequestBodyJsonDepthLimit", |a, _| {
        ok(DirectiveKind::RequestBodyJsonDepthLimit(number(a)?))
    }),
    ("SecArgumentsLimit", |a, _| {
        ok(DirectiveKind::ArgumentsLimit(number(a)?))
    }),
    ("SecResponseBodyLimit", |a, _| {
        ok(DirectiveKind::ResponseBodyLimit(number(a)?))
    }),
    ("SecResponseBodyLimitAction", |a, _| {
        ok(DirectiveKind::ResponseBodyLimitAction(limit_action(a)?))
    }),
    ("SecPcreMatchLimit", |a, _| {
        ok(DirectiveKind::PcreMatchLimit(number(a)?))
    }),
    ("SecPcreMatchLimitRecursion", |a, _| {
        ok(DirectiveKind::PcreMatchLimitRecursion(number(a)?))
    }),
    ("SecRuleRemoveById", |a, _| {
        ok(DirectiveKind::RuleRemoveById(id_ranges(a)?))
    }),
    ("SecRuleRemoveByTag", |a, _| {
        ok(DirectiveKind::RuleRemoveByTag(one(a)?.to_owned()))
    }),
    ("SecRuleRemoveByMsg", |a, _| {
        ok(DirectiveKind::RuleRemoveByMsg(one(a)?.to_owned()))
    }),
    ("SecRuleUpdateTargetById", |a, _| {
        let (first, targets, replace) = update_target_args(a)?;
        let ids = id_ranges(std::slice::from_ref(&first.to_owned()))?;
        let replace = match replace {
            Some(r) => {
                let mut vars = parse_variables(r)?;
                if vars.len() != 1 {
                    return Err(format!("expected one variable to replace, got `{r}`"));
                }
                vars.pop()
            }
            None => None,
        };
        ok(DirectiveKind::RuleUpdateTargetById {
            ids,
            targets,
            replace,
        })
    }),
    ("SecRuleUpdateTargetByTag", |a, _| {
        let (tag, targets, replace) = update_target_args(a)?;
        no_replace(replace)?;
        ok(DirectiveKind::RuleUpdateTargetByTag {
            tag: tag.to_owned(),
            targets,
        })
    }),
    ("SecRuleUpdateTargetByMsg", |a, _| {
        let (msg, targets, replace) = update_target_args(a)?;
        no_replace(replace)?;
        ok(DirectiveKind::RuleUpdateTargetByMsg {
            msg: msg.to_owned(),
            targets,
        })
    }),
    ("SecRuleUpdateActionById", |a, _| {
        let [id, actions] = a else {
            return Err(format!(
                "expected a rule id and an action list, got {} arguments",
                a.len()
            ));
        };
        if id.contains(':') {
            return Err(format!(
                "chain offsets like `{id}` are not supported; update the chain starter"
            ));
        }
        let id = parse_id(id)?;
        let actions = parse_actions(actions)?;
        if let Some(bad) = actions
            .iter()
            .find(|a| matches!(a.name.as_str(), "id" | "chain"))
        {
            return Err(format!("action `{}` cannot be updated", bad.name));
        }
        ok(DirectiveKind::RuleUpdateActionById { id, actions })
    }),
    ("SecComponentSignature", |a, _| {
        ok(DirectiveKind::ComponentSignature(one(a)?.to_owned()))
    }),
    ("SecServerSignature", |a, _| {
        ok(DirectiveKind::ServerSignature(one(a)?.to_owned()))
    }),
    ("SecWebAppId", |a, _| {
        ok(DirectiveKind::WebAppId(one(a)?.to_owned()))
    }),
    ("SecArgumentSeparator", |a, _| {
        let text = one(a)?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => ok(DirectiveKind::ArgumentSeparator(c)),
            _ => Err(format!("expected exactly one character, got `{text}`")),
        }
    }),
    ("SecCookieFormat", |a, _| match one(a)? {
        "0" => ok(DirectiveKind::CookieFormat(0)),
        "1" => ok(DirectiveKind::CookieFormat(1)),
        other => Err(format!("expected `0` or `1`, got `{other}`")),
    }),
    ("SecCollectionTimeout", |a, _| {
        ok(DirectiveKind::CollectionTimeout(number(a)?))
    }),
    ("SecStatusEngine", |a, _| {
        ok(DirectiveKind::StatusEngine(on_off(a)?))
    }),
    ("SecXmlExternalEntity", |a, _| {
        ok(DirectiveKind::XmlExternalEntity(on_off(a)?))
    }),
    ("SecHttpBlKey", |a, _| {
        ok(DirectiveKind::HttpBlKey(one(a)?.to_owned()))
    }),
    ("SecGeoLookupDb", |a, _| {
        ok(DirectiveKind::GeoLookupDb(one(a)?.to_owned()))
    }),
    ("SecUnicodeMapFile", |a, _| match a {
        [path] => ok(DirectiveKind::UnicodeMapFile {
            path: path.clone(),
            code_page: None,
        }),
        [path, page] => {
            let page = page
                .parse()
                .map_err(|_| format!("expected a code page number, got `{page}`"))?;
            ok(DirectiveKind::UnicodeMapFile {
                path: path.clone(),
                code_page: Some(page),
            })
        }
        _ => Err(format!(
            "expected a file and an optional code page, got {} arguments",
            a.len()
        )),
    }),
    ("SecAuditEngine", |a, _| {
        ok(DirectiveKind::AuditEngine(relevant_mode(a)?))
    }),
    ("SecAuditLog", |a, _| {
        ok(DirectiveKind::AuditLog(one(a)?.to_owned()))
    }),
    ("SecAuditLog2", |a, _| {
        ok(DirectiveKind::AuditLog2(one(a)?.to_owned()))
    }),
    ("SecAuditLogParts", |a, _| {
        let parts = one(a)?;
        if parts.is_empty() || !parts.chars().all(|c| "ABCDEFGHIJKZ".contains(c)) {
            return Err(format!(
                "expected audit log parts from `ABCDEFGHIJKZ`, got `{parts}`"
            ));
        }
        ok(DirectiveKind::AuditLogParts(parts.to_owned()))
    }),
    ("SecAuditLogType", |a, _| {
        let kind = match one(a)?.to_ascii_lowercase().as_str() {
            "serial" => AuditLogType::Serial,
            "concurrent" | "parallel" => AuditLogType::Concurrent,
            "https" => AuditLogType::Https,
            _ => {
                return Err(format!(
                    "expected `Serial`, `Concurrent` or `HTTPS`, got `{}`",
                    one(a)?
                ))
            }
        };
        ok(DirectiveKind::AuditLogType(kind))
    }),
    ("SecAuditLogFormat", |a, _| {
        let format = match one(a)?.to_ascii_lowercase().as_str() {
            "json" => AuditLogFormat::Json,
            "native" => AuditLogFormat::Native,
            _ => return Err(format!("expected `JSON` or `Native`, got `{}`", one(a)?)),
        };
        ok(DirectiveKind::AuditLogFormat(format))
    }),
    ("SecAuditLogRelevantStatus", |a, _| {
        ok(DirectiveKind::AuditLogRelevantStatus(one(a)?.to_owned()))
    }),
    ("SecAuditLogStorageDir", |a, _| {
        ok(DirectiveKind::AuditLogStorageDir(one(a)?.to_owned()))
    }),
    ("SecAuditLogDirMode", |a, _| {
        ok(DirectiveKind::AuditLogDirMode(file_mode(a)?))
    }),
    ("SecAuditLogFileMode", |a, _| {
        ok(DirectiveKind::AuditLogFileMode(file_mode(a)?))
    }),
    ("SecDebugLog", |a, _| {
        ok(DirectiveKind::DebugLog(one(a)?.to_owned()))
    }),
    ("SecDebugLogLevel", |a, _| {
        let level = one(a)?;
        match level.parse::<u8>() {
            Ok(n) if n <= 9 => ok(DirectiveKind::DebugLogLevel(n)),
            _ => Err(format!("expected a debug level from 0 to 9, got `{level}`")),
        }
    }),
    ("SecTmpDir", |a, _| {
        ok(DirectiveKind::TmpDir(one(a)?.to_owned()))
    }),
    ("SecDataDir", |a, _| {
        ok(DirectiveKind::DataDir(one(a)?.to_owned()))
    }),
    ("SecUploadDir", |a, _| {
        ok(DirectiveKind::UploadDir(one(a)?.to_owned()))
    }),
    ("SecUploadKeepFiles", |a, _| {
        ok(DirectiveKind::UploadKeepFiles(relevant_mode(a)?))
    }),
    ("SecUploadFileLimit", |a, _| {
        ok(DirectiveKind::UploadFileLimit(number(a)?))
    }),
    ("SecUploadFileMode", |a, _| {
        ok(DirectiveKind::UploadFileMode(file_mode(a)?))
    }),
    ("SecTmpSaveUploadedFiles", |a, _| {
        ok(DirectiveKind::TmpSaveUploadedFiles(on_off(a)?))
    }),
];

/// Directives sekisho knows but refuses, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "SecRemoteRules",
        "sekisho never fetches rules over the network; download the file and `Include` it",
    ),
    (
        "SecRemoteRulesFailAction",
        "`SecRemoteRules` is not supported; download the file and `Include` it",
    ),
    ("SecRuleScript", "Lua scripts are not supported"),
    (
        "SecContentInjection",
        "content injection (`append`/`prepend`) is not supported",
    ),
    (
        "SecStreamInBodyInspection",
        "stream body rewriting is not supported",
    ),
    (
        "SecStreamOutBodyInspection",
        "stream body rewriting is not supported",
    ),
    (
        "SecGsbLookupDb",
        "Google Safe Browsing lookups need the network",
    ),
    (
        "SecGuardianLog",
        "the guardian log is not supported (removed in ModSecurity v3)",
    ),
    ("SecChrootDir", "sekisho does not chroot"),
    (
        "SecConnEngine",
        "connection-level rules are not supported (not in ModSecurity v3)",
    ),
    (
        "SecDisableBackendCompression",
        "not supported (not in ModSecurity v3)",
    ),
    (
        "SecInterceptOnError",
        "not supported (not in ModSecurity v3)",
    ),
    (
        "SecRuleInheritance",
        "not supported (not in ModSecurity v3)",
    ),
    ("SecRulePerfTime", "not supported (not in ModSecurity v3)"),
    (
        "SecCacheTransformations",
        "not supported (removed in ModSecurity v3)",
    ),
    (
        "SecHashEngine",
        "hash-based signing (`SecHash*`) is not supported",
    ),
    (
        "SecHashKey",
        "hash-based signing (`SecHash*`) is not supported",
    ),
    (
        "SecHashParam",
        "hash-based signing (`SecHash*`) is not supported",
    ),
    (
        "SecHashMethodRx",
        "hash-based signing (`SecHash*`) is not supported",
    ),
    (
        "SecHashMethodPm",
        "hash-based signing (`SecHash*`) is not supported",
    ),
];

/// Parses one directive line (name plus arguments, already unquoted).
pub(crate) fn parse_directive(name: &str, args: &[String], span: &Span) -> Result<Parsed, String> {
    if let Some((doc_name, handler)) = DIRECTIVES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return handler(args, span).map_err(|message| format!("{doc_name}: {message}"));
    }
    if let Some((doc_name, reason)) = UNSUPPORTED
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return Err(format!("directive `{doc_name}` is not supported: {reason}"));
    }
    if name.starts_with('<') {
        return Err(format!(
            "unknown directive `{name}`: Apache containers are not SecLang; keep only the `Sec*` directives"
        ));
    }
    let known = DIRECTIVES.iter().map(|(n, _)| *n);
    Err(format!(
        "unknown directive `{name}`{}",
        suggest::hint(name, known)
    ))
}

/// Every supported directive name.
pub fn directive_names() -> impl Iterator<Item = &'static str> {
    DIRECTIVES.iter().map(|(name, _)| *name)
}

fn ok(kind: DirectiveKind) -> Result<Parsed, String> {
    Ok(Parsed::Directive(kind))
}

fn include(args: &[String], optional: bool) -> Result<Parsed, String> {
    Ok(Parsed::Include {
        path: one(args)?.to_owned(),
        optional,
    })
}

fn sec_rule(args: &[String], span: &Span) -> Result<Parsed, String> {
    let (variables, operator, actions) = match args {
        [v, o] => (v, o, None),
        [v, o, a] => (v, o, Some(a)),
        _ => {
            let hint = if args.iter().any(|a| a.starts_with('|') || a.ends_with('|')) {
                " (remove the blanks around `|` in the variable list)"
            } else if args.len() > 3 {
                " (is a quote missing or unescaped?)"
            } else {
                ""
            };
            return Err(format!(
                "expected `SecRule VARIABLES OPERATOR [ACTIONS]`, got {} arguments{hint}",
                args.len()
            ));
        }
    };
    let rule = Rule {
        variables: parse_variables(variables)?,
        operator: parse_operator(operator)?,
        actions: match actions {
            Some(text) => parse_actions(text)?,
            None => Vec::new(),
        },
        chain: None,
        span: span.clone(),
    };
    ok(DirectiveKind::Rule(rule))
}

fn sec_action(args: &[String], span: &Span) -> Result<Parsed, String> {
    let text = match args {
        [text] => text,
        _ => {
            return Err(format!(
                "expected one quoted action list, got {} arguments",
                args.len()
            ))
        }
    };
    let rule = Rule {
        variables: Vec::new(),
        operator: OperatorSpec {
            negated: false,
            name: "unconditionalmatch".to_owned(),
            arg: String::new(),
        },
        actions: parse_actions(text)?,
        chain: None,
        span: span.clone(),
    };
    ok(DirectiveKind::Action(rule))
}

fn sec_default_action(args: &[String], _: &Span) -> Result<Parsed, String> {
    let actions: Vec<Action> = parse_actions(one(args)?)?;
    if !actions.iter().any(|a| a.name == "phase") {
        return Err("a default action list must contain `phase`".to_owned());
    }
    if !actions
        .iter()
        .any(|a| crate::actions::DISRUPTIVE.contains(&a.name.as_str()))
    {
        return Err(
            "a default action list must contain a disruptive action such as `pass` or `deny`"
                .to_owned(),
        );
    }
    if let Some(bad) = actions.iter().find(|a| {
        matches!(
            a.name.as_str(),
            "id" | "chain" | "skip" | "skipafter" | "msg" | "tag" | "rev" | "ver"
        )
    }) {
        return Err(format!(
            "action `{}` is not allowed in a default action list",
            bad.name
        ));
    }
    ok(DirectiveKind::DefaultAction(actions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::IdRange;
    use std::path::Path;

    fn span() -> Span {
        Span {
            file: Path::new("t.conf").into(),
            line: 1,
        }
    }

    fn parse(name: &str, args: &[&str]) -> Result<DirectiveKind, String> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        match parse_directive(name, &args, &span())? {
            Parsed::Directive(kind) => Ok(kind),
            Parsed::Include { .. } => Err("include".to_owned()),
        }
    }

    #[test]
    fn registry_names_are_unique() {
        let mut names: Vec<_> = directive_names().map(str::to_ascii_lowercase).collect();
        let len = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), len);
    }

    #[test]
    fn parses_settings_case_insensitively() {
        assert_eq!(
            parse("secruleengine", &["detectiononly"]),
            Ok(DirectiveKind::RuleEngine(EngineMode::DetectionOnly))
        );
        assert_eq!(
            parse("SecRequestBodyLimit", &["13107200"]),
            Ok(DirectiveKind::RequestBodyLimit(13_107_200))
        );
        assert_eq!(
            parse("SecAuditLogFileMode", &["0640"]),
            Ok(DirectiveKind::AuditLogFileMode(Some(0o640)))
        );
        assert_eq!(
            parse("SecArgumentSeparator", &[";"]),
            Ok(DirectiveKind::ArgumentSeparator(';'))
        );
        assert_eq!(
            parse("SecResponseBodyMimeType", &["text/plain", "text/html"]),
            Ok(DirectiveKind::ResponseBodyMimeType(vec![
                "text/plain".into(),
                "text/html".into()
            ]))
        );
    }

    #[test]
    fn parses_id_ranges() {
        assert_eq!(
            parse("SecRuleRemoveById", &["1", "100-199", "5,6"]),
            Ok(DirectiveKind::RuleRemoveById(vec![
                IdRange { start: 1, end: 1 },
                IdRange {
                    start: 100,
                    end: 199
                },
                IdRange { start: 5, end: 5 },
                IdRange { start: 6, end: 6 },
            ]))
        );
        assert!(parse("SecRuleRemoveById", &["9-1"])
            .unwrap_err()
            .contains("ends before"));
        assert!(parse("SecRuleRemoveById", &["abc"])
            .unwrap_err()
            .contains("`abc`"));
    }

    #[test]
    fn update_target_and_action() {
        let kind = parse(
            "SecRuleUpdateTargetById",
            &["942100", "!ARGS:foo|!REQUEST_COOKIES:/^x/"],
        )
        .unwrap();
        let DirectiveKind::RuleUpdateTargetById {
            ids,
            targets,
            replace,
        } = kind
        else {
            panic!()
        };
        assert_eq!(
            ids,
            vec![IdRange {
                start: 942_100,
                end: 942_100
            }]
        );
        assert_eq!(targets.len(), 2);
        assert!(targets.iter().all(|t| t.negated));
        assert_eq!(replace, None);
        let kind = parse("SecRuleUpdateActionById", &["942100", "t:none,pass"]).unwrap();
        assert!(
            matches!(kind, DirectiveKind::RuleUpdateActionById { id: 942_100, ref actions } if actions.len() == 2)
        );
    }

    #[test]
    fn clear_errors() {
        assert_eq!(
            parse("SecRuleEngin", &["On"]).unwrap_err(),
            "unknown directive `SecRuleEngin` (did you mean `SecRuleEngine`?)"
        );
        assert!(parse("SecRemoteRules", &["k", "https://x"])
            .unwrap_err()
            .contains("not supported"));
        assert_eq!(
            parse("SecRuleEngine", &["Maybe"]).unwrap_err(),
            "SecRuleEngine: expected `On`, `Off` or `DetectionOnly`, got `Maybe`"
        );
        assert!(parse("SecRule", &["ARGS", "@rx a", "id:1", "x"])
            .unwrap_err()
            .contains("quote"));
        assert!(parse("SecRule", &["ARGS", "|", "TX", "@rx a"])
            .unwrap_err()
            .contains("blanks around `|`"));
        assert!(parse("SecDefaultAction", &["phase:1,log"])
            .unwrap_err()
            .contains("disruptive"));
    }
}
