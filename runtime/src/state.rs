//! The narrow read-only view of global state through which the runtime sees the world.

use salus_primitives::{Account, Address, StateKey};

/// A failure of the backing store (I/O, corruption). Distinct from anything a transaction can
/// cause: a block whose execution hits one is neither valid nor invalid, and is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state backend failure: {0}")]
pub struct StateError(pub String);

/// Read access to global state, keyed by the flat encoding of a [`StateKey`].
pub trait State {
    /// The value stored under `key`, if any.
    ///
    /// # Errors
    /// [`StateError`] when the backend cannot answer.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// The account at `address` (the default account if absent).
    ///
    /// # Errors
    /// [`StateError`] when the backend fails or the stored account does not decode.
    fn account(&self, address: &Address) -> Result<Account, StateError> {
        decode_account(self.get(&StateKey::Account(*address).to_bytes())?)
    }
}

/// Decodes a stored account; absent means default.
///
/// # Errors
/// [`StateError`] when the bytes are not a SCALE-encoded [`Account`].
pub fn decode_account(bytes: Option<Vec<u8>>) -> Result<Account, StateError> {
    use parity_scale_codec::Decode;
    match bytes {
        None => Ok(Account::default()),
        Some(bytes) => Account::decode(&mut &bytes[..])
            .map_err(|error| StateError(format!("stored account does not decode: {error}"))),
    }
}

impl<S: State + ?Sized> State for &S {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(key)
    }
}

/// An in-memory state, for genesis construction and tests.
impl State for std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(std::collections::BTreeMap::get(self, key).cloned())
    }
}
