//! Random bytes from the operating system's source (through `getrandom`: `getrandom(2)` on
//! Linux, never a file read by hand), for what the client makes: new keys, key-file salts and
//! nonces, tokens.

/// The operating system's random source failed (or is not available on this platform).
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomnessError(#[from] getrandom::Error);

/// Fills `bytes` from the operating system's random source.
///
/// # Errors
/// [`RandomnessError`] when the source fails; `bytes` must then not be used.
pub fn fill_random(bytes: &mut [u8]) -> Result<(), RandomnessError> {
    getrandom::fill(bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fill_random;

    #[test]
    fn two_draws_of_32_bytes_differ_and_are_not_zero() {
        let (mut first, mut second) = ([0u8; 32], [0u8; 32]);
        fill_random(&mut first).unwrap();
        fill_random(&mut second).unwrap();
        // Each equality has probability 2^-256 for a working source.
        assert_ne!(first, [0u8; 32]);
        assert_ne!(first, second);
    }
}
