//! Deterministic mutations of corpus files for the stable replay (`tests/replay.rs`): a seeded
//! xorshift generator and a few libFuzzer-like mutations (bit flips, interesting values,
//! truncations, insertions, splices with other files, dictionary tokens). Not a fuzzer: no
//! coverage feedback, only a bounded, reproducible walk around the seeds on every CI run.

/// A small deterministic random number generator (xorshift64*).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value; zero is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// A generator seeded from a name (the same name always gives the same sequence).
    pub fn for_name(name: &str) -> Rng {
        // FNV-1a.
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Rng::new(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound` (`0` when `bound` is zero).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            (self.next_u64() % bound as u64) as usize
        }
    }
}

/// Byte values that often sit on a boundary.
const INTERESTING_BYTES: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff,
];

/// 32-bit values that often sit on a boundary (lengths, compact prefixes, limits).
const INTERESTING_WORDS: &[u32] = &[
    0,
    1,
    0x3f,
    0x40,
    0xff,
    0x100,
    0x3fff,
    0x4000,
    0xffff,
    0x1_0000,
    0x3fff_ffff,
    0x4000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

/// Applies one to four random mutations to `input`; `others` are splice partners and
/// `dictionary` tokens to insert.
pub fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>], dictionary: &[&str]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..=rng.below(4) {
        mutate_once(rng, &mut data, others, dictionary);
    }
    data
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, others: &[Vec<u8>], dictionary: &[&str]) {
    let length = data.len();
    match rng.below(11) {
        // Flip one bit.
        0 if length > 0 => {
            let at = rng.below(length);
            data[at] ^= 1 << rng.below(8);
        }
        // Set a byte to a boundary value.
        1 if length > 0 => {
            let at = rng.below(length);
            data[at] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
        }
        // Add or subtract a little.
        2 if length > 0 => {
            let at = rng.below(length);
            let delta = rng.below(35) as u8;
            data[at] = if rng.below(2) == 0 {
                data[at].wrapping_add(delta)
            } else {
                data[at].wrapping_sub(delta)
            };
        }
        // Overwrite four bytes with a boundary word, either endianness.
        3 if length >= 4 => {
            let at = rng.below(length - 3);
            let word = INTERESTING_WORDS[rng.below(INTERESTING_WORDS.len())];
            let bytes = if rng.below(2) == 0 {
                word.to_le_bytes()
            } else {
                word.to_be_bytes()
            };
            data[at..at + 4].copy_from_slice(&bytes);
        }
        // Truncate.
        4 => data.truncate(rng.below(length + 1)),
        // Delete a range.
        5 if length > 0 => {
            let start = rng.below(length);
            let end = start + 1 + rng.below((length - start).min(64));
            data.drain(start..end);
        }
        // Insert random bytes.
        6 => {
            let at = rng.below(length + 1);
            let count = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..count).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        // Duplicate a range.
        7 if length > 0 => {
            let start = rng.below(length);
            let end = start + 1 + rng.below((length - start).min(64));
            let copy = data[start..end].to_vec();
            let at = rng.below(length + 1);
            data.splice(at..at, copy);
        }
        // Splice: this input's head, another's tail.
        8 if !others.is_empty() => {
            let other = &others[rng.below(others.len())];
            let head = rng.below(length + 1);
            let tail = rng.below(other.len() + 1);
            data.truncate(head);
            data.extend_from_slice(&other[tail..]);
        }
        // Insert a dictionary token.
        9 if !dictionary.is_empty() => {
            let token = dictionary[rng.below(dictionary.len())].as_bytes();
            let at = rng.below(length + 1);
            data.splice(at..at, token.iter().copied());
        }
        // Overwrite with a dictionary token.
        10 if !dictionary.is_empty() && length > 0 => {
            let token = dictionary[rng.below(dictionary.len())].as_bytes();
            let at = rng.below(length);
            let end = (at + token.len()).min(length);
            data.splice(at..end, token.iter().copied());
        }
        _ => {
            if length > 0 {
                let at = rng.below(length);
                data[at] = rng.next_u64() as u8;
            } else {
                data.push(rng.next_u64() as u8);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_reproducible_and_change_inputs() {
        let seed = b"salus transaction seed".to_vec();
        let others = vec![b"another file".to_vec()];
        let run = || {
            let mut rng = Rng::for_name("transaction");
            (0..100)
                .map(|_| mutate(&mut rng, &seed, &others, &["tok"]))
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.iter().filter(|mutant| **mutant != seed).count() > 90);
    }
}
