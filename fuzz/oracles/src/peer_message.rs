//! The `peer_message` target: the `/salus/sync/1` codec (`salus_node::network::protocol::SyncCodec`)
//! reading a request and a response from a stream of arbitrary bytes, as a node reads what a
//! peer sends: a 4-byte big-endian length, then SCALE bytes, under hard size limits.

use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::request_response::Codec;
use parity_scale_codec::Encode;
use salus_node::network::protocol::{
    MAX_BODIES_PER_REQUEST, MAX_LOCATOR_HASHES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES,
    SYNC_PROTOCOL, SyncCodec, SyncRequest, WireRequest,
};

/// Reads `data` as a request stream and as a response stream.
///
/// Invariants: the codec never panics; a request whose frame is over the limit or does not
/// decode exactly is `Malformed` (charged to the peer), never a read error, while a stream cut
/// short is a read error; a `Valid` request respects the locator and batch limits and is
/// exactly the frame it came from (written back, it gives the same bytes); a response that
/// decodes likewise re-encodes to its frame.
pub fn peer_message(data: &[u8]) {
    check_request(data);
    check_response(data);
}

/// The announced length of the first frame in `data` and the bytes after the prefix, if the
/// prefix is complete.
fn frame(data: &[u8]) -> Option<(usize, &[u8])> {
    let (prefix, rest) = data.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*prefix) as usize, rest))
}

fn check_request(data: &[u8]) {
    let mut stream = Cursor::new(data);
    let read = block_on(SyncCodec.read_request(&SYNC_PROTOCOL, &mut stream));
    let Some((length, body)) = frame(data) else {
        assert!(read.is_err(), "a request without a length prefix was read");
        return;
    };
    if length > MAX_REQUEST_BYTES {
        assert!(
            matches!(read, Ok(WireRequest::Malformed(_))),
            "an oversized request frame was not refused as malformed: {read:?}"
        );
        return;
    }
    if body.len() < length {
        assert!(read.is_err(), "a request cut short was read: {read:?}");
        return;
    }
    let bytes = &body[..length];
    match read {
        Ok(WireRequest::Valid(request)) => {
            match &request {
                SyncRequest::Headers { locator, .. } => {
                    assert!(locator.len() <= MAX_LOCATOR_HASHES)
                }
                SyncRequest::Bodies { hashes } => assert!(hashes.len() <= MAX_BODIES_PER_REQUEST),
                SyncRequest::Status => {}
            }
            assert_eq!(
                request.encode(),
                bytes,
                "a request re-encodes to other bytes than its frame"
            );
            let mut written = Cursor::new(Vec::new());
            let write = block_on(SyncCodec.write_request(
                &SYNC_PROTOCOL,
                &mut written,
                WireRequest::Valid(request),
            ));
            assert!(
                write.is_ok(),
                "a valid request cannot be written: {write:?}"
            );
            assert_eq!(written.into_inner(), data[..4 + length]);
        }
        Ok(WireRequest::Malformed(_)) => {}
        Err(error) => panic!("a complete request frame gave a read error: {error}"),
    }
}

fn check_response(data: &[u8]) {
    let mut stream = Cursor::new(data);
    let read = block_on(SyncCodec.read_response(&SYNC_PROTOCOL, &mut stream));
    let Some((length, body)) = frame(data) else {
        assert!(read.is_err(), "a response without a length prefix was read");
        return;
    };
    let Ok(response) = read else {
        return;
    };
    assert!(length <= MAX_RESPONSE_BYTES && length <= body.len());
    let bytes = &body[..length];
    assert_eq!(
        response.encode(),
        bytes,
        "a response re-encodes to other bytes than its frame"
    );
    let mut written = Cursor::new(Vec::new());
    let write = block_on(SyncCodec.write_response(&SYNC_PROTOCOL, &mut written, response));
    assert!(
        write.is_ok(),
        "a decoded response cannot be written: {write:?}"
    );
    assert_eq!(written.into_inner(), data[..4 + length]);
}
