//! `@ipMatch LIST`: matches when the value is an IPv4 or IPv6 address inside one of the
//! comma-separated addresses or CIDR networks of `LIST` (`10.0.0.0/8,::1,2001:db8::/32`).
//! A value that is not an IP address never matches.
//!
//! ```text
//! SecRule REMOTE_ADDR "@ipMatch 127.0.0.1,::1,10.0.0.0/8" "id:1,phase:1,allow"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};
use std::net::IpAddr;

/// One network: an address and a prefix length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Net {
    addr: u128,
    prefix: u32,
    v4: bool,
}

impl Net {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let ip: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("invalid IP address `{s}`"))?;
        let (addr, bits, v4) = to_bits(ip);
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|&p| p <= bits)
                .ok_or_else(|| format!("invalid network prefix in `{s}`"))?,
        };
        Ok(Self {
            addr: addr & mask(prefix, bits),
            prefix,
            v4,
        })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let (addr, bits, v4) = to_bits(ip);
        v4 == self.v4 && addr & mask(self.prefix, bits) == self.addr
    }
}

/// The address as an integer, its width, and whether it is IPv4 (IPv4-mapped IPv6
/// addresses count as IPv4).
fn to_bits(ip: IpAddr) -> (u128, u32, bool) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32, true),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (u128::from(u32::from(v4)), 32, true),
            None => (u128::from(a), 128, false),
        },
    }
}

fn mask(prefix: u32, bits: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        (u128::MAX << (128 - prefix)) >> (128 - bits)
    }
}

/// A set of networks.
#[derive(Debug)]
pub(crate) struct IpMatch(pub(crate) Vec<Net>);

impl Operator for IpMatch {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let Some(ip) = std::str::from_utf8(input)
            .ok()
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
        else {
            return false;
        };
        let hit = self.0.iter().any(|n| n.contains(ip));
        if hit {
            out.capture0(input);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    let nets = arg
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Net::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("`@ipMatch`: {e}"))?;
    Ok(Box::new(IpMatch(nets)))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn ipv4_and_ipv6() {
        let op = build(
            "ipMatch",
            "127.0.0.1, 10.0.0.0/8,192.168.1.0/24,::1,2001:db8::/32,0.0.0.0/0",
            &test_env(),
        );
        assert!(op.is_ok());
        let op = build(
            "ipMatch",
            "127.0.0.1,10.0.0.0/8,192.168.1.0/24,::1,2001:db8::/32",
            &test_env(),
        )
        .unwrap();
        let m = |v: &str| op.matches(v.as_bytes(), &mut MatchOutput::default());
        assert!(m("127.0.0.1") && m("10.200.3.4") && m("192.168.1.255") && m("::1"));
        assert!(m("2001:db8:1::5") && m("::ffff:10.1.1.1"));
        assert!(!m("127.0.0.2") && !m("11.0.0.1") && !m("192.168.2.1") && !m("::2"));
        assert!(!m("2001:db9::1") && !m("not an ip") && !m(""));
        let all = build("ipMatch", "0.0.0.0/0", &test_env()).unwrap();
        assert!(all.matches(b"8.8.8.8", &mut MatchOutput::default()));
        assert!(!all.matches(b"::8", &mut MatchOutput::default()));
    }

    #[test]
    fn bad_lists_are_errors() {
        assert!(build("ipMatch", "300.1.1.1", &test_env()).is_err());
        assert!(build("ipMatch", "10.0.0.0/33", &test_env()).is_err());
        assert!(build("ipMatch", "::/129", &test_env()).is_err());
    }
}
