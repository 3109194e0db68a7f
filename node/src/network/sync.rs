//! Headers-first sync: the peer with the most work gives headers after our block locator; the
//! headers are checked (they link, each meets its proof-of-work target) before any body is
//! asked for; bodies come in batches from every peer ahead of us, at most two batches per peer
//! in flight, each checked against its header's transactions root; as the front of the queue
//! fills, its blocks are handed, strictly in order, to the block thread
//! ([`Sync::take_ready`]), whose verdicts come back through [`Sync::on_imported`].

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use libp2p::PeerId;
use salus_primitives::block::transactions_root_of_hashes;
use salus_primitives::{BlockHeader, Hash, SignedTransaction, Work};
use salus_runtime::HashedTransaction;

use super::peers::Misbehaviour;
use super::protocol::{ChainStatus, MAX_BODIES_PER_REQUEST, MAX_HEADERS_PER_RESPONSE, SyncRequest};
use super::{BlockImportError, SyncProgress};
use crate::chain::ReceivedBlock;
use crate::chain::validation::{BlockRuleError, HeaderContext, check_proof_of_work};

/// Most body batches in flight to one peer.
pub const MAX_BATCHES_PER_PEER: usize = 2;
/// Ask for more headers when fewer than this many are queued.
pub const HEADERS_LOW_WATER: usize = MAX_BODIES_PER_REQUEST * 4;
/// Bodies are asked only for this many blocks at the front of the queue, so that a peer who
/// withholds the front cannot make the node buffer the rest.
pub const DOWNLOAD_WINDOW: usize = MAX_BODIES_PER_REQUEST * 8;
/// How long the target may take to answer a headers request before sync leaves it for another
/// peer (charged as unresponsive). Headers are small (512 at most, about 100 KiB): an honest
/// peer answers in well under a second; a peer that stalls must not hold sync up for the
/// transport's 20 s timeout.
pub const HEADERS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);
/// How long a provider may take to answer a bodies request before its blocks are asked of
/// others (charged as unresponsive, and asked for no bodies for [`SLOW_PEER_PAUSE`]). A full
/// answer is at most 8 MiB: 5 s is a link of about 13 Mbit/s.
pub const BODIES_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a provider that missed [`BODIES_DEADLINE`] is asked for no bodies.
pub const SLOW_PEER_PAUSE: std::time::Duration = std::time::Duration::from_secs(60);
/// After this node failed to import a synced block (its disk full, its database damaged),
/// wait this long before syncing again.
pub const LOCAL_FAILURE_BACKOFF: std::time::Duration = std::time::Duration::from_secs(1);
/// After a headers answer with nothing new, wait this long before asking again (a peer whose
/// status is stale, or who claims work it does not show, must not cause a request storm).
pub const EMPTY_HEADERS_BACKOFF: std::time::Duration = std::time::Duration::from_secs(2);

/// What the sync state machine needs of the node (a trait so that it can be tested on a bare
/// chain).
pub trait SyncChain {
    /// Block locator of the canonical chain: newest first, genesis last.
    fn locator(&self) -> Vec<Hash>;
    /// Whether the block is stored (valid so far).
    fn has_block(&self, hash: &Hash) -> bool;
    /// Imports a block that arrived by sync (its transactions hashed when its body was checked
    /// against its header). Called on the block thread, never on the network task.
    ///
    /// # Errors
    /// [`BlockImportError`], saying whether the block is invalid.
    fn import_synced(&self, block: ReceivedBlock) -> Result<(), BlockImportError>;
    /// The context to check the headers after the stored block `parent` against; `None` when
    /// it is not stored (or known invalid).
    fn header_context(&self, parent: &Hash) -> Option<HeaderContext>;
    /// Checks `header` against `context` with the chain's rules and this node's clock (number,
    /// median time past, future drift, the bits the difficulty rule expects), moving the
    /// context to it.
    ///
    /// # Errors
    /// The first [`BlockRuleError`] broken.
    fn check_header(
        &self,
        context: &mut HeaderContext,
        header: &BlockHeader,
    ) -> Result<(), BlockRuleError>;
}

/// Hashes a body's transactions once, for its transactions root and for the block's import.
fn hash_body(body: Vec<SignedTransaction>) -> (Vec<HashedTransaction>, Hash) {
    let hashed: Vec<HashedTransaction> = body.into_iter().map(HashedTransaction::new).collect();
    let hashes: Vec<Hash> = hashed.iter().map(HashedTransaction::hash).collect();
    (hashed, transactions_root_of_hashes(&hashes))
}

/// Where one block of the queue stands (`Id` identifies requests: libp2p's outbound request id
/// in the node, plain numbers in tests).
#[derive(Debug)]
enum BodyState<Id> {
    /// Not asked for yet.
    Wanted,
    /// Chosen for a request about to be sent to this peer.
    Claimed(PeerId),
    /// Asked for.
    Requested(Id),
    /// Arrived, each transaction hashed (the hashes matched the header's transactions root).
    Arrived(Vec<HashedTransaction>),
}

#[derive(Debug)]
struct Slot<Id> {
    hash: Hash,
    header: BlockHeader,
    /// The peer that sent the header: charged if the block turns out invalid.
    header_from: PeerId,
    body: BodyState<Id>,
}

/// The sync state machine (no I/O: the network task sends what it returns).
pub struct Sync<Id = libp2p::request_response::OutboundRequestId> {
    /// The peer headers come from, and the head and total work it announced when chosen.
    target: Option<PeerId>,
    target_head: Option<Hash>,
    target_work: Option<Work>,
    /// What the next header is checked against: the context after the last header accepted
    /// (the queue's end, or the last block handed to the block thread).
    context: Option<HeaderContext>,
    /// Peers that claimed more work but had no new headers for us, with the head they claimed:
    /// not chosen again until they announce another head.
    unproductive: HashMap<PeerId, Hash>,
    headers_request: Option<Id>,
    /// When the headers request in flight was sent.
    headers_sent_at: Option<Instant>,
    headers_claimed: bool,
    /// The target has no headers beyond the queue.
    headers_exhausted: bool,
    /// No headers requests before this time (after an answer with nothing new).
    headers_backoff_until: Option<Instant>,
    queue: VecDeque<Slot<Id>>,
    /// Bodies requests in flight: to whom, since when.
    bodies_requests: HashMap<Id, (PeerId, Instant)>,
    /// Providers that missed [`BODIES_DEADLINE`], asked for no bodies until then.
    slow: HashMap<PeerId, Instant>,
    /// Blocks handed to the block thread and not answered yet, and the last of them (hash,
    /// number): the queue continues from it.
    importing: usize,
    import_tail: Option<(Hash, u64)>,
    /// Bumped by every reset: verdicts on blocks handed over before it no longer steer sync.
    epoch: u64,
    started: Option<Instant>,
    imported: u64,
}

/// A block whose turn has come, for the block thread.
pub struct ReadyBlock {
    /// The block, its transactions hashed.
    pub block: ReceivedBlock,
    /// The peer that sent its header: charged if it is invalid.
    pub header_from: PeerId,
    /// The sync it belongs to ([`Sync::on_imported`] ignores earlier ones).
    pub epoch: u64,
}

fn work_of(status: &ChainStatus) -> Work {
    Work::from_be_bytes(status.total_work)
}

impl<Id> Default for Sync<Id> {
    fn default() -> Self {
        Sync {
            target: None,
            target_head: None,
            target_work: None,
            context: None,
            unproductive: HashMap::new(),
            headers_request: None,
            headers_sent_at: None,
            headers_claimed: false,
            headers_exhausted: false,
            headers_backoff_until: None,
            queue: VecDeque::new(),
            bodies_requests: HashMap::new(),
            slow: HashMap::new(),
            importing: 0,
            import_tail: None,
            epoch: 0,
            started: None,
            imported: 0,
        }
    }
}

impl<Id: Copy + Eq + std::hash::Hash> Sync<Id> {
    /// The requests to send now, given our status and our peers'.
    pub fn next_requests(
        &mut self,
        local: &ChainStatus,
        statuses: &HashMap<PeerId, ChainStatus>,
        state: &impl SyncChain,
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
            if self.importing > 0 {
                // The block thread is still on it; our status is not final yet.
                return Vec::new();
            }
            if self.started.is_some() {
                tracing::info!(imported = self.imported, "caught up");
            }
            let unproductive = std::mem::take(&mut self.unproductive);
            let epoch = self.epoch;
            *self = Sync::default();
            self.unproductive = unproductive;
            self.epoch = epoch;
            return Vec::new();
        }
        if self.target.is_none() {
            let best = ahead
                .iter()
                .max_by_key(|(peer, status)| (work_of(status), **peer))
                .map(|(peer, status)| (**peer, status.head, work_of(status)));
            if let Some((best, head, work)) = best {
                self.target = Some(best);
                self.target_head = Some(head);
                self.target_work = Some(work);
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
            } else if let Some((tail, _)) = self.import_tail {
                locator.push(tail);
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
        for (peer, _) in self.bodies_requests.values() {
            *in_flight.entry(*peer).or_default() += 1;
        }
        let now = Instant::now();
        self.slow.retain(|_, until| *until > now);
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
        providers.retain(|peer| !self.slow.contains_key(peer));
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
    pub fn sent(&mut self, request_id: Id, peer: PeerId, request: SyncRequest) {
        match request {
            SyncRequest::Headers { .. } => {
                self.headers_claimed = false;
                self.headers_request = Some(request_id);
                self.headers_sent_at = Some(Instant::now());
            }
            SyncRequest::Bodies { hashes } => {
                for slot in &mut self.queue {
                    if matches!(slot.body, BodyState::Claimed(claimant) if claimant == peer)
                        && hashes.contains(&slot.hash)
                    {
                        slot.body = BodyState::Requested(request_id);
                    }
                }
                self.bodies_requests
                    .insert(request_id, (peer, Instant::now()));
            }
            SyncRequest::Status => {}
        }
    }

    /// Headers arrived: they must link to a block we have (or to the queue's end) and to each
    /// other, meet their proof-of-work targets, and each meet the chain's rules against its
    /// parent (number, median time past, future drift, the bits the difficulty rule expects)
    /// before any body is asked for. A peer whose headers end short of the work it claimed is
    /// charged and left for another.
    ///
    /// # Errors
    /// The misbehaviour to charge the peer with.
    pub fn on_headers(
        &mut self,
        request_id: Id,
        peer: PeerId,
        headers: Vec<BlockHeader>,
        state: &impl SyncChain,
    ) -> Result<(), Misbehaviour> {
        if self.headers_request != Some(request_id) {
            return Ok(());
        }
        self.headers_request = None;
        self.headers_sent_at = None;
        if headers.len() > MAX_HEADERS_PER_RESPONSE as usize {
            self.target = None;
            return Err(Misbehaviour::BadSyncResponse);
        }
        self.headers_exhausted = headers.len() < MAX_HEADERS_PER_RESPONSE as usize;
        let tail = self
            .queue
            .back()
            .map(|slot| (slot.hash, slot.header.number))
            .or(self.import_tail);
        let mut previous = tail;
        let mut context: Option<HeaderContext> = None;
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
            if fresh.is_empty()
                && (state.has_block(&hash) || tail.is_some_and(|(tail, _)| tail == hash))
            {
                // Already ours (the common part after a fork point).
                context = None;
                continue;
            }
            if context.is_none() {
                context = if tail.is_some_and(|(tail, _)| tail == header.parent_hash) {
                    self.context.clone()
                } else {
                    state.header_context(&header.parent_hash)
                };
            }
            let Some(checking) = context.as_mut() else {
                tracing::debug!(%peer, number = header.number, "no context for the headers");
                self.target = None;
                return Err(Misbehaviour::BadSyncResponse);
            };
            match state.check_header(checking, &header) {
                Ok(()) => {}
                Err(error @ BlockRuleError::TimestampTooFarInFuture { .. }) => {
                    // Perhaps our clock is behind: take what came before, ask again later.
                    tracing::debug!(%peer, %error, "a header ahead of our clock");
                    self.headers_exhausted = true;
                    break;
                }
                Err(error) => {
                    tracing::warn!(%peer, number = header.number, %error, "invalid header from peer");
                    self.target = None;
                    return Err(Misbehaviour::InvalidBlock);
                }
            }
            fresh.push(Slot {
                hash,
                header,
                header_from: peer,
                body: BodyState::Wanted,
            });
        }
        if fresh.is_empty() && self.queue.is_empty() && self.importing == 0 {
            // It claimed more work than ours but showed none: try others until it announces
            // another head.
            if let Some(head) = self.target_head {
                self.unproductive.insert(peer, head);
            }
            self.headers_backoff_until = Some(Instant::now() + EMPTY_HEADERS_BACKOFF);
            self.target = None;
        }
        if !fresh.is_empty() {
            self.context = context;
        }
        self.queue.extend(fresh);
        // Its last headers are in: the branch must carry the work the peer claimed for it.
        if self.headers_exhausted
            && self.target == Some(peer)
            && let (Some(claimed), Some(delivered)) = (
                self.target_work,
                self.context.as_ref().map(|context| context.total_work),
            )
            && delivered < claimed
        {
            tracing::warn!(%peer, "headers end short of the work the peer claimed");
            if let Some(head) = self.target_head {
                self.unproductive.insert(peer, head);
            }
            self.target = None;
            return Err(Misbehaviour::BadSyncResponse);
        }
        Ok(())
    }

    /// Bodies arrived: each must match its header's transactions root (the front of the queue
    /// is then ready: [`Sync::take_ready`]). Returns the peers to charge.
    pub fn on_bodies(
        &mut self,
        request_id: Id,
        peer: PeerId,
        bodies: Vec<Vec<SignedTransaction>>,
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
            match bodies.next().map(hash_body) {
                Some((body, root)) if root == slot.header.transactions_root => {
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
        culprits
    }

    /// The next block at the front of the queue whose body has arrived, for the block thread;
    /// blocks are handed over strictly in order.
    pub fn take_ready(&mut self) -> Option<ReadyBlock> {
        if !matches!(
            self.queue.front(),
            Some(Slot {
                body: BodyState::Arrived(..),
                ..
            })
        ) {
            return None;
        }
        let slot = self.queue.pop_front()?;
        let BodyState::Arrived(transactions) = slot.body else {
            unreachable!("checked above")
        };
        self.importing += 1;
        self.import_tail = Some((slot.hash, slot.header.number));
        Some(ReadyBlock {
            block: ReceivedBlock::from_hashed(slot.header, transactions),
            header_from: slot.header_from,
            epoch: self.epoch,
        })
    }

    /// The block thread's verdict on a block [`Sync::take_ready`] handed over. An invalid block
    /// (or one the node does not keep) ends this sync and charges the peer that sent its
    /// header, as does any failure to import it (without blame); a verdict from before a reset
    /// only charges. Returns the peers to charge.
    pub fn on_imported(
        &mut self,
        epoch: u64,
        header_from: PeerId,
        result: Result<(), BlockImportError>,
    ) -> Vec<(PeerId, Misbehaviour)> {
        let current = epoch == self.epoch;
        if current {
            self.importing = self.importing.saturating_sub(1);
            if self.importing == 0 && self.queue.is_empty() {
                self.import_tail = None;
                self.context = None;
            }
        }
        let charge = match &result {
            Ok(()) => {
                self.imported += 1;
                return Vec::new();
            }
            Err(error) if error.is_invalid_block() => {
                // The body matched its header, so the header chain is what is invalid: the
                // peer that sent the header answers for it.
                tracing::warn!(%error, "synced block is invalid; dropping the sync");
                Some(Misbehaviour::InvalidBlock)
            }
            Err(error) if error.is_unwanted_block() => {
                tracing::debug!(%error, "synced block not kept; dropping the sync");
                Some(Misbehaviour::UnwantedBlock)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot import a synced block; dropping the sync");
                None
            }
        };
        if current {
            self.reset();
            if charge.is_none() {
                // A failure of this node (a full disk, a damaged database): starting again at
                // once would only fail again, hundreds of times a second.
                self.headers_backoff_until = Some(Instant::now() + LOCAL_FAILURE_BACKOFF);
            }
        }
        charge
            .map(|misbehaviour| vec![(header_from, misbehaviour)])
            .unwrap_or_default()
    }

    /// A request failed (timeout, closed connection): its blocks are wanted again.
    pub fn request_failed(&mut self, request_id: Id) {
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

    /// Requests past their deadline: a target that has not answered headers within
    /// [`HEADERS_DEADLINE`] is left (until it announces another head) and sync starts over with
    /// another; a provider that has not answered bodies within [`BODIES_DEADLINE`] has its
    /// blocks asked of others and is asked for none for [`SLOW_PEER_PAUSE`]. A late answer is
    /// ignored. Returns the peers to charge.
    pub fn overdue(&mut self, now: Instant) -> Vec<(PeerId, Misbehaviour)> {
        let mut culprits = Vec::new();
        if let (Some(target), Some(sent)) = (self.target, self.headers_sent_at)
            && now.saturating_duration_since(sent) > HEADERS_DEADLINE
        {
            tracing::debug!(peer = %target, "no headers before the deadline; trying another peer");
            if let Some(head) = self.target_head {
                self.unproductive.insert(target, head);
            }
            culprits.push((target, Misbehaviour::Unresponsive));
            self.reset();
            return culprits;
        }
        let late: Vec<(Id, PeerId)> = self
            .bodies_requests
            .iter()
            .filter(|(_, (_, sent))| now.saturating_duration_since(*sent) > BODIES_DEADLINE)
            .map(|(id, (peer, _))| (*id, *peer))
            .collect();
        for (id, peer) in late {
            tracing::debug!(%peer, "no bodies before the deadline; asking others");
            self.request_failed(id);
            self.slow.insert(peer, now + SLOW_PEER_PAUSE);
            if !culprits.iter().any(|(charged, _)| *charged == peer) {
                culprits.push((peer, Misbehaviour::Unresponsive));
            }
        }
        culprits
    }

    /// A peer left or was banned: whatever it owed us is wanted again.
    pub fn forget_peer(&mut self, peer: &PeerId) {
        self.unproductive.remove(peer);
        if self.target == Some(*peer) {
            self.reset();
            return;
        }
        let lost: Vec<Id> = self
            .bodies_requests
            .iter()
            .filter(|(_, (owner, _))| owner == peer)
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
        let slow = std::mem::take(&mut self.slow);
        let epoch = self.epoch + 1;
        *self = Sync::default();
        self.started = started;
        self.imported = imported;
        self.unproductive = unproductive;
        self.slow = slow;
        self.epoch = epoch;
    }

    /// Whether the node is catching up (a target chosen, blocks queued or being imported).
    pub fn is_syncing(&self) -> bool {
        self.target.is_some() || !self.queue.is_empty() || self.importing > 0
    }

    /// Progress for logs and RPC.
    pub fn progress(&self, current: u64, statuses: &HashMap<PeerId, ChainStatus>) -> SyncProgress {
        let target = statuses
            .values()
            .map(|status| status.number)
            .max()
            .unwrap_or(current)
            .max(current);
        let syncing = self.is_syncing();
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::{Mutex, OnceLock};

    use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
    use salus_primitives::{Action, Address, Block, Transaction};

    use super::*;
    use crate::chain::Chain;
    use crate::genesis::{DEV_CHAIN_ID, Genesis, GenesisConfig};
    use crate::mining::{SearchOutcome, search_nonce};
    use crate::storage::{BlockStatus, Store};

    fn genesis() -> Genesis {
        static GENESIS: OnceLock<Genesis> = OnceLock::new();
        GENESIS
            .get_or_init(|| GenesisConfig::dev().build().unwrap())
            .clone()
    }

    /// A real chain on RocksDB, as sync sees the node.
    struct Local {
        chain: Mutex<Chain>,
        _dir: tempfile::TempDir,
    }

    impl Local {
        fn new() -> Local {
            let dir = tempfile::tempdir().unwrap();
            let chain = Chain::open(Store::open(dir.path()).unwrap(), &genesis()).unwrap();
            Local {
                chain: Mutex::new(chain),
                _dir: dir,
            }
        }

        fn status(&self) -> ChainStatus {
            let chain = self.chain.lock().unwrap();
            ChainStatus {
                genesis: chain.genesis().hash(),
                head: chain.head().hash,
                number: chain.head().header.number,
                total_work: chain.head().total_work.to_be_bytes(),
            }
        }

        fn head_number(&self) -> u64 {
            self.chain.lock().unwrap().head().header.number
        }
    }

    impl SyncChain for Local {
        fn locator(&self) -> Vec<Hash> {
            vec![self.chain.lock().unwrap().head().hash]
        }

        fn has_block(&self, hash: &Hash) -> bool {
            matches!(
                self.chain.lock().unwrap().store().block_meta(hash),
                Ok(Some(meta)) if !matches!(meta.status, BlockStatus::Invalid(_))
            )
        }

        fn import_synced(&self, block: ReceivedBlock) -> Result<(), BlockImportError> {
            self.chain
                .lock()
                .unwrap()
                .import_block(block, u64::MAX / 2)
                .map(|_| ())
                .map_err(BlockImportError::Refused)
        }

        fn header_context(&self, parent: &Hash) -> Option<HeaderContext> {
            self.chain.lock().unwrap().header_context(parent)
        }

        fn check_header(
            &self,
            context: &mut HeaderContext,
            header: &BlockHeader,
        ) -> Result<(), BlockRuleError> {
            let chain = self.chain.lock().unwrap();
            context.check_and_advance(chain.params(), chain.genesis(), header, u64::MAX / 2)
        }
    }

    fn seal(mut block: Block) -> Block {
        match search_nonce(&block.header, 1, &AtomicBool::new(false)).unwrap() {
            SearchOutcome::Found(header) => block.header = header,
            other => panic!("nonce search: {other:?}"),
        }
        block
    }

    /// `count` blocks mined on a fresh chain, each with one transfer (so bodies differ).
    fn mined(count: u64) -> (Local, Vec<Block>) {
        let source = Local::new();
        let key = derive_key(DEV_MNEMONIC, 1).unwrap();
        let mut blocks = Vec::new();
        for nonce in 0..count {
            let transfer = Transaction {
                chain_id: DEV_CHAIN_ID,
                nonce,
                fuel_limit: 50_000,
                fuel_price: 1,
                action: Action::Transfer {
                    to: Address([9; 20]),
                    amount: 1,
                },
                sponsor: None,
            }
            .sign(&key, None);
            let mut chain = source.chain.lock().unwrap();
            let timestamp = chain.head().header.timestamp_ms + 1_000;
            let template = chain
                .build_block(
                    Address([0xee; 20]),
                    timestamp,
                    &salus_runtime::recover_transactions(&[transfer]).unwrap(),
                )
                .unwrap();
            let block = seal(template.block());
            chain.import_block(block.clone(), u64::MAX / 2).unwrap();
            blocks.push(block);
        }
        (source, blocks)
    }

    fn bodies(blocks: &[Block], hashes: &[Hash]) -> Vec<Vec<SignedTransaction>> {
        hashes
            .iter()
            .map(|hash| {
                blocks
                    .iter()
                    .find(|block| block.hash() == *hash)
                    .unwrap()
                    .transactions
                    .clone()
            })
            .collect()
    }

    /// Bodies arrive and every ready block is imported, as the block thread would, with its
    /// verdict handed back: the peers charged.
    fn deliver(
        sync: &mut Sync<u64>,
        request_id: u64,
        peer: PeerId,
        bodies: Vec<Vec<SignedTransaction>>,
        local: &Local,
    ) -> Vec<(PeerId, Misbehaviour)> {
        let mut culprits = sync.on_bodies(request_id, peer, bodies);
        while let Some(ready) = sync.take_ready() {
            let result = local.import_synced(ready.block);
            culprits.extend(sync.on_imported(ready.epoch, ready.header_from, result));
        }
        culprits
    }

    fn statuses(peers: &[PeerId], status: &ChainStatus) -> HashMap<PeerId, ChainStatus> {
        peers.iter().map(|peer| (*peer, status.clone())).collect()
    }

    /// Headers first, then two body batches to the same peer, answered out of order: nothing is
    /// charged and every block is imported in order.
    #[test]
    fn two_batches_to_one_peer_answered_out_of_order_import_everything() {
        let (source, blocks) = mined(150);
        let local = Local::new();
        let peer = PeerId::random();
        let peers = statuses(&[peer], &source.status());
        let mut sync: Sync<u64> = Sync::default();
        let requests = sync.next_requests(&local.status(), &peers, &local);
        assert!(matches!(requests.as_slice(), [(to, SyncRequest::Headers { .. })] if *to == peer));
        sync.sent(1, peer, requests[0].1.clone());
        let headers: Vec<BlockHeader> = blocks.iter().map(|block| block.header.clone()).collect();
        sync.on_headers(1, peer, headers, &local).unwrap();

        let requests = sync.next_requests(&local.status(), &peers, &local);
        let batches: Vec<Vec<Hash>> = requests
            .iter()
            .map(|(_, request)| match request {
                SyncRequest::Bodies { hashes } => hashes.clone(),
                other => panic!("expected bodies, got {other:?}"),
            })
            .collect();
        assert_eq!(batches.len(), MAX_BATCHES_PER_PEER);
        for (id, (to, request)) in (2u64..).zip(requests) {
            sync.sent(id, to, request);
        }
        // The second batch first: held until the front arrives.
        assert!(deliver(&mut sync, 3, peer, bodies(&blocks, &batches[1]), &local).is_empty());
        assert_eq!(local.head_number(), 0);
        assert!(deliver(&mut sync, 2, peer, bodies(&blocks, &batches[0]), &local).is_empty());
        assert_eq!(local.head_number(), 128);

        let requests = sync.next_requests(&local.status(), &peers, &local);
        let [(to, SyncRequest::Bodies { hashes })] = requests.as_slice() else {
            panic!("expected one more batch: {requests:?}");
        };
        sync.sent(4, *to, requests[0].1.clone());
        assert!(deliver(&mut sync, 4, peer, bodies(&blocks, hashes), &local).is_empty());
        assert_eq!(local.status(), source.status());
    }

    /// A body that does not match its header is charged to the peer that sent it; a block whose
    /// header chain is invalid is charged to the peer that sent the header; nothing invalid is
    /// imported.
    #[test]
    fn bad_bodies_and_invalid_headers_are_charged_to_their_senders() {
        let (source, mut blocks) = mined(10);
        // The last block's header claims a wrong state root (still a valid proof of work).
        let mut bad = blocks.pop().unwrap();
        bad.header.state_root = Hash([0x66; 32]);
        let bad = seal(bad);
        blocks.push(bad);
        let local = Local::new();
        let (header_peer, body_peer) = (PeerId::random(), PeerId::random());
        let mut status = source.status();
        status.head = blocks.last().unwrap().hash();
        let peers = statuses(&[header_peer, body_peer], &status);
        let mut sync: Sync<u64> = Sync::default();
        // The target is the highest peer id among equals; make sure the header peer is asked.
        let requests = sync.next_requests(&local.status(), &peers, &local);
        let (target, request) = requests[0].clone();
        let other = if target == header_peer {
            body_peer
        } else {
            header_peer
        };
        sync.sent(1, target, request);
        let headers: Vec<BlockHeader> = blocks.iter().map(|block| block.header.clone()).collect();
        sync.on_headers(1, target, headers, &local).unwrap();

        let requests = sync.next_requests(&local.status(), &peers, &local);
        let (to, request) = requests
            .iter()
            .find(|(to, _)| *to == other)
            .cloned()
            .unwrap_or_else(|| requests[0].clone());
        let SyncRequest::Bodies { hashes } = &request else {
            panic!("expected bodies");
        };
        let hashes = hashes.clone();
        sync.sent(2, to, request);
        // Swapped bodies: the transactions roots do not match.
        let mut swapped = bodies(&blocks, &hashes);
        swapped.swap(0, 1);
        assert_eq!(
            deliver(&mut sync, 2, to, swapped, &local),
            vec![(to, Misbehaviour::BadSyncResponse)]
        );
        assert_eq!(local.head_number(), 0);

        // Asked again, answered correctly: nine blocks import, the tenth is invalid and its
        // header's sender answers for it.
        let requests = sync.next_requests(&local.status(), &peers, &local);
        let (to, request) = requests[0].clone();
        let SyncRequest::Bodies { hashes } = &request else {
            panic!("expected bodies");
        };
        let hashes = hashes.clone();
        sync.sent(3, to, request);
        assert_eq!(
            deliver(&mut sync, 3, to, bodies(&blocks, &hashes), &local),
            vec![(target, Misbehaviour::InvalidBlock)]
        );
        assert_eq!(local.head_number(), 9);
    }

    /// A header that links and meets its own proof of work but not the difficulty the chain
    /// requires after its parent is refused before any body is asked for, and charged as an
    /// invalid block.
    #[test]
    fn a_header_with_bits_its_parent_does_not_allow_is_refused_before_any_body() {
        let (source, mut blocks) = mined(5);
        let mut last = blocks.pop().unwrap();
        last.header.bits = salus_primitives::CompactTarget::from_leading_zero_bits(12);
        blocks.push(seal(last));
        let local = Local::new();
        let peer = PeerId::random();
        let peers = statuses(&[peer], &source.status());
        let mut sync: Sync<u64> = Sync::default();
        let requests = sync.next_requests(&local.status(), &peers, &local);
        sync.sent(1, peer, requests[0].1.clone());
        let headers: Vec<BlockHeader> = blocks.iter().map(|block| block.header.clone()).collect();
        assert_eq!(
            sync.on_headers(1, peer, headers, &local),
            Err(Misbehaviour::InvalidBlock)
        );
        assert!(sync.queue.is_empty(), "no header of the batch is kept");
        assert!(
            sync.next_requests(&local.status(), &HashMap::new(), &local)
                .is_empty()
        );
    }

    /// A peer whose headers end short of the total work it claimed is charged, and its valid
    /// headers are still kept.
    #[test]
    fn a_peer_claiming_more_work_than_its_headers_carry_is_charged() {
        let (source, blocks) = mined(5);
        let local = Local::new();
        let peer = PeerId::random();
        let mut claim = source.status();
        let honest = Work::from_be_bytes(claim.total_work);
        claim.total_work = honest.saturating_add(honest).to_be_bytes();
        let peers = statuses(&[peer], &claim);
        let mut sync: Sync<u64> = Sync::default();
        let requests = sync.next_requests(&local.status(), &peers, &local);
        sync.sent(1, peer, requests[0].1.clone());
        let headers: Vec<BlockHeader> = blocks.iter().map(|block| block.header.clone()).collect();
        assert_eq!(
            sync.on_headers(1, peer, headers.clone(), &local),
            Err(Misbehaviour::BadSyncResponse)
        );
        assert_eq!(sync.queue.len(), 5, "the headers themselves are valid");
        // Honest about its work: not charged.
        let mut sync: Sync<u64> = Sync::default();
        let peers = statuses(&[peer], &source.status());
        let requests = sync.next_requests(&local.status(), &peers, &local);
        sync.sent(1, peer, requests[0].1.clone());
        assert_eq!(sync.on_headers(1, peer, headers, &local), Ok(()));
    }

    /// A target that does not answer headers before the deadline is charged and left for
    /// another peer; a provider that does not answer bodies before theirs is charged, its blocks
    /// are asked of another, and it is asked for no more bodies for a while.
    #[test]
    fn stalled_headers_and_bodies_move_to_other_peers() {
        let (source, blocks) = mined(10);
        let local = Local::new();
        let (staller, honest) = (PeerId::random(), PeerId::random());
        // The staller claims more work on the same head: it is chosen first.
        let mut claim = source.status();
        let work = Work::from_be_bytes(claim.total_work);
        claim.total_work = work.saturating_add(work).to_be_bytes();
        let mut peers = statuses(&[honest], &source.status());
        peers.insert(staller, claim);
        let mut sync: Sync<u64> = Sync::default();
        let requests = sync.next_requests(&local.status(), &peers, &local);
        assert!(
            matches!(requests.as_slice(), [(to, SyncRequest::Headers { .. })] if *to == staller)
        );
        sync.sent(1, staller, requests[0].1.clone());
        let later = Instant::now() + HEADERS_DEADLINE + std::time::Duration::from_millis(10);
        assert_eq!(
            sync.overdue(later),
            vec![(staller, Misbehaviour::Unresponsive)]
        );
        // The honest peer is asked now; the staller's late answer, if any, is ignored.
        let requests = sync.next_requests(&local.status(), &peers, &local);
        assert!(
            matches!(requests.as_slice(), [(to, SyncRequest::Headers { .. })] if *to == honest)
        );
        sync.sent(2, honest, requests[0].1.clone());
        let headers: Vec<BlockHeader> = blocks.iter().map(|block| block.header.clone()).collect();
        sync.on_headers(2, honest, headers.clone(), &local).unwrap();
        assert_eq!(sync.on_headers(1, staller, headers, &local), Ok(()));
        assert_eq!(sync.queue.len(), 10);

        // Bodies: pretend the honest peer stalls this time; another provider of the same head
        // takes its blocks.
        let other = PeerId::random();
        peers.insert(other, source.status());
        let requests = sync.next_requests(&local.status(), &peers, &local);
        let (to, request) = requests
            .iter()
            .find(|(_, request)| matches!(request, SyncRequest::Bodies { .. }))
            .cloned()
            .expect("a bodies request");
        sync.sent(3, to, request);
        let later = Instant::now() + BODIES_DEADLINE + std::time::Duration::from_millis(10);
        assert_eq!(sync.overdue(later), vec![(to, Misbehaviour::Unresponsive)]);
        let requests = sync.next_requests(&local.status(), &peers, &local);
        assert!(
            requests.iter().all(
                |(peer, request)| *peer != to || !matches!(request, SyncRequest::Bodies { .. })
            ),
            "the slow provider is asked for no bodies: {requests:?}"
        );
        let (to_other, request) = requests
            .into_iter()
            .find(|(_, request)| matches!(request, SyncRequest::Bodies { .. }))
            .expect("the blocks are asked of another provider");
        let SyncRequest::Bodies { hashes } = &request else {
            unreachable!()
        };
        let hashes = hashes.clone();
        sync.sent(4, to_other, request);
        assert!(deliver(&mut sync, 4, to_other, bodies(&blocks, &hashes), &local).is_empty());
        assert_eq!(local.head_number(), 10);
    }

    /// Headers that do not link are refused and charged.
    #[test]
    fn headers_that_do_not_link_are_refused() {
        let (source, blocks) = mined(3);
        let local = Local::new();
        let peer = PeerId::random();
        let peers = statuses(&[peer], &source.status());
        let mut sync: Sync<u64> = Sync::default();
        let requests = sync.next_requests(&local.status(), &peers, &local);
        sync.sent(1, peer, requests[0].1.clone());
        let gapped = vec![blocks[0].header.clone(), blocks[2].header.clone()];
        assert_eq!(
            sync.on_headers(1, peer, gapped, &local),
            Err(Misbehaviour::BadSyncResponse)
        );
    }
}
