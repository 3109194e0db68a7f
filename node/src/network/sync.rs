//! Headers-first sync: the peer with the most work gives headers after our block locator; the
//! headers are checked (they link, each meets its proof-of-work target) before any body is
//! asked for; bodies come in batches from every peer ahead of us, at most two batches per peer
//! in flight, each checked against its header's transactions root; blocks are imported strictly
//! in order as the front of the queue fills.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::OutboundRequestId;
use salus_primitives::{Block, BlockHeader, Hash, SignedTransaction, Work};

use super::peers::Misbehaviour;
use super::protocol::{ChainStatus, MAX_BODIES_PER_REQUEST, MAX_HEADERS_PER_RESPONSE, SyncRequest};
use super::{NetworkState, SyncProgress};
use crate::chain::validation::check_proof_of_work;
use crate::service::NodeError;

/// Most body batches in flight to one peer.
pub const MAX_BATCHES_PER_PEER: usize = 2;
/// Ask for more headers when fewer than this many are queued.
pub const HEADERS_LOW_WATER: usize = MAX_BODIES_PER_REQUEST * 4;
/// Bodies are asked only for this many blocks at the front of the queue, so that a peer who
/// withholds the front cannot make the node buffer the rest.
pub const DOWNLOAD_WINDOW: usize = MAX_BODIES_PER_REQUEST * 8;
/// After a headers answer with nothing new, wait this long before asking again (a peer whose
/// status is stale, or who claims work it does not show, must not cause a request storm).
pub const EMPTY_HEADERS_BACKOFF: std::time::Duration = std::time::Duration::from_secs(2);

/// Where one block of the queue stands.
#[derive(Debug)]
enum BodyState {
    /// Not asked for yet.
    Wanted,
    /// Chosen for a request about to be sent to this peer.
    Claimed(PeerId),
    /// Asked for.
    Requested(OutboundRequestId),
    /// Arrived.
    Arrived(Vec<SignedTransaction>),
}

#[derive(Debug)]
struct Slot {
    hash: Hash,
    header: BlockHeader,
    /// The peer that sent the header: charged if the block turns out invalid.
    header_from: PeerId,
    body: BodyState,
}

/// The sync state machine (no I/O: the network task sends what it returns).
#[derive(Default)]
pub struct Sync {
    /// The peer headers come from, and the head it announced when chosen.
    target: Option<PeerId>,
    target_head: Option<Hash>,
    /// Peers that claimed more work but had no new headers for us, with the head they claimed:
    /// not chosen again until they announce another head.
    unproductive: HashMap<PeerId, Hash>,
    headers_request: Option<OutboundRequestId>,
    headers_claimed: bool,
    /// The target has no headers beyond the queue.
    headers_exhausted: bool,
    /// No headers requests before this time (after an answer with nothing new).
    headers_backoff_until: Option<Instant>,
    queue: VecDeque<Slot>,
    bodies_requests: HashMap<OutboundRequestId, PeerId>,
    started: Option<Instant>,
    imported: u64,
}

fn work_of(status: &ChainStatus) -> Work {
    Work::from_be_bytes(status.total_work)
}

impl Sync {
    /// The requests to send now, given our status and our peers'.
    pub fn next_requests(
        &mut self,
        local: &ChainStatus,
        statuses: &HashMap<PeerId, ChainStatus>,
        state: &impl NetworkState,
    ) -> Vec<(PeerId, SyncRequest)> {
        let local_work = work_of(local);
        self.unproductive.retain(|peer, head| {
            statuses
                .get(peer)
                .is_some_and(|status| status.head == *head)
        });
        let ahead: Vec<(&PeerId, &ChainStatus)> = statuses
            .iter()
            .filter(|(peer, status)| {
                work_of(status) > local_work && !self.unproductive.contains_key(*peer)
            })
            .collect();
        if self
            .target
            .is_some_and(|target| !statuses.contains_key(&target))
        {
            self.target = None;
        }
        if ahead.is_empty() && self.queue.is_empty() {
            if self.started.is_some() {
                tracing::info!(imported = self.imported, "caught up");
            }
            let unproductive = std::mem::take(&mut self.unproductive);
            *self = Sync::default();
            self.unproductive = unproductive;
            return Vec::new();
        }
        if self.target.is_none() {
            let best = ahead
                .iter()
                .max_by_key(|(peer, status)| (work_of(status), **peer))
                .map(|(peer, status)| (**peer, status.head));
            if let Some((best, head)) = best {
                self.target = Some(best);
                self.target_head = Some(head);
                self.headers_exhausted = false;
                self.started.get_or_insert_with(Instant::now);
            }
        }
        let mut requests = Vec::new();
        let backing_off = self
            .headers_backoff_until
            .is_some_and(|until| Instant::now() < until);
        if let Some(target) = self.target
            && !backing_off
            && self.headers_request.is_none()
            && !self.headers_claimed
            && (!self.headers_exhausted || self.queue.is_empty())
            && self.queue.len() < HEADERS_LOW_WATER
        {
            let mut locator = Vec::new();
            if let Some(last) = self.queue.back() {
                locator.push(last.hash);
            }
            locator.extend(state.locator());
            locator.truncate(super::protocol::MAX_LOCATOR_HASHES);
            self.headers_claimed = true;
            requests.push((
                target,
                SyncRequest::Headers {
                    locator,
                    max: MAX_HEADERS_PER_RESPONSE,
                },
            ));
        }
        let mut in_flight: HashMap<PeerId, usize> = HashMap::new();
        for peer in self.bodies_requests.values() {
            *in_flight.entry(*peer).or_default() += 1;
        }
        // Bodies come from the target and from peers announcing the same head: they hold every
        // block of the queue, so a short answer from one of them is a fault, not a fork.
        let mut providers: Vec<PeerId> = ahead
            .iter()
            .filter(|(_, status)| Some(status.head) == self.target_head)
            .map(|(peer, _)| **peer)
            .collect();
        if let Some(target) = self.target
            && !providers.contains(&target)
        {
            providers.push(target);
        }
        providers.sort();
        for peer in providers {
            while in_flight.get(&peer).copied().unwrap_or(0) < MAX_BATCHES_PER_PEER {
                let hashes: Vec<Hash> = self
                    .queue
                    .iter_mut()
                    .take(DOWNLOAD_WINDOW)
                    .filter(|slot| matches!(slot.body, BodyState::Wanted))
                    .take(MAX_BODIES_PER_REQUEST)
                    .map(|slot| {
                        slot.body = BodyState::Claimed(peer);
                        slot.hash
                    })
                    .collect();
                if hashes.is_empty() {
                    break;
                }
                *in_flight.entry(peer).or_default() += 1;
                requests.push((peer, SyncRequest::Bodies { hashes }));
            }
        }
        requests
    }

    /// Binds a request the network task sent to its id.
    pub fn sent(&mut self, request_id: OutboundRequestId, peer: PeerId, request: SyncRequest) {
        match request {
            SyncRequest::Headers { .. } => {
                self.headers_claimed = false;
                self.headers_request = Some(request_id);
            }
            SyncRequest::Bodies { hashes } => {
                for slot in &mut self.queue {
                    if matches!(slot.body, BodyState::Claimed(claimant) if claimant == peer)
                        && hashes.contains(&slot.hash)
                    {
                        slot.body = BodyState::Requested(request_id);
                    }
                }
                self.bodies_requests.insert(request_id, peer);
            }
            SyncRequest::Status => {}
        }
    }

    /// Headers arrived: they must link to a block we have (or to the queue's end) and to each
    /// other, and meet their proof-of-work targets.
    ///
    /// # Errors
    /// The misbehaviour to charge the peer with.
    pub fn on_headers(
        &mut self,
        request_id: OutboundRequestId,
        peer: PeerId,
        headers: Vec<BlockHeader>,
        state: &impl NetworkState,
    ) -> Result<(), Misbehaviour> {
        if self.headers_request != Some(request_id) {
            return Ok(());
        }
        self.headers_request = None;
        if headers.len() > MAX_HEADERS_PER_RESPONSE as usize {
            self.target = None;
            return Err(Misbehaviour::BadSyncResponse);
        }
        self.headers_exhausted = headers.len() < MAX_HEADERS_PER_RESPONSE as usize;
        let mut previous = self
            .queue
            .back()
            .map(|slot| (slot.hash, slot.header.number));
        let mut fresh = Vec::new();
        for header in headers {
            let hash = header.hash();
            let follows = |(parent, number): (Hash, u64)| {
                parent == header.parent_hash && number.checked_add(1) == Some(header.number)
            };
            let links = previous.is_some_and(follows)
                || (fresh.is_empty() && state.has_block(&header.parent_hash));
            if !links || check_proof_of_work(&header, &hash).is_err() {
                tracing::debug!(%peer, number = header.number, "headers do not link or lack work");
                self.target = None;
                return Err(Misbehaviour::BadSyncResponse);
            }
            previous = Some((hash, header.number));
            if fresh.is_empty() && state.has_block(&hash) {
                // Already ours (the common part after a fork point).
                continue;
            }
            fresh.push(Slot {
                hash,
                header,
                header_from: peer,
                body: BodyState::Wanted,
            });
        }
        if fresh.is_empty() && self.queue.is_empty() {
            // It claimed more work than ours but showed none: try others until it announces
            // another head.
            if let Some(head) = self.target_head {
                self.unproductive.insert(peer, head);
            }
            self.headers_backoff_until = Some(Instant::now() + EMPTY_HEADERS_BACKOFF);
            self.target = None;
        }
        self.queue.extend(fresh);
        Ok(())
    }

    /// Bodies arrived: each must match its header's transactions root. Then imports the front
    /// of the queue in order. Returns the peers to charge.
    pub fn on_bodies(
        &mut self,
        request_id: OutboundRequestId,
        peer: PeerId,
        bodies: Vec<Vec<SignedTransaction>>,
        state: &impl NetworkState,
    ) -> Vec<(PeerId, Misbehaviour)> {
        let mut culprits = Vec::new();
        if self.bodies_requests.remove(&request_id).is_none() {
            return culprits;
        }
        let mut bodies = bodies.into_iter();
        for slot in &mut self.queue {
            if !matches!(slot.body, BodyState::Requested(id) if id == request_id) {
                continue;
            }
            match bodies.next() {
                Some(body)
                    if salus_primitives::block::transactions_root(&body)
                        == slot.header.transactions_root =>
                {
                    slot.body = BodyState::Arrived(body);
                }
                Some(_) => {
                    slot.body = BodyState::Wanted;
                    if culprits.is_empty() {
                        culprits.push((peer, Misbehaviour::BadSyncResponse));
                    }
                }
                // A short answer from a peer that has the whole branch.
                None => {
                    slot.body = BodyState::Wanted;
                    if culprits.is_empty() {
                        culprits.push((peer, Misbehaviour::BadSyncResponse));
                    }
                }
            }
        }
        if bodies.next().is_some() && culprits.is_empty() {
            culprits.push((peer, Misbehaviour::BadSyncResponse));
        }
        culprits.extend(self.import_ready(state));
        culprits
    }

    /// Imports the blocks at the front of the queue whose bodies have arrived.
    fn import_ready(&mut self, state: &impl NetworkState) -> Vec<(PeerId, Misbehaviour)> {
        while matches!(
            self.queue.front(),
            Some(Slot {
                body: BodyState::Arrived(..),
                ..
            })
        ) {
            let slot = self.queue.pop_front().expect("checked above");
            let header_from = slot.header_from;
            let BodyState::Arrived(transactions) = slot.body else {
                unreachable!("checked above")
            };
            let block = Block {
                header: slot.header,
                transactions,
            };
            match state.import_synced(block) {
                Ok(()) => self.imported += 1,
                Err(NodeError::Import(error)) if error.is_invalid_block() => {
                    // The body matched its header, so the header chain is what is invalid: the
                    // peer that sent the header answers for it.
                    tracing::warn!(%error, "synced block is invalid; dropping the sync");
                    self.reset();
                    return vec![(header_from, Misbehaviour::InvalidBlock)];
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot import a synced block; dropping the sync");
                    self.reset();
                    return Vec::new();
                }
            }
        }
        Vec::new()
    }

    /// A request failed (timeout, closed connection): its blocks are wanted again.
    pub fn request_failed(&mut self, request_id: OutboundRequestId) {
        if self.headers_request == Some(request_id) {
            // The target did not answer: its queue goes with it (other peers may be on another
            // branch and would not have those blocks).
            self.reset();
            return;
        }
        if self.bodies_requests.remove(&request_id).is_some() {
            for slot in &mut self.queue {
                if matches!(slot.body, BodyState::Requested(id) if id == request_id) {
                    slot.body = BodyState::Wanted;
                }
            }
        }
    }

    /// A peer left or was banned: whatever it owed us is wanted again.
    pub fn forget_peer(&mut self, peer: &PeerId) {
        self.unproductive.remove(peer);
        if self.target == Some(*peer) {
            self.reset();
            return;
        }
        let lost: Vec<OutboundRequestId> = self
            .bodies_requests
            .iter()
            .filter(|(_, owner)| *owner == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            self.request_failed(id);
        }
    }

    fn reset(&mut self) {
        let started = self.started;
        let imported = self.imported;
        let unproductive = std::mem::take(&mut self.unproductive);
        *self = Sync::default();
        self.started = started;
        self.imported = imported;
        self.unproductive = unproductive;
    }

    /// Progress for logs and RPC.
    pub fn progress(&self, current: u64, statuses: &HashMap<PeerId, ChainStatus>) -> SyncProgress {
        let target = statuses
            .values()
            .map(|status| status.number)
            .max()
            .unwrap_or(current)
            .max(current);
        let syncing = self.target.is_some() || !self.queue.is_empty();
        let blocks_per_second = self
            .started
            .map(|started| started.elapsed().as_secs_f64())
            .filter(|seconds| *seconds > 0.0)
            .map_or(0.0, |seconds| self.imported as f64 / seconds);
        SyncProgress {
            syncing,
            current,
            target,
            blocks_per_second,
        }
    }
}
