//! The swarm's doors for inbound connections, checked where libp2p sees them: before the Noise
//! handshake, a connection from a banned address (an IPv4 address, an IPv6 /64) or from an
//! address already holding its share of inbound connections (`max_per_ip`, pending and
//! established together) is dropped, so a flood from one address costs the node no handshake;
//! after it, when every inbound slot is taken, a peer is evicted to make room ([`eviction`]) or
//! the newcomer is refused. The cap on pending connections overall is `connection_limits`'.
//!
//! [`eviction`]: super::eviction

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::swarm::behaviour::{ConnectionClosed, ListenFailure};
use libp2p::swarm::{
    CloseConnection, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm, dummy,
};
use libp2p::{Multiaddr, PeerId};

use super::eviction::{Candidate, NetGroup, select_victim};
use super::ip_of;
use super::peers::ban_scope;

/// Why an inbound connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its address is banned.
    BannedAddress,
    /// Its address already holds `max_per_ip` inbound connections.
    TooManyFromAddress,
    /// Every inbound slot is taken and no peer could be evicted.
    InboundFull,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::BannedAddress => "the address is banned",
            Refused::TooManyFromAddress => "too many connections from the address",
            Refused::InboundFull => "inbound slots are full",
        })
    }
}

impl std::error::Error for Refused {}

/// What the doors did, for the network task's log.
#[derive(Debug)]
pub enum Event {
    /// `peer` was evicted to make room for `newcomer`.
    Evicted {
        /// The evicted peer.
        peer: PeerId,
        /// The inbound peer it made room for.
        newcomer: PeerId,
    },
}

struct Inbound {
    ip: Option<IpAddr>,
    /// The peer and when the connection was established; `None` while pending.
    established: Option<(PeerId, Instant)>,
}

/// The doors (see the module).
pub struct Doors {
    max_per_ip: usize,
    max_inbound: usize,
    /// Banned address scopes ([`ban_scope`]) and when their bans end.
    banned: HashMap<IpAddr, Instant>,
    inbound: HashMap<ConnectionId, Inbound>,
    /// Scores of the inbound peers (set by the network task; neutral when absent).
    scores: HashMap<PeerId, i32>,
    /// Peers evicted whose connections are closing: no longer counted, not evicted twice.
    evicting: HashSet<PeerId>,
    events: VecDeque<ToSwarm<Event, Infallible>>,
    waker: Option<Waker>,
    /// The secret of the network groups' keyed hash.
    key: u64,
}

impl Doors {
    /// Doors admitting `max_per_ip` inbound connections from one address and `max_inbound` in
    /// all.
    pub fn new(max_per_ip: u32, max_inbound: u32) -> Doors {
        Doors {
            max_per_ip: max_per_ip as usize,
            max_inbound: max_inbound as usize,
            banned: HashMap::new(),
            inbound: HashMap::new(),
            scores: HashMap::new(),
            evicting: HashSet::new(),
            events: VecDeque::new(),
            waker: None,
            key: std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), 0u64),
        }
    }

    /// Replaces the banned address scopes.
    pub fn set_banned(&mut self, banned: HashMap<IpAddr, Instant>) {
        self.banned = banned;
    }

    /// Records an inbound peer's score (eviction protects the best scored).
    pub fn set_score(&mut self, peer: PeerId, score: i32) {
        if self.peer_of_any_connection(&peer) {
            self.scores.insert(peer, score);
        }
    }

    fn peer_of_any_connection(&self, peer: &PeerId) -> bool {
        self.inbound
            .values()
            .any(|inbound| matches!(inbound.established, Some((p, _)) if p == *peer))
    }

    /// The candidates for eviction: established inbound peers other than `newcomer` and those
    /// already leaving, each with its oldest connection.
    fn candidates(&self, newcomer: &PeerId) -> Vec<Candidate<PeerId>> {
        let mut by_peer: HashMap<PeerId, Candidate<PeerId>> = HashMap::new();
        for inbound in self.inbound.values() {
            let Some((peer, since)) = inbound.established else {
                continue;
            };
            if peer == *newcomer || self.evicting.contains(&peer) {
                continue;
            }
            let candidate = by_peer.entry(peer).or_insert(Candidate {
                id: peer,
                netgroup: NetGroup::of(inbound.ip),
                connected_since: since,
                score: self.scores.get(&peer).copied().unwrap_or(0),
            });
            candidate.connected_since = candidate.connected_since.min(since);
        }
        by_peer.into_values().collect()
    }

    fn push(&mut self, event: ToSwarm<Event, Infallible>) {
        self.events.push_back(event);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl NetworkBehaviour for Doors {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Event;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        let ip = ip_of(remote_addr);
        if let Some(ip) = ip {
            if self
                .banned
                .get(&ban_scope(ip))
                .is_some_and(|until| *until > Instant::now())
            {
                return Err(ConnectionDenied::new(Refused::BannedAddress));
            }
            let from_ip = self
                .inbound
                .values()
                .filter(|inbound| inbound.ip == Some(ip))
                .count();
            if from_ip >= self.max_per_ip {
                return Err(ConnectionDenied::new(Refused::TooManyFromAddress));
            }
        }
        self.inbound.insert(
            connection_id,
            Inbound {
                ip,
                established: None,
            },
        );
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let established = self
            .inbound
            .values()
            .filter(|inbound| {
                matches!(inbound.established, Some((p, _)) if !self.evicting.contains(&p))
            })
            .count();
        if established >= self.max_inbound {
            // A peer's second connection (both sides dialled at once) evicts nobody.
            if self.peer_of_any_connection(&peer) {
                return Err(ConnectionDenied::new(Refused::InboundFull));
            }
            let Some(victim) = select_victim(&self.candidates(&peer), self.key) else {
                return Err(ConnectionDenied::new(Refused::InboundFull));
            };
            self.evicting.insert(victim);
            self.push(ToSwarm::CloseConnection {
                peer_id: victim,
                connection: CloseConnection::All,
            });
            self.push(ToSwarm::GenerateEvent(Event::Evicted {
                peer: victim,
                newcomer: peer,
            }));
        }
        let now = Instant::now();
        self.inbound
            .entry(connection_id)
            .or_insert(Inbound {
                ip: ip_of(remote_addr),
                established: None,
            })
            .established = Some((peer, now));
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm<'_>) {
        match event {
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                connection_id,
                ..
            }) => {
                self.inbound.remove(&connection_id);
                if !self.peer_of_any_connection(&peer_id) {
                    self.scores.remove(&peer_id);
                    self.evicting.remove(&peer_id);
                }
            }
            FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) => {
                self.inbound.remove(&connection_id);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        if let Some(event) = self.events.pop_front() {
            return Poll::Ready(event);
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
