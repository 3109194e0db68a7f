//! Peer reputation: misbehaviour lowers a peer's score, and a peer at or below the ban
//! threshold is banned for a period — its PeerId and, when IP bans are on, the address it
//! connected from (an IPv4 address, an IPv6 /64). Bans live in memory, so a restart clears
//! them, unless the node is configured to persist them (`[p2p] persist_bans`). Reputations and
//! bans are bounded in count.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Score at or below which a peer is banned.
pub const BAN_THRESHOLD: i32 = -100;
/// Points a peer regains per minute of good behaviour (so rare mistakes are forgiven).
pub const RECOVERY_PER_MINUTE: i32 = 5;

/// What a peer did wrong, and what it costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// A block that fails validation (bad proof of work, bad roots, bad transactions): one is
    /// enough to ban, since honest nodes validate before relaying.
    InvalidBlock,
    /// A message that does not decode or breaks a size limit: honest nodes never send one (a
    /// cut connection is an I/O error, not this), so one is enough to ban.
    MalformedMessage,
    /// A transaction with a bad signature or for another chain (ten make a ban: a flood).
    InvalidTransaction,
    /// A sync request not answered before its deadline (headers, bodies): ten make a ban; a
    /// slow but honest peer recovers five points a minute.
    Unresponsive,
    /// A transaction its payer cannot cover, relayed while this node is caught up: it can never
    /// execute as it stands (fifty make a ban; an honest relayer a block behind sends few).
    UselessTransaction,
    /// Headers that do not link, or bodies that do not match their headers.
    BadSyncResponse,
    /// A node of another network (different genesis).
    WrongNetwork,
    /// A block the node does not keep though it may be valid: a side branch deeper than the
    /// node reorganises, an orphan that could not connect here (five make a ban: an honest
    /// peer back from a long partition sends a few, a flood of cheap blocks many).
    UnwantedBlock,
}

impl Misbehaviour {
    /// The score penalty.
    pub fn penalty(self) -> i32 {
        match self {
            Misbehaviour::InvalidBlock
            | Misbehaviour::WrongNetwork
            | Misbehaviour::MalformedMessage => 100,
            Misbehaviour::BadSyncResponse => 50,
            Misbehaviour::UnwantedBlock => 20,
            Misbehaviour::InvalidTransaction => 10,
            Misbehaviour::UselessTransaction => 2,
            Misbehaviour::Unresponsive => 10,
        }
    }
}

/// Most peers whose reputation is remembered. A reputation is created by misbehaviour, and a
/// PeerId costs nothing to make: without a bound, a peer dialling with fresh identities and
/// misbehaving a little each time would grow the map for ever. 8,192 entries are under a
/// megabyte; when full, reputations that have recovered to neutral go first, then the least
/// penalised (the least relevant: a peer close to a ban is the one worth remembering).
pub const MAX_REPUTATIONS: usize = 8_192;
/// Most bans held. A ban needs misbehaviour from a new PeerId (and, with IP bans, from a new
/// address: a banned address is refused before the handshake), so this is reached only by a
/// flood of identities; 8,192 bans are under a megabyte. When full, the ban ending soonest
/// makes room (with the same duration for every threshold ban, the oldest).
pub const MAX_BANS: usize = 8_192;

/// The part of an address a ban covers: an IPv4 address, or the /64 an IPv6 address is in (an
/// IPv6 subscriber gets at least a /64 and can pick any address in it, so banning one IPv6
/// address would be no ban at all). IPv4-mapped IPv6 addresses count as their IPv4 address.
pub fn ban_scope(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
        },
    }
}

#[derive(Debug)]
struct Reputation {
    score: i32,
    updated: Instant,
}

impl Reputation {
    /// The score with the recovery earned since the last update (never above 0).
    fn current(&self, now: Instant) -> i32 {
        let minutes = now.saturating_duration_since(self.updated).as_secs() / 60;
        let recovered = i32::try_from(minutes)
            .unwrap_or(i32::MAX)
            .saturating_mul(RECOVERY_PER_MINUTE);
        self.score.saturating_add(recovered).min(0)
    }
}

/// A ban: until when, and the address scope it covers besides the PeerId (none for an
/// operator's ban by peer id, or when IP bans are off or the address was unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ban {
    /// When the ban ends.
    pub until: Instant,
    /// The [`ban_scope`] of the address the peer connected from, when the ban covers it.
    pub address: Option<IpAddr>,
}

/// Scores and bans, each bounded in count ([`MAX_REPUTATIONS`], [`MAX_BANS`]).
#[derive(Debug)]
pub struct PeerBook {
    reputations: HashMap<PeerId, Reputation>,
    bans: HashMap<PeerId, Ban>,
    ban_duration: Duration,
}

impl PeerBook {
    /// An empty book banning for `ban_duration`.
    pub fn new(ban_duration: Duration) -> PeerBook {
        PeerBook {
            reputations: HashMap::new(),
            bans: HashMap::new(),
            ban_duration,
        }
    }

    /// Records misbehaviour of a peer connected from `address` (when IP bans apply); returns
    /// true if the peer is now banned (and was not before). The ban covers the address's
    /// [`ban_scope`] too.
    pub fn penalise(
        &mut self,
        peer: PeerId,
        misbehaviour: Misbehaviour,
        address: Option<IpAddr>,
        now: Instant,
    ) -> bool {
        if self.is_banned(&peer, now) {
            return false;
        }
        if !self.reputations.contains_key(&peer) {
            self.make_room_for_a_reputation(now);
        }
        let reputation = self.reputations.entry(peer).or_insert(Reputation {
            score: 0,
            updated: now,
        });
        reputation.score = reputation.current(now);
        reputation.score = reputation.score.saturating_sub(misbehaviour.penalty());
        reputation.updated = now;
        if reputation.score <= BAN_THRESHOLD {
            self.ban(peer, address, self.ban_duration, now);
            true
        } else {
            false
        }
    }

    /// Frees a slot when the reputations are at their bound: the recovered ones first, else
    /// the least penalised (the oldest update among equals).
    fn make_room_for_a_reputation(&mut self, now: Instant) {
        if self.reputations.len() < MAX_REPUTATIONS {
            return;
        }
        self.reputations
            .retain(|_, reputation| reputation.current(now) < 0);
        if self.reputations.len() < MAX_REPUTATIONS {
            return;
        }
        let least_relevant = self
            .reputations
            .iter()
            .max_by_key(|(_, reputation)| {
                (
                    reputation.current(now),
                    std::cmp::Reverse(reputation.updated),
                )
            })
            .map(|(peer, _)| *peer);
        if let Some(peer) = least_relevant {
            self.reputations.remove(&peer);
        }
    }

    /// Bans a peer until `now + duration` (an operator's ban, or the threshold's), and with it
    /// the [`ban_scope`] of `address` when given (a renewed ban keeps the scope it had).
    pub fn ban(&mut self, peer: PeerId, address: Option<IpAddr>, duration: Duration, now: Instant) {
        let previous = self.bans.get(&peer).and_then(|ban| ban.address);
        if !self.bans.contains_key(&peer) && self.bans.len() >= MAX_BANS {
            let ending_soonest = self
                .bans
                .iter()
                .min_by_key(|(_, ban)| ban.until)
                .map(|(peer, _)| *peer);
            if let Some(peer) = ending_soonest {
                self.bans.remove(&peer);
            }
        }
        self.bans.insert(
            peer,
            Ban {
                until: now + duration,
                address: address.map(ban_scope).or(previous),
            },
        );
        self.reputations.remove(&peer);
    }

    /// Lifts a ban (and the address ban that came with it); returns whether there was one.
    pub fn unban(&mut self, peer: &PeerId) -> bool {
        self.bans.remove(peer).is_some()
    }

    /// Banned peers and their bans.
    pub fn bans(&self) -> impl Iterator<Item = (PeerId, Ban)> + '_ {
        self.bans.iter().map(|(peer, ban)| (*peer, *ban))
    }

    /// Whether the peer is banned now.
    pub fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.get(peer).is_some_and(|ban| ban.until > now)
    }

    /// The address scopes banned now, each with when its last ban ends.
    pub fn banned_addresses(&self, now: Instant) -> HashMap<IpAddr, Instant> {
        let mut banned = HashMap::new();
        for ban in self.bans.values().filter(|ban| ban.until > now) {
            if let Some(address) = ban.address {
                let until = banned.entry(address).or_insert(ban.until);
                *until = (*until).max(ban.until);
            }
        }
        banned
    }

    /// Whether connections from `ip` are refused now (the doors hold the same answer, from
    /// [`PeerBook::banned_addresses`]).
    #[cfg(test)]
    pub fn is_address_banned(&self, ip: IpAddr, now: Instant) -> bool {
        let scope = ban_scope(ip);
        self.bans
            .values()
            .any(|ban| ban.until > now && ban.address == Some(scope))
    }

    /// The current score (0 for an unknown peer), without the recovery since its last update.
    pub fn score(&self, peer: &PeerId) -> i32 {
        self.reputations
            .get(peer)
            .map_or(0, |reputation| reputation.score)
    }

    /// The score with the recovery earned since its last update.
    pub fn current_score(&self, peer: &PeerId, now: Instant) -> i32 {
        self.reputations
            .get(peer)
            .map_or(0, |reputation| reputation.current(now))
    }

    /// How many reputations and bans the book holds.
    #[cfg(test)]
    pub fn sizes(&self) -> (usize, usize) {
        (self.reputations.len(), self.bans.len())
    }

    /// Removes and returns the bans that have expired, and forgets reputations that have
    /// recovered to neutral.
    pub fn expire(&mut self, now: Instant) -> Vec<PeerId> {
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, ban)| ban.until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in &expired {
            self.bans.remove(peer);
        }
        self.reputations
            .retain(|_, reputation| reputation.current(now) < 0);
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_invalid_block_bans_and_a_transaction_flood_bans_after_ten() {
        let now = Instant::now();
        let mut book = PeerBook::new(Duration::from_secs(600));
        let forger = PeerId::random();
        assert!(book.penalise(forger, Misbehaviour::InvalidBlock, None, now));
        assert!(book.is_banned(&forger, now));
        assert!(
            !book.penalise(forger, Misbehaviour::InvalidBlock, None, now),
            "already banned"
        );

        let flooder = PeerId::random();
        for _ in 0..9 {
            assert!(!book.penalise(flooder, Misbehaviour::InvalidTransaction, None, now));
        }
        assert_eq!(book.score(&flooder), -90);
        assert!(book.penalise(flooder, Misbehaviour::InvalidTransaction, None, now));

        // Bans end; scores recover with time.
        let later = now + Duration::from_secs(601);
        assert!(book.expire(now).is_empty());
        let mut expired = book.expire(later);
        expired.sort();
        let mut expected = vec![forger, flooder];
        expected.sort();
        assert_eq!(expired, expected);
        assert!(!book.is_banned(&forger, later));
        book.ban(forger, None, Duration::from_secs(60), later);
        assert!(book.unban(&forger));
        assert!(!book.is_banned(&forger, later));

        let sloppy = PeerId::random();
        book.penalise(sloppy, Misbehaviour::BadSyncResponse, None, now);
        book.penalise(
            sloppy,
            Misbehaviour::BadSyncResponse,
            None,
            now + Duration::from_secs(20 * 60),
        );
        assert_eq!(
            book.score(&sloppy),
            -50,
            "recovered 50 points in 20 minutes, then lost 50"
        );
    }

    #[test]
    fn a_ban_covers_the_ipv4_address_or_the_ipv6_slash_64_until_it_ends_or_is_lifted() {
        let now = Instant::now();
        let mut book = PeerBook::new(Duration::from_secs(600));
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let v6: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let (forger, other) = (PeerId::random(), PeerId::random());
        assert!(book.penalise(forger, Misbehaviour::InvalidBlock, Some(v4), now));
        assert!(book.is_address_banned(v4, now));
        assert!(
            book.is_address_banned("::ffff:203.0.113.7".parse().unwrap(), now),
            "the same address, IPv4-mapped"
        );
        assert!(!book.is_address_banned("203.0.113.8".parse().unwrap(), now));
        book.ban(other, Some(v6), Duration::from_secs(60), now);
        assert!(book.is_address_banned("2001:db8:1:2:ffff::9".parse().unwrap(), now));
        assert!(!book.is_address_banned("2001:db8:1:3::1".parse().unwrap(), now));
        assert_eq!(
            book.banned_addresses(now)
                .keys()
                .copied()
                .collect::<std::collections::HashSet<_>>(),
            [v4, "2001:db8:1:2::".parse().unwrap()]
                .into_iter()
                .collect()
        );
        // An operator's renewal by peer id keeps the address.
        book.ban(forger, None, Duration::from_secs(6_000), now);
        assert!(book.is_address_banned(v4, now + Duration::from_secs(3_000)));
        assert!(book.unban(&forger));
        assert!(!book.is_address_banned(v4, now));
        assert!(!book.is_address_banned(v6, now + Duration::from_secs(61)));
    }

    #[test]
    fn reputations_and_bans_stay_bounded_and_the_least_relevant_go_first() {
        let now = Instant::now();
        let mut book = PeerBook::new(Duration::from_secs(600));
        // A peer close to a ban, and one barely penalised long ago.
        let (dangerous, mild) = (PeerId::random(), PeerId::random());
        book.penalise(dangerous, Misbehaviour::BadSyncResponse, None, now);
        book.penalise(dangerous, Misbehaviour::UnwantedBlock, None, now);
        book.penalise(mild, Misbehaviour::InvalidTransaction, None, now);
        // A flood of fresh identities, each a little penalised, later.
        let later = now + Duration::from_secs(3 * 60);
        for _ in 0..MAX_REPUTATIONS + 100 {
            book.penalise(PeerId::random(), Misbehaviour::BadSyncResponse, None, later);
        }
        assert_eq!(book.sizes().0, MAX_REPUTATIONS);
        assert_eq!(book.current_score(&dangerous, later), -55, "kept");
        assert_eq!(
            book.score(&mild),
            0,
            "recovered to neutral: forgotten first"
        );

        // Reputations recovered to neutral are forgotten at expiry.
        book.expire(later + Duration::from_secs(11 * 60));
        assert_eq!(book.sizes().0, 0);

        // Bans: the one ending soonest makes room.
        let first = PeerId::random();
        book.ban(first, None, Duration::from_secs(1), now);
        for _ in 0..MAX_BANS {
            book.ban(PeerId::random(), None, Duration::from_secs(600), now);
        }
        assert_eq!(book.sizes().1, MAX_BANS);
        assert!(!book.is_banned(&first, now));
    }
}
