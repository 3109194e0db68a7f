//! The RPC cookie: a random token the node writes to `DATA_DIR/.cookie` at every start,
//! readable only by the node's user (as bitcoind's `.cookie` and geth's `jwt.hex`). Methods that
//! change the node's peers or bans answer only to a request carrying it as
//! `Authorization: Bearer <token>`; the CLI reads the file and sends it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The cookie's file name in the data directory.
pub const COOKIE_FILE_NAME: &str = ".cookie";
/// Random bytes in a token (written as 64 hex digits): as hard to guess as a private key.
pub const COOKIE_TOKEN_BYTES: usize = 32;
/// The cookie file's permissions: read and write by the owner only.
pub const COOKIE_FILE_MODE: u32 = 0o600;

/// Why the cookie could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CookieError {
    /// Writing the file (or drawing its randomness) failed.
    #[error("cannot write the RPC cookie {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading the file failed.
    #[error("cannot read the RPC cookie {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not hold a token.
    #[error("the RPC cookie {path} does not hold a {COOKIE_TOKEN_BYTES}-byte hex token")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
}

/// Where a node with data directory `data_dir` keeps its cookie.
pub fn cookie_path(data_dir: &Path) -> PathBuf {
    data_dir.join(COOKIE_FILE_NAME)
}

/// The token of a running node, and its file.
#[derive(Debug)]
pub struct RpcCookie {
    path: PathBuf,
    token: String,
}

impl RpcCookie {
    /// Draws a new token and writes it to `DATA_DIR/.cookie`, replacing any earlier one: the file
    /// is created with mode 0600 from the start (never readable by others, not even briefly),
    /// written, synced, then renamed over the old cookie, and the directory synced.
    ///
    /// # Errors
    /// [`CookieError::Write`] when randomness or the file system fails.
    pub fn create(data_dir: &Path) -> Result<RpcCookie, CookieError> {
        let path = cookie_path(data_dir);
        let failed = |source| CookieError::Write {
            path: path.clone(),
            source,
        };
        let mut bytes = [0u8; COOKIE_TOKEN_BYTES];
        salus_client::fill_random(&mut bytes)
            .map_err(|error| failed(std::io::Error::other(error)))?;
        let token = hex::encode(bytes);
        let staging = data_dir.join(format!("{COOKIE_FILE_NAME}.new"));
        // A staging file left by a crash between its creation and the rename.
        std::fs::remove_file(&staging)
            .or_else(|error| match error.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(error),
            })
            .map_err(failed)?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(COOKIE_FILE_MODE)
            .open(&staging)
            .map_err(failed)?;
        file.write_all(token.as_bytes()).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        drop(file);
        std::fs::rename(&staging, &path).map_err(failed)?;
        std::fs::File::open(data_dir)
            .and_then(|directory| directory.sync_all())
            .map_err(failed)?;
        Ok(RpcCookie { path, token })
    }

    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `presented` is this token, compared in constant time (a timing difference must
    /// not tell a caller how many leading characters it guessed right).
    pub fn matches(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        presented.len() == self.token.len() && bool::from(presented.ct_eq(self.token.as_bytes()))
    }

    /// Removes the file at a clean shutdown, if it still holds this token (best effort: a
    /// stale cookie is harmless, the next start replaces it).
    pub fn remove(&self) {
        if read_token(&self.path).is_ok_and(|token| token == self.token) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The token in a cookie file.
///
/// # Errors
/// [`CookieError::Read`] when the file cannot be read, [`CookieError::Malformed`] when it holds
/// no token.
pub fn read_token(path: &Path) -> Result<String, CookieError> {
    let text = std::fs::read_to_string(path).map_err(|source| CookieError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let token = text.trim();
    if token.len() != 2 * COOKIE_TOKEN_BYTES || !token.bytes().all(|byte| byte.is_ascii_hexdigit())
    {
        return Err(CookieError::Malformed {
            path: path.to_path_buf(),
        });
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_cookie_is_private_replaced_at_each_start_and_compared_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let first = RpcCookie::create(dir.path()).unwrap();
        let mode = std::fs::metadata(first.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, COOKIE_FILE_MODE);
        assert_eq!(read_token(first.path()).unwrap(), first.token());
        assert_eq!(first.token().len(), 2 * COOKIE_TOKEN_BYTES);

        let second = RpcCookie::create(dir.path()).unwrap();
        assert_ne!(first.token(), second.token());
        assert_eq!(read_token(second.path()).unwrap(), second.token());
        assert!(second.matches(second.token().as_bytes()));
        assert!(!second.matches(first.token().as_bytes()));
        assert!(!second.matches(&second.token().as_bytes()[1..]));
        assert!(!second.matches(b""));

        // The first node's removal leaves the second's cookie alone.
        first.remove();
        assert!(second.path().exists());
        second.remove();
        assert!(!second.path().exists());

        std::fs::write(dir.path().join(COOKIE_FILE_NAME), "not a token").unwrap();
        assert!(matches!(
            read_token(&cookie_path(dir.path())),
            Err(CookieError::Malformed { .. })
        ));
    }
}
