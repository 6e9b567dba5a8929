//! Who the client really is behind trusted proxies, and the forwarding headers the
//! upstream gets (`X-Forwarded-For`, `X-Forwarded-Proto`, `Via`, request id), with the
//! hop-by-hop headers removed.

use crate::phase::RequestId;
use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use sekisho_config::Cidr;
use std::cell::RefCell;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The real client IP: when the TCP peer is a trusted proxy, walk `X-Forwarded-For`
/// (or else `Forwarded: for=`) from the right, skipping trusted proxies; the first
/// untrusted address is the client. An untrusted peer's headers are ignored: anyone can
/// write them.
///
/// Example: peer 10.0.0.1 (trusted), `X-Forwarded-For: 203.0.113.9, 10.0.0.2` → 203.0.113.9.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for v in headers.get_all(&X_FORWARDED_FOR) {
        let Ok(s) = v.to_str() else { return peer };
        for part in s.split(',') {
            match parse_ip(part) {
                Some(ip) => chain.push(ip),
                // A garbled chain cannot be walked; believe only the peer.
                None => return peer,
            }
        }
    }
    if chain.is_empty() {
        for v in headers.get_all(http::header::FORWARDED) {
            let Ok(s) = v.to_str() else { return peer };
            for elem in s.split(',') {
                for pair in elem.split(';') {
                    if let Some((k, val)) = pair.trim().split_once('=') {
                        if k.trim().eq_ignore_ascii_case("for") {
                            match parse_ip(val) {
                                Some(ip) => chain.push(ip),
                                None => return peer,
                            }
                        }
                    }
                }
            }
        }
    }
    let mut client = peer;
    for ip in chain.iter().rev() {
        client = *ip;
        if !is_trusted(*ip) {
            break;
        }
    }
    client
}

/// Parses `203.0.113.9`, `"[2001:db8::1]:443"`, `198.51.100.1:8080`.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    s.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1); never forwarded.
// Header names as `HeaderName` values, not `&str`: a `&str` key is parsed on every lookup,
// and these run twice per proxied request.
const HOP_BY_HOP: [HeaderName; 9] = [
    http::header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    http::header::PROXY_AUTHENTICATE,
    http::header::PROXY_AUTHORIZATION,
    http::header::TE,
    http::header::TRAILER,
    http::header::TRANSFER_ENCODING,
    http::header::UPGRADE,
];
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none: one pass over the names (standard names compare as enum
    // tags) is cheaper than nine hashed removals.
    if !headers.keys().any(|k| HOP_BY_HOP.contains(k)) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in &HOP_BY_HOP {
        headers.remove(n);
    }
}

/// Sets `X-Forwarded-For`, `X-Forwarded-Proto` and `Via` for the upstream. A trusted
/// peer's chain is extended; an untrusted peer's chain is replaced and its `Forwarded`
/// header dropped, so the upstream never sees an address the client made up as if a
/// proxy had vouched for it.
///
/// `peer_text` is the peer's address as text, made once per connection.
pub fn set_forwarding(
    headers: &mut HeaderMap,
    peer_text: &HeaderValue,
    peer_trusted: bool,
    tls: bool,
) {
    if !peer_trusted {
        headers.remove(http::header::FORWARDED);
    }
    // A trusted peer's chain is extended; otherwise the peer alone is the chain (the
    // common case: no string is built).
    let chain = if peer_trusted {
        let prior: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!prior.is_empty()).then(|| {
            format!(
                "{}, {}",
                prior.join(", "),
                peer_text.to_str().unwrap_or_default()
            )
        })
    } else {
        None
    };
    let value = match chain {
        Some(c) => HeaderValue::from_str(&c).ok(),
        None => Some(peer_text.clone()),
    };
    if let Some(v) = value {
        headers.insert(X_FORWARDED_FOR, v);
    }
    if !(peer_trusted && headers.contains_key(&X_FORWARDED_PROTO)) {
        let proto = if tls { "https" } else { "http" };
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    }
    headers.append(http::header::VIA, HeaderValue::from_static("1.1 sekisho"));
}

/// The request id: the client's own when it is short and plain, else a new one.
pub fn request_id(headers: &HeaderMap, header: &HeaderName) -> RequestId {
    if let Some(v) = headers.get(header) {
        let b = v.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 128
            && b.iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if ok {
            return RequestId::text(v.clone());
        }
    }
    new_request_id()
}

/// 32 hex digits, unique per process run: a counter, mixed with random per-process keys
/// through a bijection (so two counts never give the same id).
pub fn new_request_id() -> RequestId {
    static KEYS: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let &(k1, k2) = KEYS.get_or_init(|| {
        let s = std::collections::hash_map::RandomState::new();
        (s.hash_one(1u8), s.hash_one(2u8))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let id = (u128::from(mix(n ^ k1)) << 64) | u128::from(mix(n.wrapping_add(k2)));
    let mut text = [0u8; 32];
    for (pair, byte) in text.chunks_exact_mut(2).zip(id.to_be_bytes()) {
        let digit = |v: u8| HEX.get(usize::from(v)).copied().unwrap_or(b'0');
        pair.copy_from_slice(&[digit(byte >> 4), digit(byte & 0xf)]);
    }
    // Hex digits are a valid header value and text: neither fallback is ever taken.
    let value =
        HeaderValue::from_maybe_shared(id_bytes(&text)).unwrap_or(HeaderValue::from_static("0"));
    RequestId::text(value)
}

/// SplitMix64's finaliser: a bijection on `u64` that spreads every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

thread_local! {
    /// Request ids are cut from one shared buffer per thread, 128 at a time: one allocation
    /// per 128 requests instead of one (or, once cloned for the upstream and the client,
    /// two) per request.
    static IDS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

fn id_bytes(text: &[u8]) -> Bytes {
    IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        if ids.capacity() - ids.len() < text.len() {
            *ids = BytesMut::with_capacity(text.len() * 128);
        }
        ids.extend_from_slice(text);
        ids.split().freeze()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    #[test]
    fn walks_trusted_chain() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let peer = "10.0.0.1".parse().unwrap();
        let hdr = h(&[("x-forwarded-for", "198.51.100.7, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(client_ip(peer, &hdr, &trusted).to_string(), "203.0.113.9");
        let untrusted = "192.0.2.1".parse().unwrap();
        assert_eq!(client_ip(untrusted, &hdr, &trusted), untrusted);
        let fwd = h(&[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")]);
        assert_eq!(client_ip(peer, &fwd, &trusted).to_string(), "2001:db8::1");
    }

    #[test]
    fn strips_connection_named_headers() {
        let mut m = h(&[
            ("connection", "x-secret, close"),
            ("x-secret", "1"),
            ("te", "trailers"),
            ("a", "b"),
        ]);
        strip_hop_by_hop(&mut m);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn request_ids() {
        let m = h(&[("x-request-id", "abc-123")]);
        let name = HeaderName::from_static("x-request-id");
        assert_eq!(request_id(&m, &name).as_str(), "abc-123");
        let bad = h(&[("x-request-id", "a b")]);
        assert_eq!(request_id(&bad, &name).as_str().len(), 32);
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| new_request_id().to_string()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
