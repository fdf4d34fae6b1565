//! Connection counting, globally and per IP address, with a guard that gives the slot back on drop.
//!
//! A slot is taken when the TCP connection is accepted, not when it upgrades: a socket that is
//! still sending (or never sends) its request holds one too, so half-finished handshakes cannot
//! pile up past the limits. The slot then travels with the connection into its WebSocket session.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedSemaphorePermit;

pub struct ConnectionLimits {
    max_total: usize,
    max_per_ip: usize,
    inner: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Holds one connection slot until dropped.
pub struct ConnectionSlot {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
}

/// How the accept loop let a connection in.
pub enum Admission {
    /// Within the limits: the connection holds a slot until it ends (kept for its `Drop`).
    Slot(#[allow(dead_code)] ConnectionSlot),
    /// Over a limit: served one request only (a WebSocket client is upgraded just to read the
    /// 4006 close), under a permit from the small pool that bounds refusals in flight.
    Refused(OwnedSemaphorePermit),
}

/// The admission of the connection a request came in on, for the route that keeps the
/// connection (the WebSocket upgrade) to take along. Whatever nobody takes is dropped with the
/// connection, and the slot with it.
#[derive(Clone)]
pub struct AdmissionCell(Arc<Mutex<Option<Admission>>>);

impl AdmissionCell {
    pub fn new(a: Admission) -> Self {
        AdmissionCell(Arc::new(Mutex::new(Some(a))))
    }

    pub fn take(&self) -> Option<Admission> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl ConnectionLimits {
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            max_total,
            max_per_ip,
            inner: Mutex::default(),
        })
    }

    /// A slot for a new connection from `ip`, or `None` when either limit is reached.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionSlot> {
        let ip = limit_key(ip);
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let from_ip = c.per_ip.get(&ip).copied().unwrap_or(0);
        if c.total >= self.max_total || from_ip >= self.max_per_ip {
            return None;
        }
        c.total += 1;
        c.per_ip.insert(ip, from_ip + 1);
        Some(ConnectionSlot {
            limits: self.clone(),
            ip,
        })
    }

    pub fn total(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

/// The address a per-address limit counts against: an IPv4 address as it is (also when it
/// arrives mapped into IPv6), an IPv6 address by its /64. One host or home network is normally
/// given a whole /64, so counting single IPv6 addresses would let it pick a fresh address for
/// every connection and never meet its limit.
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut c = self.limits.inner.lock().unwrap_or_else(|e| e.into_inner());
        c.total -= 1;
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ip_and_in_total_and_frees_on_drop() {
        let l = ConnectionLimits::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = l.try_acquire(a).unwrap();
        let _s2 = l.try_acquire(a).unwrap();
        assert!(l.try_acquire(a).is_none());
        let _s3 = l.try_acquire(b).unwrap();
        assert!(l.try_acquire(b).is_none(), "total reached");
        drop(s1);
        assert!(l.try_acquire(a).is_some());
        assert_eq!(l.total(), 3 - 1 + 1 - 1);
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let l = ConnectionLimits::new(100, 2);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let _a = l.try_acquire(ip("2001:db8:1:2::1")).unwrap();
        let _b = l.try_acquire(ip("2001:db8:1:2:ffff::9")).unwrap();
        assert!(
            l.try_acquire(ip("2001:db8:1:2:dead:beef::")).is_none(),
            "same /64"
        );
        assert!(
            l.try_acquire(ip("2001:db8:1:3::1")).is_some(),
            "another /64"
        );
        let _c = l.try_acquire(ip("10.0.0.7")).unwrap();
        let _d = l.try_acquire(ip("::ffff:10.0.0.7")).unwrap();
        assert!(
            l.try_acquire(ip("10.0.0.7")).is_none(),
            "mapped is the same address"
        );
    }
}
