//! Criterion benches of the full OWASP CRS (from `../shared/crs`, or `CRS_DIR`) at paranoia
//! levels 1 and 2, engine On: one whole transaction per iteration (request phases, a small
//! backend response, logging), plus the time to load the CRS.
//!
//! Run: `cargo bench -p sekisho-waf --bench crs`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sekisho_waf::RuleSet;

/// The allocator of the sekisho binary, so that the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Our benchmark setup: blocking mode, bodies inspected, body processors as the recommended
/// ModSecurity config selects them, and the paranoia level under test.
fn setup(paranoia: u8) -> String {
    format!(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level={paranoia}"
"#
    )
}

/// A bench cannot run without the CRS: say why and stop.
fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

fn crs_dir() -> PathBuf {
    std::env::var("CRS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crs"))
}

fn rule_files(crs: &Path) -> Vec<PathBuf> {
    let mut rules: Vec<PathBuf> = std::fs::read_dir(crs.join("rules"))
        .unwrap_or_else(|e| fail(&format!("missing CRS rules in `{}`: {e}", crs.display())))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    rules.sort();
    let mut files = vec![crs.join("crs-setup.conf.example")];
    files.extend(rules);
    files
}

fn load(paranoia: u8, files: &[PathBuf]) -> Arc<RuleSet> {
    let mut builder = RuleSet::builder().add_str(&setup(paranoia), "bench-setup.conf");
    for f in files {
        builder = builder.add_file(f);
    }
    match builder.build() {
        Ok(r) => Arc::new(r),
        Err(e) => fail(&format!("CRS failed to load:\n{e}")),
    }
}

/// One request of a bench.
struct Req {
    method: &'static str,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn browser_headers() -> Vec<(String, String)> {
    [
        ("Host", "shop.example.com"),
        ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"),
        ("Accept-Language", "en-US,en;q=0.9,ja;q=0.8"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Cookie", "session=3f9a1c0e7b2d4a6f8e1c3b5d7f9a2c4e; theme=dark; _ga=GA1.1.123456789.1700000000"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn with_body(ct: &str, body: Vec<u8>) -> Vec<(String, String)> {
    let mut h = browser_headers();
    h.push(("Content-Type".to_owned(), ct.to_owned()));
    h.push(("Content-Length".to_owned(), body.len().to_string()));
    h
}

fn benign_get() -> Req {
    Req {
        method: "GET",
        uri: "/products/shoes/running?color=blue&size=42&page=2".to_owned(),
        headers: browser_headers(),
        body: Vec::new(),
    }
}

fn json_2k() -> Req {
    let mut items = Vec::new();
    let mut n = 0;
    while items.iter().map(|s: &String| s.len() + 1).sum::<usize>() < 1950 {
        items.push(format!(
            r#"{{"sku":"SKU-{n:05}","name":"Running shoe model {n}","qty":{},"price":{}.99}}"#,
            n % 5 + 1,
            40 + n
        ));
        n += 1;
    }
    let body = format!(
        r#"{{"order":{{"customer":"alice@example.com","items":[{}]}}}}"#,
        items.join(",")
    );
    let body = body.into_bytes();
    Req {
        method: "POST",
        uri: "/api/orders".to_owned(),
        headers: with_body("application/json", body.clone()),
        body,
    }
}

fn form_10k() -> Req {
    let mut body = String::new();
    let mut n = 0;
    while body.len() < 10_000 {
        if !body.is_empty() {
            body.push('&');
        }
        body.push_str(&format!(
            "field_{n}=some+ordinary+text+value+number+{n}+for+the+form"
        ));
        n += 1;
    }
    let body = body.into_bytes();
    Req {
        method: "POST",
        uri: "/account/profile".to_owned(),
        headers: with_body("application/x-www-form-urlencoded", body.clone()),
        body,
    }
}

fn multipart_100k() -> Req {
    let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHoliday photos\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .as_bytes(),
    );
    let line = b"The quick brown fox jumps over the lazy dog near the river bank.\r\n";
    while body.len() < 100_000 {
        body.extend_from_slice(line);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Req {
        method: "POST",
        uri: "/upload".to_owned(),
        headers: with_body(
            &format!("multipart/form-data; boundary={boundary}"),
            body.clone(),
        ),
        body,
    }
}

fn sqli() -> Req {
    Req {
        method: "GET",
        uri: "/products?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20-"
            .to_owned(),
        headers: browser_headers(),
        body: Vec::new(),
    }
}

const RESPONSE_BODY: &[u8] =
    b"<!DOCTYPE html><html><head><title>Shop</title></head><body><h1>Running shoes</h1><p>12 results</p></body></html>";

/// One whole transaction; returns the interruption status (0 when none) so nothing is elided.
fn transaction(rules: &Arc<RuleSet>, req: &Req) -> u16 {
    let mut tx = rules.transaction();
    tx.process_connection("192.0.2.10", 51000, "192.0.2.1", 443);
    tx.process_uri(req.uri.as_bytes(), req.method, "HTTP/1.1");
    for (k, v) in &req.headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    let mut status = tx.process_request_headers().map(|i| i.status);
    if status.is_none() && !req.body.is_empty() {
        status = tx.append_request_body(&req.body).map(|i| i.status);
    }
    if status.is_none() {
        status = tx.process_request_body().map(|i| i.status);
    }
    if status.is_none() {
        tx.add_response_header(b"Content-Type", b"text/html; charset=utf-8");
        tx.add_response_header(
            b"Content-Length",
            RESPONSE_BODY.len().to_string().as_bytes(),
        );
        status = tx
            .process_response_headers(200, "HTTP/1.1")
            .map(|i| i.status);
    }
    if status.is_none() {
        status = tx.append_response_body(RESPONSE_BODY).map(|i| i.status);
    }
    if status.is_none() {
        status = tx.process_response_body().map(|i| i.status);
    }
    tx.process_logging();
    status.unwrap_or(0)
}

fn benches(c: &mut Criterion) {
    let files = rule_files(&crs_dir());
    {
        let mut g = c.benchmark_group("crs_load");
        g.sample_size(10).measurement_time(Duration::from_secs(8));
        g.bench_function("full_crs_pl1", |b| b.iter(|| black_box(load(1, &files))));
        g.finish();
    }
    let requests: [(&str, Req); 5] = [
        ("benign_get", benign_get()),
        ("json_post_2k", json_2k()),
        ("form_post_10k", form_10k()),
        ("multipart_100k", multipart_100k()),
        ("sqli_get", sqli()),
    ];
    for paranoia in [1u8, 2] {
        let rules = load(paranoia, &files);
        let mut g = c.benchmark_group(format!("crs_pl{paranoia}"));
        g.sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        for (name, req) in &requests {
            g.bench_function(*name, |b| b.iter(|| black_box(transaction(&rules, req))));
        }
        g.finish();
    }
}

criterion_group!(crs, benches);
criterion_main!(crs);
