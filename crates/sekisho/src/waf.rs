//! `sekisho waf check` and `sekisho waf eval`.

use anyhow::Context;
use sekisho_waf::{RuleSet, Transaction};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum WafCommand {
    /// Validate SecLang rule files; print every error with file:line.
    Check {
        /// Rule files (globs allowed).
        files: Vec<PathBuf>,
    },
    /// Run one raw HTTP request through the rules offline; print matched rules, scores, verdict.
    Eval {
        /// Rule files, in load order.
        #[arg(long, num_args = 1.., required = true)]
        rules: Vec<PathBuf>,
        /// A file holding one raw HTTP/1.1 request.
        request: PathBuf,
    },
}

pub fn run(command: WafCommand) -> anyhow::Result<()> {
    match command {
        WafCommand::Check { files } => check(&files),
        WafCommand::Eval { rules, request } => eval(&rules, &request),
    }
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
    let set = load(files)?;
    println!(
        "ok: {} rules from {} files",
        set.rule_count(),
        set.file_count()
    );
    Ok(())
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

fn eval(rules: &[PathBuf], request: &Path) -> anyhow::Result<()> {
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
    for m in tx.matched_rules() {
        if m.id == 0 {
            continue;
        }
        println!("{} phase {}: {}", m.id, m.phase, m.msg);
        if !m.logdata.is_empty() {
            println!("    data: {}", m.logdata);
        }
    }
    let (inbound, outbound) = tx.anomaly_scores();
    println!("inbound anomaly score: {inbound}");
    println!("outbound anomaly score: {outbound}");
    match verdict.or_else(|| tx.interruption().cloned()) {
        Some(i) => println!(
            "verdict: blocked with status {} by rule {} (phase {})",
            i.status, i.rule_id, i.phase
        ),
        None => println!("verdict: allowed (engine {:?})", tx.engine_mode()),
    }
    Ok(())
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
}
