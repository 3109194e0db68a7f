//! The network's errors: why it could not start (its key, its bans file, its transport), and
//! why the node did not import a block a peer sent.

use std::path::PathBuf;

use libp2p::Multiaddr;

use crate::chain::ImportError;

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The node key file cannot be read or written, or holds no valid key.
    #[error("{}: {reason}", .path.display())]
    NodeKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The persisted bans cannot be read.
    #[error("{}: {reason}", .path.display())]
    BansFile {
        /// The bans file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An entry of the persisted bans is not `PEER_ID UNTIL_UNIX_MS`.
    #[error("{} line {line}: expected `PEER_ID UNTIL_UNIX_MS`, found {entry:?}", .path.display())]
    BadBan {
        /// The bans file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The line.
        entry: String,
    },
    /// libp2p refused the configuration (transport, gossip, topics).
    #[error("{0}")]
    Setup(String),
    /// An address cannot be listened on.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
}

/// Why the node did not import a block from gossip or sync.
#[derive(Debug, thiserror::Error)]
pub enum BlockImportError {
    /// The chain refused it.
    #[error(transparent)]
    Refused(#[from] ImportError),
    /// The node could not import it (a failure of its own, not the block's).
    #[error("{0}")]
    Node(String),
}

impl BlockImportError {
    /// Whether the block is invalid, so that the peer that sent it misbehaved (as opposed to a
    /// local failure, or a block that may be fine later).
    pub fn is_invalid_block(&self) -> bool {
        matches!(self, BlockImportError::Refused(error) if error.is_invalid_block())
    }

    /// Whether this node's database is damaged (found while importing the block): the node
    /// stops with the error instead of fetching the block again and again.
    pub fn is_fatal(&self) -> bool {
        matches!(self, BlockImportError::Refused(error) if error.is_corruption())
    }

    /// Whether the block is one the node does not keep (too deep a side branch, an orphan that
    /// cannot connect here): the sender is scored down lightly.
    pub fn is_unwanted_block(&self) -> bool {
        matches!(self, BlockImportError::Refused(error) if error.is_unwanted_block())
    }
}
