//! `salus key` and the signing keys of the other commands: key files in a directory only their
//! owner can enter (0700; files 0600, synced), encrypted unless `--insecure-plaintext` says
//! otherwise, imported from and exported to Ethereum keystore v3 files.
//!
//! Passwords, private keys and mnemonics are read from a prompt, a file or stdin, never from the
//! command line, which every local user can read (`/proc/PID/cmdline`); only the public dev keys
//! (`dev:N`) are named there. What is read is held in buffers wiped when dropped.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use salus_client::fill_random;
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{Address, SecretKey};
use zeroize::Zeroizing;

use crate::keystore::{self, KeyFileError, ethereum};

/// How a new key file is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Sealed under a password (scrypt + XChaCha20-Poly1305): the default.
    Encrypted,
    /// Hex in the clear: whoever reads the file can sign (`--insecure-plaintext`).
    InsecurePlaintext,
}

/// Where a password comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordInput {
    /// The first line of stdin (`--password-stdin`).
    Stdin,
    /// `SALUS_KEY_PASSWORD_FILE` (its first line), else `SALUS_KEY_PASSWORD`, else a prompt when
    /// stdin is a terminal.
    EnvironmentOrPrompt,
}

/// What `salus key import` reads; a path of `-` is stdin (a hidden prompt on a terminal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportSource {
    /// A file holding a hex private key (with or without 0x).
    PrivateKeyFile(PathBuf),
    /// A file holding a BIP-39 mnemonic, and the account index on m/44'/60'/0'/0/INDEX.
    MnemonicFile {
        /// The file.
        path: PathBuf,
        /// The account index.
        index: u32,
    },
    /// An Ethereum keystore v3 file, opened with the password, which then also seals the new
    /// key file (unless it is stored in plaintext).
    Keystore(PathBuf),
}

/// What a command line that carried a private key or mnemonic is told.
pub const SECRET_ON_COMMAND_LINE: &str = "private keys and mnemonics are not taken on the \
     command line, where every local user can read them: put it in a file only you can read \
     and give --private-key-file FILE or --mnemonic-file FILE (or `-` to read stdin, a hidden \
     prompt on a terminal)";

/// Where key files live: `$SALUS_KEYS`, else `~/.salus/keys`.
///
/// # Errors
/// When neither `SALUS_KEYS` nor `HOME` is set.
pub fn key_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SALUS_KEYS") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("HOME is not set; set SALUS_KEYS")?;
    Ok(PathBuf::from(home).join(".salus").join("keys"))
}

/// Resolves `--from`: `dev:N` (the public dev mnemonic's key N) or a key name in the key
/// directory, opened with its password when encrypted (`SALUS_KEY_PASSWORD_FILE`,
/// `SALUS_KEY_PASSWORD`, or a prompt when stdin is a terminal). Private keys are refused.
///
/// # Errors
/// When the key cannot be found, read or opened, or `from` is a private key.
pub fn signer(from: &str) -> anyhow::Result<SecretKey> {
    if let Some(key) = dev_key(from)? {
        return Ok(key);
    }
    let (path, text) = read_named_key(from)?;
    let password = if keystore::is_encrypted(&text) {
        Some(read_password(
            PasswordInput::EnvironmentOrPrompt,
            &format!("Password of key `{from}`"),
            Confirmation::No,
        )?)
    } else {
        None
    };
    keystore::open(&text, password.as_ref().map(|password| password.as_bytes()))
        .with_context(|| format!("{}", path.display()))
}

/// The address `--from` names, without opening an encrypted key (no password needed).
///
/// # Errors
/// As [`signer`], less the password.
pub fn signer_address(from: &str) -> anyhow::Result<Address> {
    if let Some(key) = dev_key(from)? {
        return Ok(key.address());
    }
    let (path, text) = read_named_key(from)?;
    keystore::address(&text).with_context(|| format!("{}", path.display()))
}

/// `salus key new`: a random key, stored under `name`.
///
/// # Errors
/// When the name is taken or invalid, no password can be had, or the file cannot be written.
pub fn new_key(
    name: &str,
    protection: Protection,
    input: PasswordInput,
) -> anyhow::Result<(Address, PathBuf)> {
    let path = new_key_path(name)?;
    let key = random_key()?;
    let password = new_key_password(name, protection, input)?;
    save_key(&path, &key, password.as_ref().map(|p| p.as_bytes()))?;
    Ok((key.address(), path))
}

/// Stores a key derived elsewhere (a pseudonym's, `salus key pseudonym --save`) under `name`.
///
/// # Errors
/// When the name is taken or invalid, no password can be had, or the file cannot be written.
pub fn save_named_key(
    name: &str,
    key: &SecretKey,
    protection: Protection,
    input: PasswordInput,
) -> anyhow::Result<PathBuf> {
    let path = new_key_path(name)?;
    let password = new_key_password(name, protection, input)?;
    save_key(&path, key, password.as_ref().map(|p| p.as_bytes()))?;
    Ok(path)
}

/// `salus key import`: a key from a private key file, a mnemonic file or an Ethereum keystore,
/// stored under `name`.
///
/// # Errors
/// When the name is taken or invalid, the source cannot be read or opened, no password can be
/// had, or the file cannot be written.
pub fn import_key(
    name: &str,
    source: &ImportSource,
    protection: Protection,
    input: PasswordInput,
) -> anyhow::Result<(Address, PathBuf)> {
    let path = new_key_path(name)?;
    let (key, password) = match source {
        ImportSource::PrivateKeyFile(file) => {
            check_one_secret_on_stdin(file, input)?;
            let text = read_secret_input(file, "Private key (hex)")?;
            let key = keystore::parse_private_key(&text)
                .with_context(|| format!("the private key in {}", file.display()))?;
            (key, new_key_password(name, protection, input)?)
        }
        ImportSource::MnemonicFile { path: file, index } => {
            check_one_secret_on_stdin(file, input)?;
            let key = mnemonic_key(file, *index)?;
            (key, new_key_password(name, protection, input)?)
        }
        ImportSource::Keystore(file) => {
            let text = keystore::read_secret_file(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let password =
                key_command_password(input, "Password of the keystore file", Confirmation::No, "")?;
            let key = ethereum::decrypt(&text, password.as_bytes())
                .with_context(|| format!("{}", file.display()))?;
            let kept = (protection == Protection::Encrypted).then_some(password);
            (key, kept)
        }
    };
    save_key(&path, &key, password.as_ref().map(|p| p.as_bytes()))?;
    Ok((key.address(), path))
}

/// `salus key export`: writes key `name` to `out` as an Ethereum keystore v3 file (mode 0600),
/// encrypted under the key's own password, or under a new one for a plaintext key.
///
/// # Errors
/// When the key cannot be opened, `out` exists, or no password can be had.
pub fn export_key(name: &str, out: &Path, input: PasswordInput) -> anyhow::Result<Address> {
    if out.exists() {
        bail!("{} exists: name a new file", out.display());
    }
    let (path, text) = read_named_key(name)?;
    let (key, password) = if keystore::is_encrypted(&text) {
        let password = key_command_password(
            input,
            &format!("Password of key `{name}`"),
            Confirmation::No,
            "",
        )?;
        let key = keystore::open(&text, Some(password.as_bytes()))
            .with_context(|| format!("{}", path.display()))?;
        (key, password)
    } else {
        let key = keystore::open(&text, None).with_context(|| format!("{}", path.display()))?;
        let password = key_command_password(
            input,
            "Password for the keystore file",
            Confirmation::Twice,
            "",
        )?;
        (key, password)
    };
    let mut randomness = ethereum::ExportRandomness {
        salt: [0; 32],
        iv: [0; 16],
        id: [0; 16],
    };
    fill_random(&mut randomness.salt)?;
    fill_random(&mut randomness.iv)?;
    fill_random(&mut randomness.id)?;
    let file = ethereum::encrypt(&key, password.as_bytes(), &randomness);
    keystore::write_private_file(out, file.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(key.address())
}

/// `salus key derive`: the address at `index` of the mnemonic in `file` (`-`: stdin).
///
/// # Errors
/// When the file cannot be read or holds no valid mnemonic.
pub fn derive_address(file: &Path, index: u32) -> anyhow::Result<Address> {
    Ok(mnemonic_key(file, index)?.address())
}

/// Every key file: name and address (encrypted files need no password for this).
///
/// # Errors
/// If the directory cannot be read.
pub fn list_keys() -> anyhow::Result<Vec<(String, Address)>> {
    let dir = key_dir()?;
    let mut keys = Vec::new();
    if !dir.exists() {
        return Ok(keys);
    }
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| path.extension().is_some_and(|e| e == "key"))
        else {
            continue;
        };
        let text = keystore::read_secret_file(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let address = keystore::address(&text).with_context(|| format!("{}", path.display()))?;
        keys.push((name.to_string(), address));
    }
    keys.sort();
    Ok(keys)
}

/// Whether a password typed at a prompt is asked for twice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Confirmation {
    /// Opening something: a typo fails to open it.
    No,
    /// Sealing something new: a typo would lock it away, so it is typed twice.
    Twice,
}

/// A password from `input`; `label` is the prompt.
fn read_password(
    input: PasswordInput,
    label: &str,
    confirmation: Confirmation,
) -> anyhow::Result<Zeroizing<String>> {
    let password = match input {
        PasswordInput::Stdin => first_line(
            &keystore::read_secret(std::io::stdin().lock())
                .context("reading the password from stdin")?,
        ),
        PasswordInput::EnvironmentOrPrompt => match password_from_environment()? {
            Some(password) => password,
            None if std::io::stdin().is_terminal() => prompt_password(label, confirmation)?,
            None => bail!(KeyFileError::PasswordRequired),
        },
    };
    if password.is_empty() {
        bail!("the key password is empty");
    }
    Ok(password)
}

/// The first line of the file named by `SALUS_KEY_PASSWORD_FILE`, else `SALUS_KEY_PASSWORD`.
fn password_from_environment() -> anyhow::Result<Option<Zeroizing<String>>> {
    if let Some(path) = std::env::var_os("SALUS_KEY_PASSWORD_FILE") {
        let text = keystore::read_secret_file(Path::new(&path))
            .with_context(|| format!("reading SALUS_KEY_PASSWORD_FILE {}", path.display()))?;
        return Ok(Some(first_line(&text)));
    }
    Ok(std::env::var("SALUS_KEY_PASSWORD").ok().map(Zeroizing::new))
}

fn prompt_password(label: &str, confirmation: Confirmation) -> anyhow::Result<Zeroizing<String>> {
    let first = Zeroizing::new(
        rpassword::prompt_password(format!("{label}: ")).context("reading the password")?,
    );
    if confirmation == Confirmation::Twice {
        let second = Zeroizing::new(
            rpassword::prompt_password("Repeat the password: ").context("reading the password")?,
        );
        if *first != *second {
            bail!("the two passwords differ");
        }
    }
    Ok(first)
}

/// The password that seals a new key file, or `None` for a plaintext one.
fn new_key_password(
    name: &str,
    protection: Protection,
    input: PasswordInput,
) -> anyhow::Result<Option<Zeroizing<String>>> {
    if protection == Protection::InsecurePlaintext {
        return Ok(None);
    }
    key_command_password(
        input,
        &format!("Password for key `{name}`"),
        Confirmation::Twice,
        "; or store the key unencrypted with --insecure-plaintext",
    )
    .map(Some)
}

/// [`read_password`] for the `salus key` commands, whose missing password names the ways to give
/// one, `--password-stdin` among them, then `more_hint`.
fn key_command_password(
    input: PasswordInput,
    label: &str,
    confirmation: Confirmation,
    more_hint: &str,
) -> anyhow::Result<Zeroizing<String>> {
    read_password(input, label, confirmation).map_err(|error| {
        if matches!(
            error.downcast_ref::<KeyFileError>(),
            Some(KeyFileError::PasswordRequired)
        ) {
            anyhow::anyhow!(
                "{label}: none given, and stdin is not a terminal to prompt for one; give it with \
                 --password-stdin, SALUS_KEY_PASSWORD_FILE or SALUS_KEY_PASSWORD{more_hint}"
            )
        } else {
            error
        }
    })
}

fn first_line(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.lines().next().unwrap_or_default().to_string())
}

/// Reads secret text from a file, or from stdin for `-` (a hidden prompt on a terminal).
fn read_secret_input(source: &Path, label: &str) -> anyhow::Result<Zeroizing<String>> {
    if source != Path::new("-") {
        return keystore::read_secret_file(source)
            .with_context(|| format!("reading {}", source.display()));
    }
    if std::io::stdin().is_terminal() {
        return Ok(Zeroizing::new(
            rpassword::prompt_password(format!("{label}: ")).context("reading stdin")?,
        ));
    }
    keystore::read_secret(std::io::stdin().lock()).context("reading stdin")
}

fn check_one_secret_on_stdin(source: &Path, input: PasswordInput) -> anyhow::Result<()> {
    if source == Path::new("-") && input == PasswordInput::Stdin {
        bail!("stdin carries either the key or the password, not both: put one of them in a file");
    }
    Ok(())
}

fn mnemonic_key(file: &Path, index: u32) -> anyhow::Result<SecretKey> {
    let text = read_secret_input(file, "Mnemonic")?;
    let words = Zeroizing::new(text.split_whitespace().collect::<Vec<_>>().join(" "));
    Ok(derive_key(&words, index)?)
}

/// `dev:N`: the public dev mnemonic's key N; a private key is refused; anything else is `None`.
fn dev_key(from: &str) -> anyhow::Result<Option<SecretKey>> {
    if let Some(index) = from.strip_prefix("dev:") {
        let index: u32 = index.parse().context("dev:N needs a number")?;
        return Ok(Some(derive_key(DEV_MNEMONIC, index)?));
    }
    if from.starts_with("0x") && from.len() == 66 {
        bail!(
            "--from does not take private keys: a command line is visible to every local user. \
             Import the key once (salus key import --name NAME --private-key-file FILE) and sign \
             with --from NAME"
        );
    }
    Ok(None)
}

fn read_named_key(name: &str) -> anyhow::Result<(PathBuf, Zeroizing<String>)> {
    check_key_name(name)?;
    let path = key_dir()?.join(format!("{name}.key"));
    let text = keystore::read_secret_file(&path)
        .with_context(|| format!("no key `{name}` ({})", path.display()))?;
    Ok((path, text))
}

fn check_key_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("`{name}` is not a key name: key names use letters, digits, '-' and '_'");
    }
    Ok(())
}

/// The path of a new key file, in the key directory (created 0700 when missing); refused when
/// the name is invalid or taken, before any password is asked for.
fn new_key_path(name: &str) -> anyhow::Result<PathBuf> {
    check_key_name(name)?;
    let dir = key_dir()?;
    keystore::create_private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if !keystore::is_owner_only(&dir)? {
        eprintln!(
            "warning: other users can enter the key directory {}; `chmod 700` it",
            dir.display()
        );
    }
    let path = dir.join(format!("{name}.key"));
    if path.exists() {
        bail!("key `{name}` already exists ({})", path.display());
    }
    Ok(path)
}

/// Writes a key file (mode 0600, synced), sealed under `password` or in plaintext for `None`.
fn save_key(path: &Path, key: &SecretKey, password: Option<&[u8]>) -> anyhow::Result<()> {
    let text = match password {
        Some(password) => {
            let mut salt = [0u8; 32];
            let mut nonce = [0u8; 24];
            fill_random(&mut salt)?;
            fill_random(&mut nonce)?;
            Zeroizing::new(keystore::encrypt(key, password, salt, nonce))
        }
        None => keystore::plain(key),
    };
    keystore::write_private_file(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn random_key() -> anyhow::Result<SecretKey> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    loop {
        fill_random(&mut bytes[..])?;
        if let Some(key) = SecretKey::from_bytes(&bytes) {
            return Ok(key);
        }
    }
}
