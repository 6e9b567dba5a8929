//! Request smuggling and malformed HTTP/1, sent as raw bytes: every case is answered with
//! 400 (431 / 414 where apt) and nothing reaches the upstream.

use crate::common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The status codes of every response in `out`, in order.
fn statuses(out: &str) -> Vec<u16> {
    out.match_indices("HTTP/1.")
        .filter(|(i, _)| out.get(i + 8..i + 9) == Some(" "))
        .filter_map(|(i, _)| out.get(i + 9..i + 12))
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Writes `parts` one after the other with a pause between them (so that the gateway reads
/// them separately), then reads the answer until the gateway closes (or 3 s pass).
#[allow(clippy::unwrap_used)] // a helper of tests: failing loudly is the point
async fn raw_parts(addr: std::net::SocketAddr, parts: &[&[u8]]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    for p in parts {
        s.write_all(p).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Starts a backend and a gateway in front of it.
async fn setup() -> (Backend, Gw) {
    let b = Backend::start("b").await;
    let gw = Gw::start(&simple(&[&b], "")).await;
    (b, gw)
}

/// Gives a request that slipped through time to reach the backend, then checks that none did.
async fn assert_nothing_upstream(b: &Backend) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen: Vec<String> = b
        .requests()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path_and_query))
        .collect();
    assert!(seen.is_empty(), "reached the backend: {seen:?}");
}

/// Sends `bytes` on a fresh connection; the first answer must be `status`, the connection
/// must be closed after it, and nothing may reach the backend.
async fn refused(bytes: &[u8], status: u16) {
    let (b, gw) = setup().await;
    let out = raw(gw.addr, bytes).await;
    assert_eq!(
        statuses(&out).first(),
        Some(&status),
        "request {:?}\nanswer {out:?}",
        String::from_utf8_lossy(bytes)
    );
    assert_eq!(statuses(&out).len(), 1, "{out}");
    assert_nothing_upstream(&b).await;
}

#[tokio::test]
async fn content_length_and_transfer_encoding() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn transfer_encoding_and_content_length() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn content_length_and_transfer_encoding_in_other_case() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\ncontent-LENGTH: 5\r\nTRANSFER-encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn duplicate_differing_content_length() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello",
        400,
    )
    .await;
}

#[tokio::test]
async fn content_length_list_in_one_header() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello",
        400,
    )
    .await;
}

#[tokio::test]
async fn content_length_with_junk() {
    for cl in [
        "5x",
        "+5",
        "-5",
        "0x5",
        "5 5",
        "five",
        "",
        "99999999999999999999999",
    ] {
        let req = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {cl}\r\n\r\nhello");
        refused(req.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn invalid_chunk_size_not_hex() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn invalid_chunk_size_signed_or_spaced() {
    for line in ["+5", "-5", " 5", "0x5", "5 5"] {
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{line}\r\nhello\r\n0\r\n\r\n"
        );
        refused(req.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn invalid_chunk_size_overflow() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn chunk_missing_crlf_after_data() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn chunk_size_line_with_bare_lf() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn transfer_encoding_not_chunked() {
    for te in ["gzip", "identity", "deflate", "compress"] {
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        );
        refused(req.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn transfer_encoding_obfuscated() {
    for te in [
        "chunked, identity",
        "xchunked",
        "chunkedx",
        "chunked;q=1",
        "\"chunked\"",
        "chunked, chunked",
        "identity, chunked",
        "gzip, chunked",
        "chunk",
    ] {
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        );
        refused(req.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn transfer_encoding_twice() {
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        400,
    )
    .await;
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn transfer_encoding_with_whitespace_tricks() {
    for head in [
        // Whitespace before the colon.
        "Transfer-Encoding : chunked",
        "Transfer-Encoding\t: chunked",
        // A vertical tab or form feed is not whitespace in HTTP.
        "Transfer-Encoding:\x0bchunked",
        "Transfer-Encoding: chunked\x0c",
    ] {
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\n{head}\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        );
        refused(req.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn transfer_encoding_on_http_1_0() {
    refused(
        b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn obs_fold_header_continuation() {
    refused(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n",
        400,
    )
    .await;
    refused(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n",
        400,
    )
    .await;
    // A folded line hiding a framing header.
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello",
        400,
    )
    .await;
}

#[tokio::test]
async fn whitespace_before_colon() {
    refused(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400).await;
    refused(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
        400,
    )
    .await;
}

#[tokio::test]
async fn nul_in_header_value() {
    refused(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400).await;
}

#[tokio::test]
async fn bare_cr_in_header() {
    refused(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400).await;
    refused(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rContent-Length: 5\r\n\r\nhello",
        400,
    )
    .await;
}

#[tokio::test]
async fn control_characters_in_header_name() {
    refused(b"GET / HTTP/1.1\r\nHost: x\r\nX\x01A: a\r\n\r\n", 400).await;
}

#[tokio::test]
async fn oversized_header_section_is_431() {
    // The default limit is 16 KiB for the request line and headers together.
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..20 {
        req.extend_from_slice(format!("X-Pad-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    refused(&req, 431).await;
}

#[tokio::test]
async fn too_many_headers_is_431() {
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        req.extend_from_slice(format!("X-{i}: a\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    refused(&req, 431).await;
}

#[tokio::test]
async fn oversized_uri_is_414() {
    // Over the 8 KiB default for the target, under the header section limit.
    let req = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9 * 1024));
    refused(req.as_bytes(), 414).await;
    let req = format!(
        "GET /?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    refused(req.as_bytes(), 414).await;
}

#[tokio::test]
async fn uri_limit_is_configurable() {
    let b = Backend::start("b").await;
    let toml = format!("[server]\nmax_uri_bytes = 64\n{}", simple(&[&b], ""));
    let gw = Gw::start(&toml).await;
    let ok = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(63)
    );
    assert_eq!(statuses(&raw(gw.addr, ok.as_bytes()).await), [200]);
    let long = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(64)
    );
    assert_eq!(statuses(&raw(gw.addr, long.as_bytes()).await), [414]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.count(), 1);
}

#[tokio::test]
async fn invalid_method_token() {
    for line in [
        "G@T / HTTP/1.1",
        "GE T / HTTP/1.1",
        "GET\t/ HTTP/1.1",
        "G\0T / HTTP/1.1",
        "(GET) / HTTP/1.1",
        " / HTTP/1.1",
    ] {
        let req = format!("{line}\r\nHost: x\r\n\r\n");
        refused(req.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn invalid_http_version() {
    for version in [
        "HTTP/1.2",
        "HTTP/3.0",
        "HTTP/2.0",
        "HTTP/0.9",
        "HTTP/1",
        "HTTP/1.1.1",
        "http/1.1",
        "HTTX/1.1",
        "FOO",
        "HTTP/11",
    ] {
        let req = format!("GET / {version}\r\nHost: x\r\n\r\n");
        refused(req.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn request_line_garbage() {
    for req in [
        &b"GET\r\n\r\n"[..],
        b"GET /\r\nHost: x\r\n\r\n",
        b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    ] {
        refused(req, 400).await;
    }
}

#[tokio::test]
async fn missing_host_on_http_1_1() {
    refused(b"GET / HTTP/1.1\r\n\r\n", 400).await;
    refused(b"GET / HTTP/1.1\r\nX-Host: x\r\n\r\n", 400).await;
}

#[tokio::test]
async fn missing_host_on_http_1_0_is_allowed() {
    let (b, gw) = setup().await;
    let out = raw(gw.addr, b"GET /old HTTP/1.0\r\n\r\n").await;
    assert_eq!(statuses(&out), [200], "{out}");
    assert_eq!(b.requests()[0].path_and_query, "/old");
}

#[tokio::test]
async fn two_host_headers() {
    refused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400).await;
    refused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400).await;
    refused(b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400).await;
}

#[tokio::test]
async fn cl_te_smuggled_request_does_not_reach_backend() {
    // A front end framing by Content-Length forwards one request; one framing by
    // Transfer-Encoding would see a second one (`GET /smuggled`).
    let smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    let req = [
        format!(
            "POST /outer HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            5 + smuggled.len()
        )
        .as_bytes(),
        smuggled,
    ]
    .concat();
    refused(&req, 400).await;
}

#[tokio::test]
async fn te_cl_smuggled_request_does_not_reach_backend() {
    // The chunked body holds a whole request for a back end framing by Content-Length.
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    let req = format!(
        "POST /outer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{:x}\r\n{smuggled}\r\n0\r\n\r\n",
        smuggled.len()
    );
    refused(req.as_bytes(), 400).await;
}

#[tokio::test]
async fn smuggled_request_behind_a_valid_one() {
    let (b, gw) = setup().await;
    let out = raw(
        gw.addr,
        b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n\
POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 39\r\nTransfer-Encoding: chunked\r\n\r\n\
0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\
GET /third HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    // The valid request is served; the smuggling one is refused and the connection closed,
    // so neither its body nor anything after it is read as a request.
    assert_eq!(statuses(&out), [200, 400], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen: Vec<String> = b.requests().into_iter().map(|s| s.path_and_query).collect();
    assert_eq!(seen, ["/first"]);
}

#[tokio::test]
async fn smuggling_after_leading_empty_lines_is_still_refused() {
    // Empty lines before a request line are skipped by the parser; they must not count as
    // a request of their own, or every later verdict would go to the wrong request.
    let (b, gw) = setup().await;
    let out = raw(
        gw.addr,
        b"\r\n\r\n\r\nGET /first HTTP/1.1\r\nHost: x\r\n\r\n\
POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(statuses(&out), [200, 400], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen: Vec<String> = b.requests().into_iter().map(|s| s.path_and_query).collect();
    assert_eq!(seen, ["/first"]);
}

#[tokio::test]
async fn smuggling_after_an_upgrade_request_is_still_refused() {
    // The gateway never switches protocols, so the connection stays HTTP/1 after a
    // request that asks to upgrade, and later requests are checked like any other.
    let (b, gw) = setup().await;
    let out = raw(
        gw.addr,
        b"GET /first HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\
POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    .await;
    let st = statuses(&out);
    assert_eq!(st.last(), Some(&400), "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen: Vec<String> = b.requests().into_iter().map(|s| s.path_and_query).collect();
    assert!(!seen.iter().any(|p| p == "/second"), "{seen:?}");
}

#[tokio::test]
async fn smuggling_behind_bare_lf_head_is_still_refused() {
    // Lines may end in a bare LF. A scanner waiting for CRLF CRLF would take the first
    // request's body for the end of its head and skip the next head as body.
    let (b, gw) = setup().await;
    let second = "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
    let body = format!("{}\r\n\r\n", "a".repeat(second.len() + 10));
    let req = format!(
        "POST /first HTTP/1.1\nHost: x\nContent-Length: {}\n\n{body}{second}0\r\n\r\n",
        body.len()
    );
    let out = raw(gw.addr, req.as_bytes()).await;
    assert_eq!(statuses(&out), [200, 400], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen: Vec<String> = b.requests().into_iter().map(|s| s.path_and_query).collect();
    assert_eq!(seen, ["/first"]);
}

#[tokio::test]
async fn smuggling_behind_long_chunk_extension_is_still_refused() {
    // A chunk extension longer than the scanner follows (hyper allows 16 KiB), arriving in
    // pieces, must not switch the checks off for the rest of the connection.
    let (b, gw) = setup().await;
    let ext = "e".repeat(1500);
    let out = raw_parts(
        gw.addr,
        &[
            b"POST /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=",
            ext.as_bytes(),
            ext.as_bytes(),
            b"\r\nhello\r\n0\r\n\r\n\
POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ],
    )
    .await;
    assert_eq!(statuses(&out).last(), Some(&400), "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen: Vec<String> = b.requests().into_iter().map(|s| s.path_and_query).collect();
    assert!(!seen.iter().any(|p| p == "/second"), "{seen:?}");
}

#[tokio::test]
async fn smuggling_with_head_split_across_reads_is_still_refused() {
    let (b, gw) = setup().await;
    let out = raw_parts(
        gw.addr,
        &[
            b"GET /first HTTP/1.1\r\nHost: x\r\n\r",
            b"\nPOST /second HTTP/1.1\r\nHost: x\r\nContent-Len",
            b"gth: 5\r\nTransfer-Encoding: chun",
            b"ked\r\n\r",
            b"\n0\r\n\r\n",
        ],
    )
    .await;
    assert_eq!(statuses(&out), [200, 400], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen: Vec<String> = b.requests().into_iter().map(|s| s.path_and_query).collect();
    assert_eq!(seen, ["/first"]);
}

#[tokio::test]
async fn pipelined_valid_requests_all_reach_backend() {
    let (b, gw) = setup().await;
    let out = raw(
        gw.addr,
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(statuses(&out), [200, 200, 200], "{out}");
    let seen: Vec<(String, String)> = b
        .requests()
        .into_iter()
        .map(|s| {
            (
                s.path_and_query,
                String::from_utf8_lossy(&s.body).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/a".to_owned(), "hello".to_owned()),
            ("/b".to_owned(), "abc".to_owned()),
            ("/c".to_owned(), String::new()),
        ]
    );
}

#[tokio::test]
async fn valid_chunked_post_reaches_backend_whole() {
    let (b, gw) = setup().await;
    let out = raw(
        gw.addr,
        b"POST /upload?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
5\r\nhello\r\n1;name=value\r\n \r\nA\r\nchunked wo\r\n3\r\nrld\r\n0\r\nX-Trailer: t\r\n\r\n",
    )
    .await;
    assert_eq!(statuses(&out), [200], "{out}");
    assert!(out.ends_with("\r\n\r\nb"), "{out}");
    let seen = b.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path_and_query, "/upload?x=1");
    assert_eq!(&seen[0].body[..], b"hello chunked world");
    // The body goes upstream re-framed by its length, not with the client's coding.
    assert!(
        !seen[0].headers.contains_key("transfer-encoding"),
        "{:?}",
        seen[0].headers
    );
    assert_eq!(seen[0].headers["content-length"], "19");
}

#[tokio::test]
async fn chunked_with_tab_before_value_is_plain_chunked() {
    // Optional whitespace around a header value is allowed; the framing is unambiguous.
    let (b, gw) = setup().await;
    let out = raw(
        gw.addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tChunked\t\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(statuses(&out), [200], "{out}");
    assert_eq!(&b.requests()[0].body[..], b"hello");
}
