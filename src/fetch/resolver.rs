//! DNS resolution that refuses private addresses and honours `[resolve]` pins.
//!
//! A public portal's link or redirect to a host that resolves to 10.x, 192.168.x,
//! loopback or link-local space is either a misconfiguration or an attempt to make
//! the crawler probe an internal network; both are refused unless the config allows
//! private addresses (as the tests, which run on loopback, do).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub struct GuardedResolver {
    pins: HashMap<String, SocketAddr>,
    allow_private: bool,
}

impl GuardedResolver {
    pub fn new(pins: HashMap<String, SocketAddr>, allow_private: bool) -> GuardedResolver {
        let pins = pins.into_iter().map(|(h, a)| (h.to_ascii_lowercase(), a)).collect();
        GuardedResolver { pins, allow_private }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let pinned = self.pins.get(&host).copied();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = match pinned {
                Some(addr) => vec![addr],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let usable: Vec<SocketAddr> =
                found.iter().copied().filter(|a| allow_private || is_public(a.ip())).collect();
            if usable.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to private or reserved addresses ({found:?}): refused").into();
                return Err(err);
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
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || a >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 || v6.is_multicast())
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
        for ip in ["202.96.128.86", "1.1.1.1", "2400:3200::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn pins_to_loopback_need_permission() {
        let pins = HashMap::from([("www.zt.gov.cn".to_string(), "127.0.0.1:8080".parse().unwrap())]);
        let name = || "www.zt.gov.cn".parse::<Name>().unwrap();
        assert!(GuardedResolver::new(pins.clone(), false).resolve(name()).await.is_err());
        let addrs: Vec<_> = GuardedResolver::new(pins, true).resolve(name()).await.unwrap().collect();
        assert_eq!(addrs, vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);
    }
}
