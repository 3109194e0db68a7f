//! Proof of work: compact targets (Bitcoin's nBits), accumulated work, the leading-zero-bits view
//! of difficulty, and the ASERT difficulty adjustment.
//!
//! A header is valid when keccak256 of its SCALE encoding, read as a big-endian 256-bit number, is
//! at or below the target its `bits` field encodes. The seed paper states the rule as "a hash
//! beginning with a number of zero bits"; [`CompactTarget::from_leading_zero_bits`] and
//! [`leading_zero_bits`] give that view of the same rule.

use core::fmt;

use parity_scale_codec::{Decode, Encode, MaxEncodedLen};
use primitive_types::{U256, U512};

use crate::hash::Hash;

/// A 256-bit target in Bitcoin's compact "nBits" form: one exponent byte, then a 23-bit mantissa
/// and a sign bit; target = mantissa × 256^(exponent − 3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Encode, Decode, MaxEncodedLen)]
pub struct CompactTarget(pub u32);

impl fmt::Debug for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactTarget({:#010x})", self.0)
    }
}

/// Why a compact target is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The sign bit is set on a non-zero mantissa.
    #[error("negative compact target")]
    Negative,
    /// The encoded value does not fit in 256 bits.
    #[error("compact target overflows 256 bits")]
    Overflow,
    /// The target is zero: no hash could meet it.
    #[error("zero target")]
    Zero,
}

fn u256_to_be(value: &U256) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().rev().enumerate() {
        *byte = value.byte(i);
    }
    out
}

impl CompactTarget {
    /// Decodes the full 256-bit target.
    ///
    /// # Errors
    /// A [`TargetError`] for negative, overflowing or zero targets.
    pub fn to_target(self) -> Result<U256, TargetError> {
        let exponent = self.0 >> 24;
        let mantissa = self.0 & 0x007f_ffff;
        if mantissa != 0 && self.0 & 0x0080_0000 != 0 {
            return Err(TargetError::Negative);
        }
        let target = if exponent <= 3 {
            U256::from(mantissa >> (8 * (3 - exponent)))
        } else {
            let shift = 8 * (exponent - 3);
            let significant_bits = 32 - mantissa.leading_zeros();
            if mantissa != 0 && significant_bits + shift > 256 {
                return Err(TargetError::Overflow);
            }
            U256::from(mantissa) << shift as usize
        };
        if target.is_zero() {
            return Err(TargetError::Zero);
        }
        Ok(target)
    }

    /// The compact form of `target`, rounding down to the 23-bit mantissa's precision (as
    /// Bitcoin's `GetCompact`).
    pub fn from_target(target: U256) -> CompactTarget {
        let mut size = target.bits().div_ceil(8) as u32;
        let mut compact = if size <= 3 {
            (target.low_u64() << (8 * (3 - size))) as u32
        } else {
            (target >> (8 * (size as usize - 3))).low_u64() as u32
        };
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        CompactTarget(compact | (size << 24))
    }

    /// The target a hash meets exactly when it begins with at least `zero_bits` zero bits,
    /// rounded down to compact precision (1 ≤ zero_bits ≤ 255).
    pub fn from_leading_zero_bits(zero_bits: u32) -> CompactTarget {
        let zero_bits = zero_bits.clamp(1, 255);
        CompactTarget::from_target((U256::one() << (256 - zero_bits as usize)) - U256::one())
    }

    /// The work a block at this target represents: the expected number of hashes to find it,
    /// 2^256 / (target + 1).
    ///
    /// # Errors
    /// A [`TargetError`] if the compact form does not decode.
    pub fn work(self) -> Result<Work, TargetError> {
        let target = self.to_target()?;
        if target == U256::MAX {
            return Ok(Work(U256::one()));
        }
        // 2^256 / (t + 1) = (2^256 − 1 − t) / (t + 1) + 1, computed without 257-bit numbers.
        Ok(Work((!target / (target + U256::one())) + U256::one()))
    }
}

/// Whether `hash` (big-endian) is at or below `target`.
pub fn hash_meets_target(hash: &Hash, target: &U256) -> bool {
    U256::from_big_endian(&hash.0) <= *target
}

/// Number of leading zero bits of `hash`: the seed paper's measure of proof of work.
pub fn leading_zero_bits(hash: &Hash) -> u32 {
    let mut count = 0;
    for byte in hash.0 {
        if byte == 0 {
            count += 8;
        } else {
            return count + byte.leading_zeros();
        }
    }
    count
}

/// Accumulated proof of work (sum of [`CompactTarget::work`] along a chain), compared for fork
/// choice. Encoded as 32 big-endian bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Work(pub U256);

impl Work {
    /// Adds `other`, saturating (2^256 hashes will not be reached).
    pub fn saturating_add(self, other: Work) -> Work {
        Work(self.0.saturating_add(other.0))
    }

    /// Big-endian bytes.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        u256_to_be(&self.0)
    }

    /// From big-endian bytes.
    pub fn from_be_bytes(bytes: [u8; 32]) -> Work {
        Work(U256::from_big_endian(&bytes))
    }
}

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Work({})", self.0)
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Encode for Work {
    fn size_hint(&self) -> usize {
        32
    }
    fn encode_to<T: parity_scale_codec::Output + ?Sized>(&self, dest: &mut T) {
        dest.write(&self.to_be_bytes());
    }
}

impl Decode for Work {
    fn decode<I: parity_scale_codec::Input>(
        input: &mut I,
    ) -> Result<Self, parity_scale_codec::Error> {
        let mut bytes = [0u8; 32];
        input.read(&mut bytes)?;
        Ok(Work(U256::from_big_endian(&bytes)))
    }
}

/// How a chain sets each block's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum DifficultyRule {
    /// Every block uses the chain's `pow_limit` (dev chains: blocks as fast as the miner asks).
    Fixed,
    /// ASERT ("aserti3-2d", Bitcoin Cash 2020): the target is an exponential function of how far
    /// the chain is ahead of or behind an absolute schedule anchored at genesis. It has no
    /// window to game, never oscillates, and depends only on the anchor and the parent.
    Asert {
        /// Time for the target to double (or halve) when the chain is that far behind (ahead of)
        /// schedule, in milliseconds.
        half_life_ms: u64,
    },
}

/// The anchor of the ASERT schedule: genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsertAnchor {
    /// Height of the anchor block.
    pub number: u64,
    /// Timestamp of the anchor block's parent, in ms (for genesis: its own timestamp minus one
    /// target block time, so that block 1 on schedule keeps the genesis target).
    pub parent_timestamp_ms: u64,
    /// Target of the anchor block.
    pub target: CompactTarget,
}

/// The ASERT target for the block after `parent`. `pow_limit` is the easiest target allowed.
///
/// The exponent (time_delta − ideal_block_time × (height_delta + 1)) / half_life is evaluated in
/// 16.16 fixed point and 2^fraction by the cubic approximation of the aserti3-2d specification,
/// in integers only: every node computes the same bits.
///
/// # Errors
/// A [`TargetError`] if the anchor or limit do not decode.
pub fn asert_next_target(
    anchor: &AsertAnchor,
    parent_number: u64,
    parent_timestamp_ms: u64,
    target_block_time_ms: u64,
    half_life_ms: u64,
    pow_limit: CompactTarget,
) -> Result<CompactTarget, TargetError> {
    let anchor_target = anchor.target.to_target()?;
    let limit = pow_limit.to_target()?;
    let time_delta = i128::from(parent_timestamp_ms) - i128::from(anchor.parent_timestamp_ms);
    let height_delta = i128::from(parent_number) - i128::from(anchor.number);
    let half_life = i128::from(half_life_ms.max(1));
    let exponent = ((time_delta - i128::from(target_block_time_ms) * (height_delta + 1)) * 65536)
        .div_euclid(half_life);
    let shifts = exponent >> 16;
    let fraction = (exponent & 0xffff) as u128;
    // 2^(fraction/65536) × 65536, within 0.013 % (aserti3-2d's published constants).
    let factor = 65536
        + ((195_766_423_245_049u128 * fraction
            + 971_821_376u128 * fraction * fraction
            + 5_127u128 * fraction * fraction * fraction
            + (1u128 << 47))
            >> 48);
    let mut next: U512 = anchor_target.full_mul(U256::from(factor as u64));
    if shifts < 0 {
        let right = (-shifts).min(512) as usize;
        next = if right >= 512 {
            U512::zero()
        } else {
            next >> right
        };
    } else {
        let left = shifts.min(512) as usize;
        if left >= 256 || next.bits() + left > 512 - 16 {
            return Ok(pow_limit);
        }
        next <<= left;
    }
    next >>= 16;
    let limit_wide = U512::from(limit);
    if next > limit_wide {
        return Ok(pow_limit);
    }
    let next = U256::try_from(next).map_err(|_| TargetError::Overflow)?;
    Ok(CompactTarget::from_target(if next.is_zero() {
        U256::one()
    } else {
        next
    }))
}

/// The median of the given timestamps (the block must be strictly above it).
pub fn median_time_past(timestamps: &mut [u64]) -> Option<u64> {
    if timestamps.is_empty() {
        return None;
    }
    timestamps.sort_unstable();
    Some(timestamps[timestamps.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitcoin_compact_targets_decode() {
        // Bitcoin genesis bits 0x1d00ffff = 0xffff × 256^26.
        let target = CompactTarget(0x1d00_ffff).to_target().unwrap();
        assert_eq!(target, U256::from(0xffffu64) << 208);
        assert_eq!(
            CompactTarget::from_target(target),
            CompactTarget(0x1d00_ffff)
        );
        assert_eq!(
            CompactTarget(0x0180_0000).to_target(),
            Err(TargetError::Zero)
        );
        assert_eq!(
            CompactTarget(0x0480_0001).to_target(),
            Err(TargetError::Negative)
        );
        assert_eq!(
            CompactTarget(0x2201_0000).to_target(),
            Err(TargetError::Overflow)
        );
        assert_eq!(
            CompactTarget(0x0312_3456).to_target(),
            Ok(U256::from(0x12_3456u64))
        );
        assert_eq!(
            CompactTarget(0x0112_3456).to_target(),
            Ok(U256::from(0x12u64))
        );
    }

    #[test]
    fn compact_round_trip_keeps_top_bits() {
        for bits in [
            0x1d00_ffffu32,
            0x1b04_864c,
            0x2000_ffff,
            0x207f_ffff,
            0x0400_8000,
        ] {
            let compact = CompactTarget(bits);
            let target = compact.to_target().unwrap();
            assert_eq!(
                CompactTarget::from_target(target).to_target().unwrap(),
                target
            );
        }
    }

    #[test]
    fn leading_zero_bits_and_targets_agree() {
        let compact = CompactTarget::from_leading_zero_bits(12);
        let target = compact.to_target().unwrap();
        let mut hash = Hash([0xff; 32]);
        hash.0[0] = 0x00;
        hash.0[1] = 0x0f; // exactly 12 leading zero bits
        assert_eq!(leading_zero_bits(&hash), 12);
        // Compact rounding makes the target slightly lower than 2^244 − 1; a hash just below it
        // with 12 zero bits passes, and one with 11 never does.
        hash.0[1] = 0x0e;
        assert!(hash_meets_target(&hash, &target));
        hash.0[1] = 0x10;
        assert_eq!(leading_zero_bits(&hash), 11);
        assert!(!hash_meets_target(&hash, &target));
        assert_eq!(leading_zero_bits(&Hash::ZERO), 256);
    }

    #[test]
    fn work_is_two_to_the_256_over_target_plus_one() {
        // Target 2^255 − 1 → work 2.
        let target = (U256::one() << 255) - U256::one();
        assert!(CompactTarget::from_target(target).to_target().unwrap() <= target);
        let compact = CompactTarget(0x2100_8000); // 0x8000 × 256^30 = 2^255
        assert_eq!(compact.to_target().unwrap(), U256::one() << 255);
        // 2^256 / (2^255 + 1) = 1 (integer division).
        assert_eq!(compact.work().unwrap(), Work(U256::one()));
        let harder = CompactTarget::from_leading_zero_bits(20);
        let easier = CompactTarget::from_leading_zero_bits(10);
        assert!(harder.work().unwrap() > easier.work().unwrap());
        let expected = U256::one() << 20;
        let work = harder.work().unwrap().0;
        assert!(work >= expected && work < expected + (expected >> 10));
    }

    fn anchor() -> AsertAnchor {
        AsertAnchor {
            number: 0,
            parent_timestamp_ms: 0,
            target: CompactTarget::from_leading_zero_bits(16),
        }
    }

    const BLOCK_MS: u64 = 10_000;
    const HALF_LIFE_MS: u64 = 3_600_000;

    fn next(parent_number: u64, parent_time: u64) -> U256 {
        asert_next_target(
            &anchor(),
            parent_number,
            parent_time,
            BLOCK_MS,
            HALF_LIFE_MS,
            CompactTarget::from_leading_zero_bits(1),
        )
        .unwrap()
        .to_target()
        .unwrap()
    }

    #[test]
    fn asert_on_schedule_keeps_the_target() {
        let base = anchor().target.to_target().unwrap();
        // Block 10 exactly on schedule: parent (height 9) at 10 × block time after the anchor's
        // parent.
        let on_time = next(9, 10 * BLOCK_MS);
        let diff = if on_time > base {
            on_time - base
        } else {
            base - on_time
        };
        assert!(diff <= base >> 15, "on-schedule target drifted");
    }

    #[test]
    fn asert_doubles_per_half_life_behind_and_halves_ahead() {
        let on_time = next(999, 1_000 * BLOCK_MS);
        let behind = next(999, 1_000 * BLOCK_MS + HALF_LIFE_MS);
        let ahead = next(999, 1_000 * BLOCK_MS - HALF_LIFE_MS);
        let tolerance = on_time >> 12;
        let doubled = on_time * U256::from(2u8);
        assert!(behind + tolerance >= doubled && behind <= doubled + tolerance);
        let halved = on_time / U256::from(2u8);
        assert!(ahead + tolerance >= halved && ahead <= halved + tolerance);
        // Monotone: later parents give easier targets.
        assert!(next(999, 1_000 * BLOCK_MS + 1_000) >= on_time);
    }

    #[test]
    fn asert_clamps_to_the_pow_limit() {
        let limit = CompactTarget::from_leading_zero_bits(1)
            .to_target()
            .unwrap();
        assert_eq!(next(1, 1_000 * HALF_LIFE_MS), limit);
        // Far ahead of schedule: the target shrinks but stays positive.
        assert!(!next(1_000_000, 0).is_zero());
    }

    #[test]
    fn median_of_eleven() {
        let mut times = [5, 1, 9, 3, 7, 11, 2, 8, 4, 10, 6];
        assert_eq!(median_time_past(&mut times), Some(6));
        assert_eq!(median_time_past(&mut []), None);
    }
}
