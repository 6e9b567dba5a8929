//! `sekisho waf check` and `sekisho waf eval`.

use anyhow::Context;
use sekisho_waf::{RuleSet, Transaction};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum WafCommand {
    /// Validate SecLang rule files; print every error with file:line.
    Check {
        /// Rule files, in load order (quoted glob patterns such as `'rules/*.conf'` are expanded).
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Run one raw HTTP request through the rules offline; print matched rules, scores, verdict.
    ///
    /// Both `waf eval --rules A.conf B.conf REQUEST.http` (the last file is the request) and
    /// `waf eval REQUEST.http --rules A.conf B.conf` work.
    Eval {
        /// Rule files, in load order (glob patterns expanded).
        #[arg(long, num_args = 1.., required = true)]
        rules: Vec<String>,
        /// A file holding one raw HTTP/1.1 request.
        request: Option<PathBuf>,
        /// Also list the rules that matched without logging (CRS bookkeeping).
        #[arg(long)]
        all: bool,
    },
}

pub fn run(command: WafCommand) -> anyhow::Result<()> {
    match command {
        WafCommand::Check { files } => check(&expand(&files)?),
        WafCommand::Eval {
            mut rules,
            request,
            all,
        } => {
            let request = match request {
                Some(r) => r,
                None if rules.len() > 1 => PathBuf::from(rules.pop().unwrap_or_default()),
                None => {
                    anyhow::bail!("no request file given (`waf eval --rules RULES… REQUEST.http`)")
                }
            };
            eval(&expand(&rules)?, &request, all)
        }
    }
}

/// Expands glob patterns (sorted, as `Include` does); a name without wildcards stays as
/// given so that a missing file is reported by the loader with its name.
fn expand(args: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for a in args {
        if !a.contains(['*', '?', '[']) {
            out.push(PathBuf::from(a));
            continue;
        }
        let mut found: Vec<PathBuf> = glob::glob(a)
            .with_context(|| format!("bad glob pattern `{a}`"))?
            .filter_map(Result::ok)
            .collect();
        if found.is_empty() {
            anyhow::bail!("no file matches `{a}`");
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn load(files: &[PathBuf]) -> anyhow::Result<RuleSet> {
    if files.is_empty() {
        anyhow::bail!("no rule files given");
    }
    match RuleSet::from_files(files) {
        Ok(set) => Ok(set),
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("{e}");
            }
            anyhow::bail!("{} error(s) in the rules", errors.0.len())
        }
    }
}

fn check(files: &[PathBuf]) -> anyhow::Result<()> {
    let rss_before = rss_bytes();
    let start = std::time::Instant::now();
    let set = load(files)?;
    let took = start.elapsed();
    let grew = rss_bytes().saturating_sub(rss_before);
    println!(
        "ok: {} rules from {} files, loaded in {} ms, {:.1} MB of memory",
        set.rule_count(),
        set.file_count(),
        took.as_millis(),
        grew as f64 / 1_048_576.0
    );
    Ok(())
}

/// This process's resident memory (Linux `/proc/self/statm`); 0 where unknown.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// A raw HTTP/1.1 request split into its parts.
struct RawRequest {
    method: String,
    uri: Vec<u8>,
    protocol: String,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
}

fn split_line(buf: &[u8]) -> (&[u8], &[u8]) {
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let line = buf.get(..i).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (line, buf.get(i + 1..).unwrap_or_default())
        }
        None => (buf, &[]),
    }
}

fn parse_request(raw: &[u8]) -> anyhow::Result<RawRequest> {
    let (line, mut rest) = split_line(raw);
    let text = String::from_utf8_lossy(line);
    let mut parts = text.splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_string();
    let uri = parts
        .next()
        .context("request line has no URI")?
        .as_bytes()
        .to_vec();
    let protocol = parts.next().unwrap_or("HTTP/1.1").trim().to_string();
    let mut headers = Vec::new();
    loop {
        if rest.is_empty() {
            break;
        }
        let (l, r) = split_line(rest);
        rest = r;
        if l.is_empty() {
            break;
        }
        let colon = l
            .iter()
            .position(|&b| b == b':')
            .context("header line without `:`")?;
        let name = l.get(..colon).unwrap_or_default().to_vec();
        let value = l.get(colon + 1..).unwrap_or_default();
        let start = value
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        headers.push((name, value.get(start..).unwrap_or_default().to_vec()));
    }
    Ok(RawRequest {
        method,
        uri,
        protocol,
        headers,
        body: rest.to_vec(),
    })
}

fn eval(rules: &[PathBuf], request: &Path, all: bool) -> anyhow::Result<()> {
    let set = Arc::new(load(rules)?);
    let raw = std::fs::read(request).with_context(|| format!("reading {}", request.display()))?;
    let req = parse_request(&raw)?;
    let mut tx: Transaction = set.transaction();
    tx.process_connection("127.0.0.1", 40000, "127.0.0.1", 80);
    tx.process_uri(&req.uri, &req.method, &req.protocol);
    for (k, v) in &req.headers {
        tx.add_request_header(k, v);
    }
    let mut verdict = tx.process_request_headers();
    if verdict.is_none() {
        verdict = tx.append_request_body(&req.body);
    }
    if verdict.is_none() {
        verdict = tx.process_request_body();
    }
    tx.process_logging();
    // Written in one piece at the end: `waf eval … | head` closing the pipe early is not an
    // error worth a panic (as `println!` would make it).
    let mut out = String::new();
    for m in tx.matched_rules() {
        if m.id == 0 || !(all || m.log) {
            continue;
        }
        let _ = writeln!(out, "{} phase {}: {}", m.id, m.phase, m.msg);
        if !m.logdata.is_empty() {
            let _ = writeln!(out, "    data: {}", m.logdata);
        }
    }
    let (inbound, outbound) = tx.anomaly_scores();
    let _ = writeln!(out, "inbound anomaly score: {inbound}");
    let _ = writeln!(out, "outbound anomaly score: {outbound}");
    let _ = match verdict.or_else(|| tx.interruption().cloned()) {
        Some(i) => writeln!(
            out,
            "verdict: blocked with status {} by rule {} (phase {})",
            i.status, i.rule_id, i.phase
        ),
        None => writeln!(out, "verdict: allowed (engine {:?})", tx.engine_mode()),
    };
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_raw_request() {
        let r = parse_request(
            b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\r\nhello",
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.uri, b"/a?b=1");
        assert_eq!(r.headers.len(), 2);
        assert_eq!(r.body, b"hello");
    }

    #[test]
    fn expands_globs_sorted_and_keeps_plain_names() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.conf", "a.conf", "c.txt"] {
            std::fs::write(dir.path().join(n), "").unwrap();
        }
        let pattern = format!("{}/*.conf", dir.path().display());
        let got = expand(&[pattern, "missing.conf".into()]).unwrap();
        assert_eq!(
            got,
            vec![
                dir.path().join("a.conf"),
                dir.path().join("b.conf"),
                PathBuf::from("missing.conf")
            ]
        );
        assert!(expand(&[format!("{}/*.none", dir.path().display())]).is_err());
    }
}
