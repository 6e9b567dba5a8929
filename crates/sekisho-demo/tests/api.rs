//! The demo API over a real loopback socket.
#![cfg(test)]

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request with `Connection: close`; returns (status, lower-cased head, body).
async fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

async fn demo() -> SocketAddr {
    sekisho_demo::spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .0
}

fn value(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn read_endpoints() {
    let addr = demo().await;
    let (s, head, body) = call(addr, "GET", "/", "").await;
    assert_eq!(s, 200);
    assert!(head.contains("content-type: application/json"));
    assert!(value(&body)["endpoints"].as_array().unwrap().len() >= 6);

    let (s, _, body) = call(addr, "GET", "/api/users", "").await;
    assert_eq!(s, 200);
    assert_eq!(value(&body)["users"].as_array().unwrap().len(), 3);

    let (s, _, body) = call(addr, "GET", "/api/users/2", "").await;
    assert_eq!(
        (s, value(&body)["name"].as_str()),
        (200, Some("Kenji Sato"))
    );

    for path in ["/api/users/9", "/api/users/x", "/nope", "/api/users/"] {
        let (s, _, body) = call(addr, "GET", path, "").await;
        assert_eq!(s, 404, "{path}");
        assert_eq!(value(&body)["status"], 404);
    }
    let (s, _, body) = call(addr, "GET", "/api/status", "").await;
    assert_eq!((s, value(&body)["status"].as_str()), (200, Some("ok")));
    let (s, _, _) = call(addr, "GET", "/healthz", "").await;
    assert_eq!(s, 200);
    let (s, head, _) = call(addr, "DELETE", "/api/users", "").await;
    assert_eq!(s, 405);
    assert!(head.contains("allow: get, head"));
}

#[tokio::test]
async fn orders_are_validated_and_echoed() {
    let addr = demo().await;
    let order = r#"{"user_id":1,"items":[{"sku":"A-1","qty":2}]}"#;
    let (s, _, body) = call(addr, "POST", "/api/orders", order).await;
    assert_eq!(s, 201);
    let v = value(&body);
    assert!(v["id"].as_u64().unwrap() >= 1000);
    assert_eq!(v["items"][0]["sku"], "A-1");

    let bad = [
        "not json",
        r#"{"user_id":1}"#,
        r#"{"user_id":1,"items":[]}"#,
        r#"{"user_id":1,"items":[{"sku":"A","qty":0}]}"#,
        r#"{"user_id":1,"items":[{"sku":"A","qty":1}],"extra":1}"#,
    ];
    for b in bad {
        let (s, _, body) = call(addr, "POST", "/api/orders", b).await;
        assert_eq!(s, 400, "{b}: {body}");
    }
    let unknown = r#"{"user_id":77,"items":[{"sku":"A","qty":1}]}"#;
    assert_eq!(call(addr, "POST", "/api/orders", unknown).await.0, 422);
    assert_eq!(call(addr, "GET", "/api/orders", "").await.0, 405);
}

#[tokio::test]
async fn reflect_returns_the_described_response() {
    let addr = demo().await;
    let spec = r#"{"status":403,"headers":{"X-Card":"4111","Set-Cookie":"a=b"},"body":"denied"}"#;
    let (s, head, body) = call(addr, "POST", "/reflect", spec).await;
    assert_eq!((s, body.as_str()), (403, "denied"));
    assert!(
        head.contains("x-card: 4111") && head.contains("set-cookie: a=b"),
        "{head}"
    );

    let spec = r#"{"encodedBody":"aGVsbG8=","body":"ignored"}"#;
    assert_eq!(call(addr, "POST", "/reflect", spec).await.2, "hello");
    for bad in [
        r#"{"status":42}"#,
        r#"{"headers":{"bad name":"x"}}"#,
        r#"{"encodedBody":"*"}"#,
    ] {
        assert_eq!(call(addr, "POST", "/reflect", bad).await.0, 400, "{bad}");
    }
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let addr = demo().await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    for _ in 0..100 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: demo\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        while !got.ends_with(b"{\"status\":\"ok\"}\n") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed");
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
    }
}
