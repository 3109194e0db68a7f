//! Key files on disk: reading key material with a size bound and writing files and directories
//! only their owner can read. The formats themselves (a hex key, a Salus key file sealed with
//! scrypt and XChaCha20-Poly1305, an Ethereum keystore v3 file) are `salus-keyfile`'s, shared
//! with the console's key module in the browser, and re-exported here.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

pub use salus_keyfile::*;
use zeroize::Zeroizing;

/// Creates a key directory and its missing parents, readable only by the owner (mode 0700).
/// An existing directory is left as it is: [`is_owner_only`] tells whether others can enter it.
///
/// # Errors
/// When the directory cannot be created.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Whether only the owner can read or enter `path` (no group or other permission bits).
///
/// # Errors
/// When `path` cannot be examined.
pub fn is_owner_only(path: &Path) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).map(|_| true)
    }
}

/// Writes a new file readable only by its owner: created with mode 0600 from the start (never
/// briefly readable by others), refused when `path` exists, and synced to disk together with
/// its directory entry. A file whose write fails is removed.
///
/// # Errors
/// When the file exists or cannot be created, written or synced.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    if let Err(error) = file.write_all(contents).and_then(|()| file.sync_all()) {
        drop(file);
        // The write's error is the one worth reporting; a leftover partial file would block a
        // retry (create_new), so it goes, and a failure to remove it changes nothing reported.
        let _ = std::fs::remove_file(path);
        return Err(error);
    }
    sync_directory_of(path)
}

/// Syncs the directory holding `path`, so that a new file's name survives a crash.
fn sync_directory_of(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let parent = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Reads a file holding key material (a key file, a private key or a mnemonic) into a buffer
/// wiped when dropped; larger than [`MAX_KEY_FILE_BYTES`] is refused.
///
/// # Errors
/// When the file cannot be read, is too large or is not UTF-8.
pub fn read_secret_file(path: &Path) -> std::io::Result<Zeroizing<String>> {
    read_secret(File::open(path)?)
}

/// Reads key material from `source` as [`read_secret_file`] does.
///
/// # Errors
/// When the source cannot be read, is too large or is not UTF-8.
pub fn read_secret(source: impl Read) -> std::io::Result<Zeroizing<String>> {
    let limit = usize::try_from(MAX_KEY_FILE_BYTES).unwrap_or(usize::MAX);
    // Capacity for the largest accepted text plus one byte, so that the buffer never moves (a
    // move would leave a copy of the secret behind in freed memory).
    let mut bytes = Zeroizing::new(Vec::with_capacity(limit + 1));
    source
        .take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_KEY_FILE_BYTES} bytes: not key material"),
        ));
    }
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(error) => {
            drop(Zeroizing::new(error.into_bytes()));
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not UTF-8 text",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("nested").join("keys");
        create_private_dir(&keys).unwrap();
        assert!(is_owner_only(&keys).unwrap());
        let path = keys.join("a.key");
        write_private_file(&path, b"secret").unwrap();
        assert!(is_owner_only(&path).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let again = write_private_file(&path, b"other").unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(*read_secret_file(&path).unwrap(), "secret");
    }

    #[test]
    fn oversized_key_material_is_refused() {
        let big = vec![b'a'; usize::try_from(MAX_KEY_FILE_BYTES).unwrap() + 1];
        assert!(read_secret(big.as_slice()).is_err());
        let fits = vec![b'a'; usize::try_from(MAX_KEY_FILE_BYTES).unwrap()];
        assert_eq!(read_secret(fits.as_slice()).unwrap().len(), fits.len());
    }
}
