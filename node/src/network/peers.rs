//! Peer reputation: misbehaviour lowers a peer's score, and a peer at or below the ban
//! threshold is banned for a period. Bans live in memory, so a restart clears them, unless the
//! node is configured to persist them (`[p2p] persist_bans`).

use std::collections::HashMap;
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
        }
    }
}

#[derive(Debug)]
struct Reputation {
    score: i32,
    updated: Instant,
}

/// Scores and bans.
#[derive(Debug)]
pub struct PeerBook {
    reputations: HashMap<PeerId, Reputation>,
    bans: HashMap<PeerId, Instant>,
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

    /// Records misbehaviour; returns true if the peer is now banned (and was not before).
    pub fn penalise(&mut self, peer: PeerId, misbehaviour: Misbehaviour, now: Instant) -> bool {
        if self.is_banned(&peer, now) {
            return false;
        }
        let reputation = self.reputations.entry(peer).or_insert(Reputation {
            score: 0,
            updated: now,
        });
        let minutes = now.duration_since(reputation.updated).as_secs() / 60;
        let recovered = i32::try_from(minutes)
            .unwrap_or(i32::MAX)
            .saturating_mul(RECOVERY_PER_MINUTE);
        reputation.score = reputation.score.saturating_add(recovered).min(0);
        reputation.score = reputation.score.saturating_sub(misbehaviour.penalty());
        reputation.updated = now;
        if reputation.score <= BAN_THRESHOLD {
            self.ban(peer, self.ban_duration, now);
            true
        } else {
            false
        }
    }

    /// Bans a peer until `now + duration` (an operator's ban, or the threshold's).
    pub fn ban(&mut self, peer: PeerId, duration: Duration, now: Instant) {
        self.bans.insert(peer, now + duration);
        self.reputations.remove(&peer);
    }

    /// Lifts a ban; returns whether there was one.
    pub fn unban(&mut self, peer: &PeerId) -> bool {
        self.bans.remove(peer).is_some()
    }

    /// Banned peers and when their bans end.
    pub fn ban_ends(&self) -> impl Iterator<Item = (PeerId, Instant)> + '_ {
        self.bans.iter().map(|(peer, until)| (*peer, *until))
    }

    /// Whether the peer is banned now.
    pub fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.get(peer).is_some_and(|until| *until > now)
    }

    /// The current score (0 for an unknown peer).
    pub fn score(&self, peer: &PeerId) -> i32 {
        self.reputations
            .get(peer)
            .map_or(0, |reputation| reputation.score)
    }

    /// Removes and returns the bans that have expired.
    pub fn expire(&mut self, now: Instant) -> Vec<PeerId> {
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in &expired {
            self.bans.remove(peer);
        }
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
        assert!(book.penalise(forger, Misbehaviour::InvalidBlock, now));
        assert!(book.is_banned(&forger, now));
        assert!(
            !book.penalise(forger, Misbehaviour::InvalidBlock, now),
            "already banned"
        );

        let flooder = PeerId::random();
        for _ in 0..9 {
            assert!(!book.penalise(flooder, Misbehaviour::InvalidTransaction, now));
        }
        assert_eq!(book.score(&flooder), -90);
        assert!(book.penalise(flooder, Misbehaviour::InvalidTransaction, now));

        // Bans end; scores recover with time.
        let later = now + Duration::from_secs(601);
        assert!(book.expire(now).is_empty());
        let mut expired = book.expire(later);
        expired.sort();
        let mut expected = vec![forger, flooder];
        expected.sort();
        assert_eq!(expired, expected);
        assert!(!book.is_banned(&forger, later));
        book.ban(forger, Duration::from_secs(60), later);
        assert!(book.unban(&forger));
        assert!(!book.is_banned(&forger, later));

        let sloppy = PeerId::random();
        book.penalise(sloppy, Misbehaviour::BadSyncResponse, now);
        book.penalise(
            sloppy,
            Misbehaviour::BadSyncResponse,
            now + Duration::from_secs(20 * 60),
        );
        assert_eq!(
            book.score(&sloppy),
            -50,
            "recovered 50 points in 20 minutes, then lost 50"
        );
    }
}
