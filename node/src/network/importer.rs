//! The block thread: blocks from gossip and sync are imported here, one at a time in the order
//! they were handed over, off the network task — the swarm keeps answering pings, gossip and
//! sync requests while a long import runs. Jobs wait in a bounded queue (a full queue refuses
//! gossip without blame and holds sync's blocks back); verdicts go back to the network task.

use std::sync::Arc;

use libp2p::PeerId;
use libp2p::gossipsub;
use salus_primitives::Block;
use tokio::sync::mpsc;

use super::{BlockImportError, NetworkState};
use crate::chain::{ImportOutcome, ReceivedBlock};

/// Blocks waiting for the block thread. Sync hands over at most this many beyond what is being
/// imported (a fraction of its download window, so that a verdict ending the sync wastes little),
/// and gossip finds room for new heads: [`GOSSIP_RESERVE`] places are kept for it.
pub const IMPORT_QUEUE: usize = 64;

/// Places of the import queue sync leaves to gossiped blocks.
pub const GOSSIP_RESERVE: usize = 8;

/// What to import, and whom the verdict concerns.
pub enum ImportJob {
    /// A block gossip delivered; the verdict is reported to gossipsub for `message_id`.
    Gossiped {
        /// The block.
        block: Block,
        /// Gossip's id of the message.
        message_id: gossipsub::MessageId,
        /// The peer that relayed it.
        source: PeerId,
    },
    /// A block sync downloaded (see [`super::sync::ReadyBlock`]).
    Synced {
        /// The block.
        block: ReceivedBlock,
        /// The peer that sent its header.
        header_from: PeerId,
        /// The sync it belongs to.
        epoch: u64,
    },
}

/// The block thread's verdict.
pub enum Imported {
    /// On a gossiped block.
    Gossiped {
        /// Gossip's id of the message.
        message_id: gossipsub::MessageId,
        /// The peer that relayed it.
        source: PeerId,
        /// The block's number.
        number: u64,
        /// What import made of it.
        outcome: Result<ImportOutcome, BlockImportError>,
    },
    /// On a synced block.
    Synced {
        /// The peer that sent its header.
        header_from: PeerId,
        /// The sync it belonged to.
        epoch: u64,
        /// What import made of it.
        result: Result<(), BlockImportError>,
    },
}

/// A peer as the orphan pool tells senders apart: the first eight bytes of keccak256 of its id.
fn origin_tag(peer: &PeerId) -> u64 {
    let hash = salus_primitives::keccak256(&peer.to_bytes());
    u64::from_be_bytes(hash.0[..8].try_into().expect("eight bytes"))
}

/// Starts the block thread importing into `state`; it ends when the job sender is dropped.
///
/// # Panics
/// If the operating system cannot start a thread.
pub fn spawn<S: NetworkState>(
    state: Arc<S>,
) -> (mpsc::Sender<ImportJob>, mpsc::UnboundedReceiver<Imported>) {
    let (jobs, mut queue) = mpsc::channel::<ImportJob>(IMPORT_QUEUE);
    let (verdicts, results) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("salus-block-import".into())
        .spawn(move || {
            while let Some(job) = queue.blocking_recv() {
                let verdict = match job {
                    ImportJob::Gossiped {
                        block,
                        message_id,
                        source,
                    } => Imported::Gossiped {
                        message_id,
                        source,
                        number: block.header.number,
                        outcome: state.import_block(
                            ReceivedBlock::new(block).with_origin(origin_tag(&source)),
                        ),
                    },
                    ImportJob::Synced {
                        block,
                        header_from,
                        epoch,
                    } => Imported::Synced {
                        header_from,
                        epoch,
                        result: state.import_synced(block),
                    },
                };
                if verdicts.send(verdict).is_err() {
                    return;
                }
            }
        })
        .expect("the block thread starts");
    (jobs, results)
}
