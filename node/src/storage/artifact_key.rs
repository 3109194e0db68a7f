//! The node-local secret that authenticates compiled contract artifacts: `DATA_DIR/artifact.key`,
//! 32 random bytes created on first start (mode 0600), kept beside the database and never in it.
//!
//! Artifacts are native code the node executes; the `artifacts` column caches them. Whoever can
//! write the database (a restored backup, a copied data directory, a bug in a storage tool) could
//! otherwise swap in native code of their own. The VM checks a MAC under this key before
//! deserialising an artifact and recompiles from the on-chain Wasm when it does not verify.

use std::io::Write;
use std::path::Path;

use salus_runtime::ArtifactKey;

use super::StorageError;

/// The key file's name in the data directory.
pub const ARTIFACT_KEY_FILE: &str = "artifact.key";

const KEY_BYTES: usize = 32;

/// Reads the artifact key of the database in `data_dir`, creating it on first use.
///
/// # Errors
/// [`StorageError::Corrupt`] if the file exists but is not 32 bytes; [`StorageError::Io`]-like
/// corruption errors naming the file if it cannot be read or written.
pub fn load_or_create(data_dir: &Path) -> Result<ArtifactKey, StorageError> {
    let path = data_dir.join(ARTIFACT_KEY_FILE);
    let failed = |what: &str, error: std::io::Error| {
        StorageError::Corrupt(format!("{what} {}: {error}", path.display()))
    };
    match std::fs::read(&path) {
        Ok(bytes) => {
            let key: [u8; KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| {
                StorageError::Corrupt(format!(
                    "{} holds {} bytes, an artifact key is {KEY_BYTES}; delete it to make a new \
                     one (compiled contracts are then rebuilt from the chain)",
                    path.display(),
                    bytes.len()
                ))
            })?;
            Ok(ArtifactKey(key))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; KEY_BYTES];
            salus_client::fill_random(&mut key).map_err(|error| {
                StorageError::Corrupt(format!(
                    "cannot draw random bytes for {}: {error}",
                    path.display()
                ))
            })?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&path)
                .map_err(|error| failed("cannot create", error))?;
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(|error| failed("cannot write", error))?;
            Ok(ArtifactKey(key))
        }
        Err(error) => Err(failed("cannot read", error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_private_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(first.0, again.0);
        assert_ne!(first.0, [0; KEY_BYTES]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ARTIFACT_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(ARTIFACT_KEY_FILE), b"short").unwrap();
        assert!(matches!(
            load_or_create(dir.path()),
            Err(StorageError::Corrupt(message)) if message.contains("artifact key is 32")
        ));
    }
}
