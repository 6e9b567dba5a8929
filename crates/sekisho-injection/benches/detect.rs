//! Detector speed on a benign and a malicious input of typical parameter size.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

const BENIGN: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
const BENIGN_SHORT: &[u8] = b"john.doe";
const SQLI: &[u8] = b"1' UNION ALL SELECT NULL,username,password FROM users-- -";
const XSS: &[u8] = b"<img src=x onerror=alert(document.cookie)>";

fn detect(c: &mut Criterion) {
    c.bench_function("sqli/benign_short", |b| {
        b.iter(|| sekisho_injection::detect_sqli(black_box(BENIGN_SHORT)))
    });
    c.bench_function("sqli/benign_user_agent", |b| {
        b.iter(|| sekisho_injection::detect_sqli(black_box(BENIGN)))
    });
    c.bench_function("sqli/malicious", |b| {
        b.iter(|| sekisho_injection::detect_sqli(black_box(SQLI)))
    });
    c.bench_function("xss/benign_short", |b| {
        b.iter(|| sekisho_injection::detect_xss(black_box(BENIGN_SHORT)))
    });
    c.bench_function("xss/benign_user_agent", |b| {
        b.iter(|| sekisho_injection::detect_xss(black_box(BENIGN)))
    });
    c.bench_function("xss/malicious", |b| {
        b.iter(|| sekisho_injection::detect_xss(black_box(XSS)))
    });
}

criterion_group!(benches, detect);
criterion_main!(benches);
