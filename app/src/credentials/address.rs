//! Which address a request comes from: the socket's peer, unless that peer is a trusted
//! reverse proxy, whose `X-Forwarded-For` then names the client. Without configured proxies
//! the header is ignored, so a client cannot pick the address it is throttled under.

use std::net::{IpAddr, Ipv6Addr};

/// The reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpAddr>);

/// The client's address, for throttling. IPv6 addresses count by their /64 network: one
/// host is handed a whole /64, so single addresses would be free to rotate.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, proxies: &TrustedProxies) -> IpAddr {
    let mut client = peer;
    if proxies.0.contains(&peer) {
        // Walk from the nearest hop: the first address that is not a trusted proxy is the client.
        let hops =
            forwarded_for.unwrap_or_default().split(',').rev().filter_map(|hop| hop.trim().parse::<IpAddr>().ok());
        for hop in hops {
            client = hop;
            if !proxies.0.contains(&hop) {
                break;
            }
        }
    }
    network_of(client)
}

fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let segments = v6.segments();
            IpAddr::V6(Ipv6Addr::new(segments[0], segments[1], segments[2], segments[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let none = TrustedProxies::default();
        assert_eq!(client_address(ip("10.0.0.9"), Some("1.2.3.4"), &none), ip("10.0.0.9"));
        let proxy = TrustedProxies(vec![ip("10.0.0.9")]);
        assert_eq!(client_address(ip("10.0.0.9"), Some("6.6.6.6, 1.2.3.4"), &proxy), ip("1.2.3.4"));
        assert_eq!(client_address(ip("10.0.0.9"), None, &proxy), ip("10.0.0.9"));
        assert_eq!(client_address(ip("10.0.0.8"), Some("1.2.3.4"), &proxy), ip("10.0.0.8"));
    }

    #[test]
    fn an_ipv6_client_counts_by_its_network() {
        let none = TrustedProxies::default();
        assert_eq!(client_address(ip("2001:db8:1:2:aaaa::1"), None, &none), ip("2001:db8:1:2::"));
        assert_eq!(client_address(ip("::ffff:1.2.3.4"), None, &none), ip("1.2.3.4"));
    }
}
