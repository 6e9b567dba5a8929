//! Route matching (host, path, method, headers; first match in file order wins) and the
//! path rewrite of a matched route.

use http::request::Parts;
use sekisho_config::{PathMatch, Rewrite, Route};

/// The host a request names: `:authority` (HTTP/2) or `Host`, without port, as sent
/// (routes compare it ignoring ASCII case).
///
/// Example: `Host: API.example.com:8443` → `API.example.com`.
pub fn request_host(req: &Parts) -> &str {
    let raw = match req.uri.authority() {
        Some(a) => a.host(),
        None => req
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default(),
    };
    strip_port(raw)
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:8080
        return host
            .split_once(']')
            .map_or(host, |(h, _)| h.trim_start_matches('['));
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Whether `route` matches the request for `host` (any ASCII case).
pub fn matches(route: &Route, req: &Parts, host: &str) -> bool {
    if let Some(want) = &route.host {
        let ok = match want.strip_prefix("*.") {
            // `*.example.com`: at least one label before the suffix.
            Some(suffix) => {
                let (host, suffix) = (host.as_bytes(), suffix.as_bytes());
                host.len() > suffix.len() + 1
                    && host
                        .get(host.len() - suffix.len()..)
                        .is_some_and(|end| end.eq_ignore_ascii_case(suffix))
                    && host.get(host.len() - suffix.len() - 1) == Some(&b'.')
            }
            None => want.eq_ignore_ascii_case(host),
        };
        if !ok {
            return false;
        }
    }
    let path = req.uri.path();
    let path_ok = match &route.path {
        PathMatch::Any => true,
        PathMatch::Exact(p) => path == p,
        PathMatch::Prefix(p) => path.starts_with(p.as_str()),
        PathMatch::Regex(re) => re.is_match(path),
    };
    if !path_ok {
        return false;
    }
    if !route.methods.is_empty() && !route.methods.iter().any(|m| m == req.method.as_str()) {
        return false;
    }
    route.headers.iter().all(|(name, value)| {
        req.headers
            .get_all(name.as_str())
            .iter()
            .any(|v| v.as_bytes() == value.as_bytes())
    })
}

/// The first route that matches, with its index.
pub fn find<'a>(routes: &'a [Route], req: &Parts) -> Option<(usize, &'a Route)> {
    let host = request_host(req);
    routes
        .iter()
        .enumerate()
        .find(|(_, r)| matches(r, req, host))
}

/// The path the upstream sees after the route's rewrite.
///
/// Example: prefix `/api/` rewritten to `/` turns `/api/users` into `/users`.
pub fn rewrite_path(route: &Route, path: &str) -> String {
    match (&route.rewrite, &route.path) {
        (Some(Rewrite::Prefix(to)), PathMatch::Prefix(from)) => {
            match path.strip_prefix(from.as_str()) {
                Some(rest) => {
                    let joined = format!("{to}{rest}");
                    if joined.starts_with('/') {
                        joined
                    } else {
                        format!("/{joined}")
                    }
                }
                None => path.to_owned(),
            }
        }
        (Some(Rewrite::Regex(re, replace)), _) => {
            let out = re.replace(path, replace.as_str()).into_owned();
            if out.starts_with('/') {
                out
            } else {
                format!("/{out}")
            }
        }
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_without_port() {
        assert_eq!(strip_port("a.example:80"), "a.example");
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("a.example"), "a.example");
    }
}
