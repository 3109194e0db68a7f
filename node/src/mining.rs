//! The proof-of-work nonce search: hashes the encoded header with successive nonces on several
//! threads until one meets the target, and gives up as soon as it is told a better head arrived.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parity_scale_codec::Encode;
use salus_primitives::block::HEADER_NONCE_OFFSET;
use salus_primitives::pow::TargetError;
use salus_primitives::{BlockHeader, keccak256};

/// Hashes tried between checks of the stop flag: small enough that a stop takes effect within
/// microseconds, large enough that the atomic load costs nothing measurable.
pub const HASHES_PER_STOP_CHECK: u64 = 1024;

/// The target as 32 big-endian bytes; a hash meets it when it compares lower or equal
/// byte-wise.
pub fn target_bytes(header: &BlockHeader) -> Result<[u8; 32], TargetError> {
    let target = header.bits.to_target()?;
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().rev().enumerate() {
        *byte = target.byte(i);
    }
    Ok(out)
}

/// How a nonce search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchOutcome {
    /// A header with a nonce that meets its target.
    Found(BlockHeader),
    /// Stopped by the caller (a better head arrived, or shutdown).
    Stopped,
    /// Every nonce was tried (the caller should change the timestamp and retry).
    Exhausted,
}

/// Searches nonces on `threads` threads, thread *i* trying nonces ≡ *i* (mod `threads`) from
/// `header.nonce` upwards. Returns when a nonce is found, `stop` is set, or the space is spent.
///
/// # Errors
/// [`TargetError`] if the header's `bits` do not decode.
pub fn search_nonce(
    header: &BlockHeader,
    threads: usize,
    stop: &AtomicBool,
) -> Result<SearchOutcome, TargetError> {
    let target = target_bytes(header)?;
    let threads = threads.max(1) as u64;
    let found = AtomicBool::new(false);
    let winner = AtomicU64::new(0);
    let encoded = header.encode();
    let start = header.nonce;
    std::thread::scope(|scope| {
        for lane in 0..threads {
            let (encoded, found, winner) = (encoded.clone(), &found, &winner);
            scope.spawn(move || {
                search_lane(
                    encoded,
                    &target,
                    start.wrapping_add(lane),
                    threads,
                    stop,
                    found,
                    winner,
                )
            });
        }
    });
    if found.load(Ordering::Acquire) {
        let mut sealed = header.clone();
        sealed.nonce = winner.load(Ordering::Acquire);
        return Ok(SearchOutcome::Found(sealed));
    }
    if stop.load(Ordering::Relaxed) {
        return Ok(SearchOutcome::Stopped);
    }
    Ok(SearchOutcome::Exhausted)
}

fn search_lane(
    mut encoded: Vec<u8>,
    target: &[u8; 32],
    first: u64,
    step: u64,
    stop: &AtomicBool,
    found: &AtomicBool,
    winner: &AtomicU64,
) {
    let mut nonce = first;
    let mut remaining = ((u64::MAX - first) / step).saturating_add(1);
    while remaining > 0 {
        let count = remaining.min(HASHES_PER_STOP_CHECK);
        if let Some(hit) = try_nonces(&mut encoded, target, nonce, step, count) {
            if !found.swap(true, Ordering::AcqRel) {
                winner.store(hit, Ordering::Release);
            }
            return;
        }
        remaining -= count;
        nonce = nonce.wrapping_add(step.wrapping_mul(count));
        if stop.load(Ordering::Relaxed) || found.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// The inner loop of the search: writes `count` nonces `first, first + step, …` into the encoded
/// header in place and hashes each; returns the first that meets `target` (32 big-endian bytes).
pub fn try_nonces(
    encoded: &mut [u8],
    target: &[u8; 32],
    first: u64,
    step: u64,
    count: u64,
) -> Option<u64> {
    let mut nonce = first;
    for _ in 0..count {
        encoded[HEADER_NONCE_OFFSET..].copy_from_slice(&nonce.to_le_bytes());
        if keccak256(encoded).0 <= *target {
            return Some(nonce);
        }
        nonce = nonce.wrapping_add(step);
    }
    None
}

#[cfg(test)]
mod tests {
    use salus_primitives::pow::{hash_meets_target, leading_zero_bits};
    use salus_primitives::{Address, CompactTarget, Hash};

    use super::*;

    fn header(zero_bits: u32) -> BlockHeader {
        BlockHeader {
            parent_hash: Hash([1; 32]),
            number: 1,
            timestamp_ms: 1,
            transactions_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            state_root: Hash::ZERO,
            bits: CompactTarget::from_leading_zero_bits(zero_bits),
            miner: Address::ZERO,
            nonce: 0,
        }
    }

    #[test]
    fn found_nonce_meets_the_target() {
        let stop = AtomicBool::new(false);
        for threads in [1, 3] {
            let SearchOutcome::Found(sealed) = search_nonce(&header(10), threads, &stop).unwrap()
            else {
                panic!("no nonce found");
            };
            let hash = sealed.hash();
            assert!(hash_meets_target(&hash, &sealed.bits.to_target().unwrap()));
            assert!(leading_zero_bits(&hash) >= 10);
        }
    }

    #[test]
    fn a_set_stop_flag_ends_an_impossible_search() {
        let stop = AtomicBool::new(true);
        // 200 zero bits will not be found; the search must return promptly when told to stop.
        assert_eq!(
            search_nonce(&header(200), 2, &stop).unwrap(),
            SearchOutcome::Stopped
        );
    }
}
