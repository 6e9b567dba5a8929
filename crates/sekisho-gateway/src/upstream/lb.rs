//! Load-balancing helpers: power of two choices and the consistent-hash ring.

use super::ClusterState;
use std::hash::Hasher;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

/// Virtual nodes per endpoint: enough that keys spread within a few percent.
const VNODES: usize = 160;

/// FNV-1a, stable across runs and processes (so every node hashes a key alike).
pub fn hash(data: &[u8]) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.write(data);
    // FNV's low bits spread poorly over short keys; mix them (splitmix64 finaliser).
    let mut z = h.finish();
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The ring: `(point, endpoint index)` sorted by point.
pub fn ring(endpoints: &[SocketAddr]) -> Vec<(u64, usize)> {
    let mut ring = Vec::with_capacity(endpoints.len() * VNODES);
    for (i, a) in endpoints.iter().enumerate() {
        for v in 0..VNODES {
            ring.push((hash(format!("{a}#{v}").as_bytes()), i));
        }
    }
    ring.sort_unstable();
    ring
}

/// The first acceptable endpoint clockwise from `key`.
pub fn ring_pick(ring: &[(u64, usize)], key: u64, ok: &dyn Fn(usize) -> bool) -> Option<usize> {
    let start = ring.partition_point(|(p, _)| *p < key);
    let (after, before) = (ring.get(start..)?, ring.get(..start)?);
    after.iter().chain(before).map(|&(_, i)| i).find(|&i| ok(i))
}

/// Least request of two distinct random acceptable endpoints. (Drawing the second with
/// replacement would pair an endpoint with itself one time in n², sending it that share
/// however loaded it is.)
pub fn p2c(c: &ClusterState, ok: &dyn Fn(usize) -> bool) -> Option<usize> {
    let live: Vec<usize> = (0..c.endpoints.len()).filter(|&i| ok(i)).collect();
    let n = live.len() as u64;
    match n {
        0 => return None,
        1 => return live.first().copied(),
        _ => {}
    }
    let r = c.random();
    let ia = r % n;
    let ib = (ia + 1 + (r >> 32) % (n - 1)) % n;
    let a = *live.get(usize::try_from(ia).ok()?)?;
    let b = *live.get(usize::try_from(ib).ok()?)?;
    let load = |i: usize| {
        c.endpoints
            .get(i)
            .map_or(usize::MAX, |e| e.in_flight.load(Ordering::Relaxed))
    };
    Some(if load(b) < load(a) { b } else { a })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_spreads_and_is_stable() {
        let eps: Vec<SocketAddr> = (1..=3)
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .collect();
        let r = ring(&eps);
        let mut counts = [0usize; 3];
        for k in 0..3000u32 {
            let i = ring_pick(&r, hash(&k.to_le_bytes()), &|_| true).unwrap();
            counts[i] += 1;
        }
        assert!(counts.iter().all(|&c| c > 700), "{counts:?}");
        let key = hash(b"10.1.2.3");
        assert_eq!(
            ring_pick(&r, key, &|_| true),
            ring_pick(&ring(&eps), key, &|_| true)
        );
    }
}
