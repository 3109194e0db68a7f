//! Inbound eviction, after Bitcoin Core's `AttemptToEvictConnection`: when every inbound slot is
//! taken, a new inbound peer may take the slot of an existing one, chosen so that an attacker
//! who opens many connections cannot push out the peers worth keeping. Some peers are protected
//! for the diversity of their network groups, some for their score, half of the rest for how
//! long they have been connected; of those left, the youngest peer of the most represented
//! network group goes. A pure function over a list of candidates.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Instant;

/// Peers protected for the diversity of their network groups: the longest-connected peer of
/// each of this many groups, picked by a keyed hash the attacker cannot predict (so it cannot
/// choose groups that get protected).
pub const PROTECT_BY_NETGROUP: usize = 4;
/// Peers protected for their score (the least penalised; ties go to the longest-connected).
pub const PROTECT_BY_SCORE: usize = 4;

/// A network group: the /16 of an IPv4 address, the /32 of an IPv6 address (an allocation to
/// one provider, as Bitcoin Core groups them: a /64 is one subscriber's, and a subscriber has
/// thousands), `Other` for an address without an IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetGroup {
    /// The first two octets of an IPv4 address.
    V4([u8; 2]),
    /// The first four bytes of an IPv6 address.
    V6([u8; 4]),
    /// No IP address.
    Other,
}

impl NetGroup {
    /// The group of an address (an IPv4-mapped IPv6 address is in its IPv4 group).
    pub fn of(ip: Option<IpAddr>) -> NetGroup {
        match ip {
            Some(IpAddr::V4(v4)) => {
                let [a, b, _, _] = v4.octets();
                NetGroup::V4([a, b])
            }
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => NetGroup::of(Some(IpAddr::V4(v4))),
                None => {
                    let [a, b, c, d, ..] = v6.octets();
                    NetGroup::V6([a, b, c, d])
                }
            },
            None => NetGroup::Other,
        }
    }
}

/// An inbound peer that could be evicted.
#[derive(Clone, Debug)]
pub struct Candidate<K> {
    /// Who it is.
    pub id: K,
    /// Its network group.
    pub netgroup: NetGroup,
    /// When its first connection was established.
    pub connected_since: Instant,
    /// Its score (0 is neutral, lower is worse).
    pub score: i32,
}

/// The peer to evict to make room for a new inbound one, or `None` when every candidate is
/// protected (the new connection is then refused). `key` is the node's secret for the network
/// groups' keyed hash.
pub fn select_victim<K: Copy>(candidates: &[Candidate<K>], key: u64) -> Option<K> {
    let mut remaining: Vec<&Candidate<K>> = candidates.iter().collect();

    // Diversity: the longest-connected peer of each of a few keyed-hash-chosen groups.
    let mut groups: Vec<NetGroup> = remaining.iter().map(|c| c.netgroup).collect();
    groups.sort();
    groups.dedup();
    groups.sort_by_key(|group| std::cmp::Reverse(keyed(key, group)));
    for group in groups.into_iter().take(PROTECT_BY_NETGROUP) {
        if let Some(oldest) = remaining
            .iter()
            .enumerate()
            .filter(|(_, c)| c.netgroup == group)
            .min_by_key(|(_, c)| c.connected_since)
            .map(|(index, _)| index)
        {
            remaining.swap_remove(oldest);
        }
    }

    // Score: the least penalised, the longest-connected among equals.
    remaining.sort_by_key(|c| (std::cmp::Reverse(c.score), c.connected_since));
    remaining.drain(..PROTECT_BY_SCORE.min(remaining.len()));

    // Uptime: the older half of the rest.
    remaining.sort_by_key(|c| c.connected_since);
    remaining.drain(..remaining.len() / 2);

    // The most represented group (ties: the group with the youngest peer); its youngest peer.
    let mut by_group: HashMap<NetGroup, Vec<&Candidate<K>>> = HashMap::new();
    for candidate in remaining {
        by_group
            .entry(candidate.netgroup)
            .or_default()
            .push(candidate);
    }
    let youngest = |members: &Vec<&Candidate<K>>| {
        members
            .iter()
            .map(|c| c.connected_since)
            .max()
            .expect("a group has members")
    };
    let (_, members) = by_group
        .iter()
        .max_by_key(|(_, members)| (members.len(), youngest(members)))?;
    members
        .iter()
        .max_by_key(|c| c.connected_since)
        .map(|c| c.id)
}

fn keyed(key: u64, group: &NetGroup) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    group.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn candidate(id: u32, ip: &str, age_seconds: u64, score: i32, now: Instant) -> Candidate<u32> {
        Candidate {
            id,
            netgroup: NetGroup::of(Some(ip.parse().unwrap())),
            connected_since: now - Duration::from_secs(age_seconds),
            score,
        }
    }

    #[test]
    fn network_groups_are_the_ipv4_slash_16_and_the_ipv6_slash_32() {
        let group = |ip: &str| NetGroup::of(Some(ip.parse().unwrap()));
        assert_eq!(group("10.1.2.3"), group("10.1.200.9"));
        assert_ne!(group("10.1.2.3"), group("10.2.2.3"));
        assert_eq!(group("2001:db8:1::1"), group("2001:db8:ffff::1"));
        assert_ne!(group("2001:db8::1"), group("2001:db9::1"));
        assert_eq!(group("::ffff:10.1.2.3"), group("10.1.9.9"));
        assert_eq!(NetGroup::of(None), NetGroup::Other);
    }

    #[test]
    fn too_few_candidates_to_evict_any_refuses_the_newcomer() {
        let now = Instant::now() + Duration::from_secs(10_000);
        let few: Vec<_> = (0..5)
            .map(|id| candidate(id, "127.0.0.1", 100 + u64::from(id), 0, now))
            .collect();
        assert_eq!(select_victim(&few, 7), None);
        assert_eq!(select_victim::<u32>(&[], 7), None);
    }

    #[test]
    fn the_youngest_of_the_most_represented_group_goes_and_the_old_and_diverse_stay() {
        let now = Instant::now() + Duration::from_secs(10_000);
        // Eight peers of one group (an attacker's /16), connected recently; four honest peers
        // of four other groups; and two old peers in the attacker's group.
        let mut candidates = Vec::new();
        for id in 0..8 {
            candidates.push(candidate(id, &format!("198.51.{id}.1"), 0, 0, now));
            candidates[id as usize].netgroup = NetGroup::V4([198, 51]);
            candidates[id as usize].connected_since = now - Duration::from_secs(10 + u64::from(id));
        }
        for (id, ip) in [
            (10, "10.0.0.1"),
            (11, "172.16.0.1"),
            (12, "192.0.2.1"),
            (13, "203.0.113.1"),
        ] {
            candidates.push(candidate(id, ip, 60, 0, now));
        }
        candidates.push(candidate(20, "198.51.100.1", 5_000, 0, now));
        candidates.push(candidate(21, "198.51.100.2", 4_000, 0, now));
        for key in 0..50 {
            let victim = select_victim(&candidates, key).expect("room can be made");
            assert_eq!(victim, 0, "key {key}: the youngest of the crowded group");
        }

        // Penalised peers are not protected for their score; the best scored are.
        let mut scored = candidates.clone();
        for candidate in &mut scored {
            candidate.score = match candidate.id {
                0 => 0, // the youngest, yet the best scored
                1..8 => -10,
                _ => -50,
            };
        }
        for key in 0..50 {
            let victim = select_victim(&scored, key).expect("room can be made");
            assert_ne!(victim, 0, "key {key}: protected by its score");
            assert!(
                victim < 8,
                "key {key}: from the crowded group, got {victim}"
            );
        }
    }

    #[test]
    fn on_one_address_the_longest_connected_peers_are_protected() {
        // Loopback: every peer in one group, as in the integration tests.
        let now = Instant::now() + Duration::from_secs(10_000);
        let candidates: Vec<_> = (0..8)
            .map(|id| candidate(id, "127.0.0.1", 1_000 - 100 * u64::from(id), 0, now))
            .collect();
        // Protected: the oldest (group), the next four (score, all neutral), one of the three
        // left (uptime); the youngest goes.
        assert_eq!(select_victim(&candidates, 3), Some(7));
        let mut without_youngest = candidates.clone();
        without_youngest.pop();
        assert_eq!(select_victim(&without_youngest, 3), Some(6));
        without_youngest.truncate(5);
        assert_eq!(select_victim(&without_youngest, 3), None);
    }
}
