//! DNS resolution that refuses private addresses and honours `[resolve]` pins.
//!
//! A public portal's link or redirect to a host that resolves to 10.x, 192.168.x,
//! loopback or link-local space is either a misconfiguration or an attempt to make
//! the crawler probe an internal network; both are refused unless the config allows
//! them: loopback (as the tests, which run on loopback, do) and private ranges each
//! need their own permission.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A host refused because every address it resolves to is private or reserved.
#[derive(Debug)]
pub struct Refused {
    pub host: String,
    pub found: Vec<SocketAddr>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves only to private or reserved addresses ({:?}): refused", self.host, self.found)
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// The refusal somewhere in an error's chain of causes, if that is what it is.
    pub fn in_chain<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
        std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref::<Refused>())
    }
}

pub struct GuardedResolver {
    pins: HashMap<String, SocketAddr>,
    allowed: Allowed,
}

/// Which non-public addresses the config allows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    pub loopback: bool,
    pub private: bool,
}

impl Allowed {
    pub fn permits(self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => embedded_ipv4(v6).map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        is_public(ip) || (self.loopback && ip.is_loopback()) || (self.private && is_private_range(ip))
    }
}

fn is_private_range(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => is_unique_local(v6) || is_link_local(v6),
    }
}

/// fc00::/7, IPv6's private range.
fn is_unique_local(v6: Ipv6Addr) -> bool {
    (v6.segments()[0] & 0xfe00) == 0xfc00
}

/// fe80::/10.
fn is_link_local(v6: Ipv6Addr) -> bool {
    (v6.segments()[0] & 0xffc0) == 0xfe80
}

/// The IPv4 address an IPv6 address stands for, where it embeds one: IPv4-mapped
/// (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
/// (2002:AABB:CCDD::/48). Each reaches the IPv4 host, so it is judged as that host.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(mapped) = v6.to_ipv4_mapped() {
        return Some(mapped);
    }
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) > (0, 1) => Some(v4(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

impl GuardedResolver {
    pub fn new(pins: HashMap<String, SocketAddr>, allowed: Allowed) -> GuardedResolver {
        let pins = pins.into_iter().map(|(h, a)| (h.to_ascii_lowercase(), a)).collect();
        GuardedResolver { pins, allowed }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let pinned = self.pins.get(&host).copied();
        let allowed = self.allowed;
        Box::pin(async move {
            let found: Vec<SocketAddr> = match pinned {
                Some(addr) => vec![addr],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let usable: Vec<SocketAddr> = found.iter().copied().filter(|a| allowed.permits(a.ip())).collect();
            if usable.is_empty() {
                return Err(Box::new(Refused { host, found }) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(usable.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 198 && (b & 0xfe) == 18) // benchmarking, 198.18.0.0/15
                || a >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || is_unique_local(v6)
                || is_link_local(v6)
                || (first & 0xffc0) == 0xfec0 // site-local, deprecated but routed by some
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x2001 && v6.segments()[1] == 0) // Teredo: hides an IPv4 host
                || v6.segments()[..4] == [0x100, 0, 0, 0] // discard-only
                || v6.is_multicast())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_not_public() {
        for ip in ["10.1.2.3", "192.168.0.1", "172.16.5.4", "127.0.0.1", "169.254.1.1", "100.64.0.1", "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        // IPv6 forms that reach a private IPv4 host, and ranges that are not the internet.
        for ip in ["64:ff9b::a00:1", "::a00:1", "2002:a00:1::", "fec0::1", "198.18.0.1", "198.19.255.1", "192.0.0.8", "2001:db8::1", "2001:0:4136:e378::1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["202.96.128.86", "1.1.1.1", "2400:3200::1", "64:ff9b::ca60:8056", "2002:ca60:8056::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn loopback_and_private_need_their_own_permission() {
        let pins = HashMap::from([
            ("www.zt.gov.cn".to_string(), "127.0.0.1:8080".parse().unwrap()),
            ("intranet.zt.gov.cn".to_string(), "10.0.0.5:80".parse().unwrap()),
        ]);
        let name = |n: &str| n.parse::<Name>().unwrap();
        let none = GuardedResolver::new(pins.clone(), Allowed::default());
        assert!(none.resolve(name("www.zt.gov.cn")).await.is_err());
        let loopback = GuardedResolver::new(pins, Allowed { loopback: true, private: false });
        let addrs: Vec<_> = loopback.resolve(name("www.zt.gov.cn")).await.unwrap().collect();
        assert_eq!(addrs, vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);
        assert!(loopback.resolve(name("intranet.zt.gov.cn")).await.is_err(), "loopback permission is not private permission");
    }
}
