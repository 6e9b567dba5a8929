//! Load-balancing policies over three recording backends: round robin, least request and
//! consistent hashing (on the client IP and on a header).

use crate::common::*;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

async fn three() -> [Backend; 3] {
    [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ]
}

fn counts(bs: &[Backend; 3]) -> [usize; 3] {
    [bs[0].count(), bs[1].count(), bs[2].count()]
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address works on loopback).
fn client_from(ip: IpAddr) -> Client {
    let mut http = HttpConnector::new();
    http.set_local_address(Some(ip));
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(http)
}

/// GET `/` with one extra header; returns the name of the backend that answered.
#[allow(clippy::unwrap_used)] // a helper of tests: failing loudly is the point
async fn get_with(c: &Client, gw: &Gw, header: Option<(&str, &str)>) -> String {
    let mut b = http::Request::get(gw.url("/"));
    if let Some((k, v)) = header {
        b = b.header(k, v);
    }
    let (st, _, body) = send(c, b.body(Full::new(Bytes::new())).unwrap()).await;
    assert_eq!(st, 200, "{body}");
    body
}

#[tokio::test]
async fn round_robin_splits_evenly() {
    let bs = three().await;
    let gw = Gw::start(&simple(&[&bs[0], &bs[1], &bs[2]], "lb = \"round_robin\"")).await;
    let c = client();
    for _ in 0..150 {
        assert_eq!(get(&c, &gw.url("/")).await.0, 200);
    }
    assert_eq!(counts(&bs), [50, 50, 50]);
    // Concurrent clients: still an even split.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (c, url) = (client(), gw.url("/"));
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                assert_eq!(get(&c, &url).await.0, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = counts(&bs);
    assert_eq!(n.iter().sum::<usize>(), 300);
    assert!(n.iter().all(|&k| (99..=101).contains(&k)), "{n:?}");
}

#[tokio::test]
async fn round_robin_is_the_default() {
    let bs = three().await;
    let gw = Gw::start(&simple(&[&bs[0], &bs[1], &bs[2]], "")).await;
    let c = client();
    let mut order = Vec::new();
    for _ in 0..9 {
        order.push(get(&c, &gw.url("/")).await.2);
    }
    assert_eq!(counts(&bs), [3, 3, 3]);
    // A fixed rotation.
    assert_eq!(order[0..3], order[3..6]);
    assert_eq!(order[3..6], order[6..9]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_request_avoids_a_slow_endpoint() {
    let bs = three().await;
    bs[0].delay_ms.store(150, Ordering::SeqCst);
    let gw = Gw::start(&simple(&[&bs[0], &bs[1], &bs[2]], "lb = \"least_request\"")).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (c, url) = (client(), gw.url("/"));
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                assert_eq!(get(&c, &url).await.0, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = counts(&bs);
    assert_eq!(n.iter().sum::<usize>(), 120);
    // Round robin would give the slow one 40 and take over 40 × 150 ms / 12 ≈ 0.5 s.
    assert!(n[0] * 3 < n[1].min(n[2]), "{n:?}");
    assert!(n[1] > 20 && n[2] > 20, "{n:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn least_request_spreads_sequential_traffic() {
    // With nothing in flight every endpoint is as good as another: all get a share.
    let bs = three().await;
    let gw = Gw::start(&simple(&[&bs[0], &bs[1], &bs[2]], "lb = \"least_request\"")).await;
    let c = client();
    for _ in 0..150 {
        assert_eq!(get(&c, &gw.url("/")).await.0, 200);
    }
    let n = counts(&bs);
    assert!(n.iter().all(|&k| k >= 20), "{n:?}");
}

#[tokio::test]
async fn consistent_hash_on_client_ip() {
    let bs = three().await;
    let gw = Gw::start(&simple(
        &[&bs[0], &bs[1], &bs[2]],
        "lb = \"consistent_hash\"",
    ))
    .await;
    let mut by_ip: HashMap<IpAddr, String> = HashMap::new();
    for k in 2..=31u8 {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, k));
        let c = client_from(ip);
        let first = get_with(&c, &gw, None).await;
        for _ in 0..3 {
            assert_eq!(get_with(&c, &gw, None).await, first, "client {ip}");
        }
        // A fresh connection from the same address lands on the same endpoint.
        assert_eq!(get_with(&client_from(ip), &gw, None).await, first);
        // A made-up X-Forwarded-For from an untrusted peer changes nothing.
        let c2 = client_from(ip);
        for fake in ["203.0.113.1", "198.51.100.2", "10.9.8.7"] {
            let h = Some(("x-forwarded-for", fake));
            assert_eq!(get_with(&c2, &gw, h).await, first, "client {ip}");
        }
        by_ip.insert(ip, first);
    }
    let used: HashSet<&String> = by_ip.values().collect();
    assert!(used.len() >= 2, "30 clients all on one endpoint: {by_ip:?}");
}

#[tokio::test]
async fn consistent_hash_on_header() {
    let bs = three().await;
    let extra = "lb = \"consistent_hash\"\nhash_header = \"x-user-id\"";
    let gw = Gw::start(&simple(&[&bs[0], &bs[1], &bs[2]], extra)).await;
    let c = client();
    let mut by_user: HashMap<String, String> = HashMap::new();
    for u in 0..60 {
        let user = format!("user-{u}");
        let first = get_with(&c, &gw, Some(("x-user-id", &user))).await;
        for _ in 0..2 {
            assert_eq!(
                get_with(&c, &gw, Some(("x-user-id", &user))).await,
                first,
                "{user}"
            );
        }
        by_user.insert(user, first);
    }
    // Different values spread over every endpoint, each with a fair share.
    let mut per: HashMap<&str, usize> = HashMap::new();
    for b in by_user.values() {
        *per.entry(b.as_str()).or_default() += 1;
    }
    assert_eq!(per.len(), 3, "{per:?}");
    assert!(per.values().all(|&n| n >= 5), "{per:?}");
    // Without the header the client IP is the key: one endpoint for all of them.
    let first = get_with(&c, &gw, None).await;
    for _ in 0..5 {
        assert_eq!(get_with(&client(), &gw, None).await, first);
    }
}

#[tokio::test]
async fn consistent_hash_moves_only_the_lost_endpoints_share() {
    let bs = three().await;
    let extra = "lb = \"consistent_hash\"\nhash_header = \"x-user-id\"\n\
[clusters.health_check]\ninterval = \"50ms\"\nunhealthy_threshold = 1\nhealthy_threshold = 1\n";
    let gw = Gw::start(&simple(&[&bs[0], &bs[1], &bs[2]], extra)).await;
    let c = client();
    let users: Vec<String> = (0..60).map(|u| format!("u{u}")).collect();
    let mut before = Vec::new();
    for u in &users {
        before.push(get_with(&c, &gw, Some(("x-user-id", u))).await);
    }
    // Take away the endpoint with the most keys.
    let lost = ["a", "b", "c"]
        .into_iter()
        .max_by_key(|n| before.iter().filter(|b| b == n).count())
        .unwrap();
    let idx = ["a", "b", "c"].iter().position(|n| *n == lost).unwrap();
    let probe_user = &users[before.iter().position(|b| b == lost).unwrap()];
    bs[idx].healthy.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(3);
    while get_with(&c, &gw, Some(("x-user-id", probe_user))).await == lost {
        assert!(Instant::now() < deadline, "{lost} never taken out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut after = Vec::new();
    for u in &users {
        after.push(get_with(&c, &gw, Some(("x-user-id", u))).await);
    }
    for (i, u) in users.iter().enumerate() {
        if before[i] == lost {
            assert_ne!(after[i], lost, "{u}");
        } else {
            assert_eq!(after[i], before[i], "{u} moved without reason");
        }
    }
    // When the endpoint returns, every key goes home.
    bs[idx].healthy.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(3);
    while get_with(&c, &gw, Some(("x-user-id", probe_user))).await != lost {
        assert!(Instant::now() < deadline, "{lost} never back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (i, u) in users.iter().enumerate() {
        assert_eq!(get_with(&c, &gw, Some(("x-user-id", u))).await, before[i]);
    }
}
