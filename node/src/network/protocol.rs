//! The wire protocol between Salus nodes: gossip topics for blocks and transactions, and the
//! `/salus/sync/1` request-response protocol (chain status, headers by block locator, bodies by
//! hash), framed as a 4-byte big-endian length and SCALE bytes with hard size limits.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use parity_scale_codec::{Decode, Encode};
use salus_primitives::limits::{MAX_BLOCK_BODY_BYTES, MAX_TRANSACTION_BYTES};
use salus_primitives::{BlockHeader, Hash, SignedTransaction};

/// The sync protocol's name.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/salus/sync/1");
/// Most headers in one response: enough to cross a long partition in a few round trips, small
/// enough (~200 bytes each) to stay far below the response limit.
pub const MAX_HEADERS_PER_RESPONSE: u32 = 512;
/// Most bodies asked for in one request (a batch).
pub const MAX_BODIES_PER_REQUEST: usize = 64;
/// Most hashes in a block locator (about 10 recent blocks, then exponentially sparser back to
/// genesis: 64 covers any chain length this network will see).
pub const MAX_LOCATOR_HASHES: usize = 64;
/// Most bytes of one request: a full locator or a full batch of body hashes, with room.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Most bytes of one response: a batch of full bodies could in theory reach 64 maximal blocks;
/// a responder stops adding bodies before this limit, so honest responses always fit.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Most bytes of a gossip message: a maximal block body plus its header, with room.
pub const MAX_GOSSIP_BYTES: usize = MAX_BLOCK_BODY_BYTES + 64 * 1024;
/// Most bytes of a gossiped transaction.
pub const MAX_GOSSIP_TRANSACTION_BYTES: usize = MAX_TRANSACTION_BYTES + 1024;

/// The gossip topic for new blocks of the chain with this genesis.
pub fn blocks_topic(genesis: &Hash) -> libp2p::gossipsub::IdentTopic {
    libp2p::gossipsub::IdentTopic::new(format!("/salus/{genesis}/blocks/1"))
}

/// The gossip topic for new transactions of the chain with this genesis.
pub fn transactions_topic(genesis: &Hash) -> libp2p::gossipsub::IdentTopic {
    libp2p::gossipsub::IdentTopic::new(format!("/salus/{genesis}/transactions/1"))
}

/// A node's view of its chain, exchanged to decide who syncs from whom.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ChainStatus {
    /// Genesis hash: peers on another chain are disconnected.
    pub genesis: Hash,
    /// Head hash.
    pub head: Hash,
    /// Head number.
    pub number: u64,
    /// Work from genesis to the head, big-endian.
    pub total_work: [u8; 32],
}

/// A sync request.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum SyncRequest {
    /// The peer's chain status.
    Status,
    /// Canonical headers after the first locator hash the peer knows, at most `max`.
    Headers {
        /// Block locator: newest first, genesis last.
        locator: Vec<Hash>,
        /// Most headers wanted.
        max: u32,
    },
    /// Bodies of these blocks, in order (a responder may return a prefix).
    Bodies {
        /// Block hashes.
        hashes: Vec<Hash>,
    },
}

/// A request as read from the wire. A request that breaks the protocol (over the size limit,
/// undecodable) is surfaced as `Malformed` rather than as a read error: libp2p drops a request
/// whose reading fails without telling the node, and the peer must be charged for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireRequest {
    /// A well-formed request.
    Valid(SyncRequest),
    /// A protocol violation, and what it was.
    Malformed(String),
}

/// A sync response.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum SyncResponse {
    /// The responder's chain status.
    Status(ChainStatus),
    /// Headers, each the parent of the next.
    Headers(Vec<BlockHeader>),
    /// Bodies, in the order asked.
    Bodies(Vec<Vec<SignedTransaction>>),
}

/// Length-prefixed SCALE framing with the limits above.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncCodec;

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, limit: usize) -> io::Result<Vec<u8>> {
    let mut length = [0u8; 4];
    io.read_exact(&mut length).await?;
    let length = u32::from_be_bytes(length) as usize;
    if length > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {length} bytes exceeds the limit of {limit}"),
        ));
    }
    let mut bytes = vec![0u8; length];
    io.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    let length = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
    io.write_all(&length.to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

fn decode_exact<M: Decode>(bytes: &[u8]) -> io::Result<M> {
    let mut input = bytes;
    let message = M::decode(&mut input)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error.to_string()))?;
    if !input.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "trailing bytes after the message",
        ));
    }
    Ok(message)
}

impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = WireRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WireRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let malformed = |error: io::Error| WireRequest::Malformed(error.to_string());
        let bytes = match read_frame(io, MAX_REQUEST_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return Ok(malformed(error));
            }
            Err(error) => return Err(error),
        };
        let request: SyncRequest = match decode_exact(&bytes) {
            Ok(request) => request,
            Err(error) => return Ok(malformed(error)),
        };
        Ok(match &request {
            SyncRequest::Headers { locator, .. } if locator.len() > MAX_LOCATOR_HASHES => {
                WireRequest::Malformed("locator too long".into())
            }
            SyncRequest::Bodies { hashes } if hashes.len() > MAX_BODIES_PER_REQUEST => {
                WireRequest::Malformed("too many bodies asked".into())
            }
            _ => WireRequest::Valid(request),
        })
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode_exact(&read_frame(io, MAX_RESPONSE_BYTES).await?)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: WireRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            WireRequest::Valid(request) => write_frame(io, &request.encode()).await,
            WireRequest::Malformed(reason) => {
                Err(io::Error::new(io::ErrorKind::InvalidInput, reason))
            }
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &response.encode()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;
    use libp2p::request_response::Codec;

    fn framed(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn requests_round_trip_and_bad_frames_are_refused() {
        futures::executor::block_on(async {
            let request = SyncRequest::Headers {
                locator: vec![Hash([1; 32]), Hash([2; 32])],
                max: 512,
            };
            let mut wire = Cursor::new(Vec::new());
            SyncCodec
                .write_request(
                    &SYNC_PROTOCOL,
                    &mut wire,
                    WireRequest::Valid(request.clone()),
                )
                .await
                .unwrap();
            let mut read = Cursor::new(wire.into_inner());
            assert_eq!(
                SyncCodec
                    .read_request(&SYNC_PROTOCOL, &mut read)
                    .await
                    .unwrap(),
                WireRequest::Valid(request)
            );
            let is_malformed = |request: WireRequest| matches!(request, WireRequest::Malformed(_));

            // An announced length over the limit is refused before reading it.
            let mut oversized =
                Cursor::new(((MAX_REQUEST_BYTES + 1) as u32).to_be_bytes().to_vec());
            let request = SyncCodec
                .read_request(&SYNC_PROTOCOL, &mut oversized)
                .await
                .unwrap();
            assert!(
                matches!(&request, WireRequest::Malformed(reason) if reason.contains("exceeds the limit")),
                "{request:?}"
            );
            // Garbage is a decoding error, not a panic.
            let mut garbage = Cursor::new(framed(&[0xff, 0x13, 0x37]));
            assert!(is_malformed(
                SyncCodec
                    .read_request(&SYNC_PROTOCOL, &mut garbage)
                    .await
                    .unwrap()
            ));
            // Trailing bytes after a valid message are refused.
            let mut trailing_bytes = SyncRequest::Status.encode();
            trailing_bytes.push(0);
            let mut trailing = Cursor::new(framed(&trailing_bytes));
            assert!(is_malformed(
                SyncCodec
                    .read_request(&SYNC_PROTOCOL, &mut trailing)
                    .await
                    .unwrap()
            ));
            // A locator longer than the limit is refused.
            let long = SyncRequest::Headers {
                locator: vec![Hash([0; 32]); MAX_LOCATOR_HASHES + 1],
                max: 1,
            };
            let mut long = Cursor::new(framed(&long.encode()));
            assert!(is_malformed(
                SyncCodec
                    .read_request(&SYNC_PROTOCOL, &mut long)
                    .await
                    .unwrap()
            ));
            // A stream cut short is an I/O error (not the peer's fault to charge).
            let mut cut = Cursor::new(vec![0, 0, 0, 9, 1]);
            assert!(
                SyncCodec
                    .read_request(&SYNC_PROTOCOL, &mut cut)
                    .await
                    .is_err()
            );
        });
    }
}
