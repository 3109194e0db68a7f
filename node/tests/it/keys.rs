//! `salus key` on the real binary, without a node: keys are encrypted unless asked otherwise,
//! files and their directory are private, Ethereum keystore v3 files import (the Web3 Secret
//! Storage test vectors) and export, altered or costly keystores are refused, and no private key
//! or mnemonic is taken as a command-line argument.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use salus_primitives::keys::DEV_MNEMONIC;
use tempfile::TempDir;

/// The private key and address of the Web3 Secret Storage test vectors (password
/// "testpassword").
const VECTOR_SECRET: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
const VECTOR_ADDRESS: &str = "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b";

/// The Web3 Secret Storage Definition's PBKDF2-SHA-256 test vector.
const PBKDF2_VECTOR: &str =
    include_str!("../../../sdk/keyfile/tests/data/keystore/web3_pbkdf2.json");

/// The Web3 Secret Storage Definition's scrypt test vector (as the Ethereum wiki gave it and geth
/// tests it).
const SCRYPT_VECTOR: &str =
    include_str!("../../../sdk/keyfile/tests/data/keystore/web3_scrypt.json");

/// Dev account 0 of the public mnemonic (funded on dev chains; never a real key).
const DEV_ZERO_SECRET: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const DEV_ZERO_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// A key directory of its own, and the `salus` binary run against it.
struct KeyHome {
    dir: TempDir,
}

impl KeyHome {
    fn new() -> KeyHome {
        KeyHome {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    fn key_file(&self, name: &str) -> PathBuf {
        self.keys().join(format!("{name}.key"))
    }

    /// A file in the test directory (outside the key directory).
    fn write(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// Runs `salus` with no password in the environment; `stdin` (a pipe, never a terminal) is
    /// given or empty.
    fn salus(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_salus"))
            .args(args)
            .env("SALUS_KEYS", self.keys())
            .env("RUST_LOG", "warn")
            .env_remove("SALUS_KEY_PASSWORD")
            .env_remove("SALUS_KEY_PASSWORD_FILE")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            // Dropping the handle closes the pipe.
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// `salus key import NAME` from an Ethereum keystore file, its password on stdin.
    fn import_keystore(&self, name: &str, keystore: &str, password: &str) -> Output {
        self.salus(
            &[
                "key",
                "import",
                "--name",
                name,
                "--keystore",
                keystore,
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        )
    }

    /// `salus key export NAME` to an Ethereum keystore file, the password on stdin.
    fn export_keystore(&self, name: &str, keystore: &str, password: &str) -> Output {
        self.salus(
            &[
                "key",
                "export",
                name,
                "--keystore",
                keystore,
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        )
    }
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn failed(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The key a stored key file opens to, with `password` when it is encrypted.
fn stored_secret(path: &Path, password: Option<&str>) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let key = salus_node::keystore::open(&text, password.map(str::as_bytes)).unwrap();
    hex::encode(key.to_bytes())
}

#[test]
fn a_new_key_is_encrypted_unless_plaintext_is_asked_for() {
    let home = KeyHome::new();
    let refused = failed(&home.salus(&["key", "new", "--name", "clinic"], None));
    assert!(
        refused.contains("not a terminal")
            && refused.contains("--password-stdin")
            && refused.contains("--insecure-plaintext"),
        "{refused}"
    );
    assert!(!home.key_file("clinic").exists());

    let created = succeeded(&home.salus(
        &["key", "new", "--name", "clinic", "--password-stdin"],
        Some("correct horse\n"),
    ));
    assert!(created.starts_with("clinic: 0x"), "{created}");
    let sealed = std::fs::read_to_string(home.key_file("clinic")).unwrap();
    assert!(
        sealed.contains("\"cipher\": \"xchacha20poly1305\""),
        "{sealed}"
    );
    let secret = stored_secret(&home.key_file("clinic"), Some("correct horse"));
    assert!(!sealed.contains(&secret));

    succeeded(&home.salus(
        &["key", "new", "--name", "script", "--insecure-plaintext"],
        None,
    ));
    let plain = std::fs::read_to_string(home.key_file("script")).unwrap();
    assert!(
        plain.starts_with("0x") && plain.trim().len() == 66,
        "{plain}"
    );

    #[cfg(unix)]
    {
        assert_eq!(mode(&home.keys()), 0o700);
        assert_eq!(mode(&home.key_file("clinic")), 0o600);
        assert_eq!(mode(&home.key_file("script")), 0o600);
    }
    let listed = succeeded(&home.salus(&["key", "list"], None));
    assert!(
        listed.contains("clinic") && listed.contains("script"),
        "{listed}"
    );
    // An empty password is no password.
    let empty = failed(&home.salus(
        &["key", "new", "--name", "empty", "--password-stdin"],
        Some("\n"),
    ));
    assert!(empty.contains("empty"), "{empty}");
}

#[test]
fn the_web3_secret_storage_vectors_import_with_their_address() {
    let home = KeyHome::new();
    for (name, vector) in [("pbkdf2", PBKDF2_VECTOR), ("scrypt", SCRYPT_VECTOR)] {
        let file = home.write(&format!("{name}.json"), vector);
        let imported = succeeded(&home.import_keystore(name, &file, "testpassword"));
        assert!(imported.contains(VECTOR_ADDRESS), "{imported}");
        // The key file keeps the keystore's password.
        assert_eq!(
            stored_secret(&home.key_file(name), Some("testpassword")),
            VECTOR_SECRET
        );
    }
    let file = home.write("plain.json", PBKDF2_VECTOR);
    succeeded(&home.salus(
        &[
            "key",
            "import",
            "--name",
            "plain",
            "--keystore",
            &file,
            "--password-stdin",
            "--insecure-plaintext",
        ],
        Some("testpassword\n"),
    ));
    assert_eq!(stored_secret(&home.key_file("plain"), None), VECTOR_SECRET);

    let no_password = failed(&home.salus(
        &["key", "import", "--name", "wrong", "--keystore", &file],
        None,
    ));
    assert!(
        no_password.contains("not a terminal") && no_password.contains("--password-stdin"),
        "{no_password}"
    );
    let wrong = failed(&home.import_keystore("wrong", &file, "not the password"));
    assert!(wrong.contains("wrong password"), "{wrong}");
    assert!(!home.key_file("wrong").exists());
}

#[test]
fn an_exported_keystore_imports_back_to_the_same_key() {
    let home = KeyHome::new();
    let secret_file = home.write("secret.txt", &format!("0x{DEV_ZERO_SECRET}\n"));
    succeeded(&home.salus(
        &[
            "key",
            "import",
            "--name",
            "original",
            "--private-key-file",
            &secret_file,
            "--password-stdin",
        ],
        Some("first password\n"),
    ));
    let out = home.dir.path().join("original.json");
    let out_arg = out.to_str().unwrap();
    // Exporting an encrypted key needs its password, which then seals the keystore too.
    let wrong = failed(&home.export_keystore("original", out_arg, "another"));
    assert!(wrong.contains("wrong password"), "{wrong}");
    assert!(!out.exists());
    let exported = succeeded(&home.export_keystore("original", out_arg, "first password"));
    assert!(exported.contains(DEV_ZERO_ADDRESS), "{exported}");
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["version"], 3);
    assert_eq!(json["address"], DEV_ZERO_ADDRESS[2..].to_lowercase());
    assert_eq!(json["crypto"]["cipher"], "aes-128-ctr");
    assert_eq!(json["crypto"]["kdf"], "scrypt");
    assert!(
        !std::fs::read_to_string(&out)
            .unwrap()
            .contains(DEV_ZERO_SECRET)
    );
    // An existing file is never overwritten.
    let again = failed(&home.export_keystore("original", out_arg, "first password"));
    assert!(again.contains("exists"), "{again}");

    let imported = succeeded(&home.import_keystore("back", out_arg, "first password"));
    assert!(imported.contains(DEV_ZERO_ADDRESS), "{imported}");
    assert_eq!(
        stored_secret(&home.key_file("back"), Some("first password")),
        DEV_ZERO_SECRET
    );

    // A plaintext key is exported under a new password.
    succeeded(&home.salus(
        &[
            "key",
            "import",
            "--name",
            "loose",
            "--private-key-file",
            &secret_file,
            "--insecure-plaintext",
        ],
        None,
    ));
    let loose_out = home.dir.path().join("loose.json");
    succeeded(&home.export_keystore("loose", loose_out.to_str().unwrap(), "new password"));
    let text = std::fs::read_to_string(&loose_out).unwrap();
    let key = salus_node::keystore::ethereum::decrypt(&text, b"new password").unwrap();
    assert_eq!(hex::encode(key.to_bytes()), DEV_ZERO_SECRET);
}

#[test]
fn a_tampered_keystore_is_refused_by_its_mac() {
    let home = KeyHome::new();
    let tampered = PBKDF2_VECTOR.replace(
        "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
        "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa47",
    );
    let file = home.write("tampered.json", &tampered);
    let refused = failed(&home.import_keystore("tampered", &file, "testpassword"));
    assert!(refused.contains("MAC does not match"), "{refused}");
    assert!(!home.key_file("tampered").exists());
}

#[test]
fn a_keystore_demanding_a_huge_scrypt_cost_is_refused_before_any_work() {
    let home = KeyHome::new();
    // n = 2^30 would need 128 GiB (128 · n · r) and hours: the limit refuses it before deriving.
    let costly = SCRYPT_VECTOR.replace("\"n\": 262144", "\"n\": 1073741824");
    let file = home.write("costly.json", &costly);
    let refused = failed(&home.import_keystore("costly", &file, "testpassword"));
    assert!(
        refused.contains("too costly") && refused.contains("refused before deriving"),
        "{refused}"
    );
    assert!(!home.key_file("costly").exists());
}

#[test]
fn private_keys_and_mnemonics_are_not_taken_as_arguments() {
    let home = KeyHome::new();
    for args in [
        vec![
            "key",
            "import",
            "--name",
            "argv",
            "--private-key",
            DEV_ZERO_SECRET,
            "--insecure-plaintext",
        ],
        vec![
            "key",
            "import",
            "--name",
            "argv",
            "--mnemonic",
            DEV_MNEMONIC,
            "--insecure-plaintext",
        ],
        vec!["key", "derive", "--mnemonic", DEV_MNEMONIC],
    ] {
        let refused = failed(&home.salus(&args, None));
        assert!(
            refused.contains("not taken on the command line"),
            "{args:?}: {refused}"
        );
    }
    assert!(!home.key_file("argv").exists());
    let private_key = format!("0x{DEV_ZERO_SECRET}");
    let refused = failed(&home.salus(
        &[
            "tx",
            "transfer",
            "--from",
            &private_key,
            "--to",
            "0x0000000000000000000000000000000000000042",
            "--amount",
            "1",
        ],
        None,
    ));
    assert!(refused.contains("does not take private keys"), "{refused}");

    // From stdin instead: a key, a mnemonic.
    let imported = succeeded(&home.salus(
        &[
            "key",
            "import",
            "--name",
            "piped",
            "--private-key-file",
            "-",
            "--insecure-plaintext",
        ],
        Some(&format!("{private_key}\n")),
    ));
    assert!(imported.contains(DEV_ZERO_ADDRESS), "{imported}");
    let derived = succeeded(&home.salus(
        &["key", "derive", "--mnemonic-file", "-", "--index", "1"],
        Some(&format!("{DEV_MNEMONIC}\n")),
    ));
    assert_eq!(derived.trim(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    // stdin carries one secret only.
    let both = failed(&home.salus(
        &[
            "key",
            "import",
            "--name",
            "both",
            "--private-key-file",
            "-",
            "--password-stdin",
        ],
        Some(&format!("{private_key}\npassword\n")),
    ));
    assert!(both.contains("not both"), "{both}");
}

#[test]
fn a_pseudonym_is_the_wallets_own_per_relationship_and_never_its_address() {
    let home = KeyHome::new();
    let chain = "0x6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e";
    let hospital = "0x1111111111111111111111111111111111111111";
    let payer = "0x2222222222222222222222222222222222222222";
    let pseudonym = |counterparty: &str, kind: &str, episode: &str| -> String {
        let output = home.salus(
            &[
                "key",
                "pseudonym",
                "dev:3",
                "--counterparty",
                counterparty,
                "--kind",
                kind,
                "--episode",
                episode,
                "--chain",
                chain,
            ],
            None,
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let at_hospital = pseudonym(hospital, "custodian", "0");
    // The same as the library derives from the same key.
    let expected = salus_client::derive_pseudonym(
        &salus_primitives::keys::derive_key(DEV_MNEMONIC, 3).unwrap(),
        salus_client::Relationship {
            chain: chain.parse().unwrap(),
            counterparty: hospital.parse().unwrap(),
            kind: salus_client::RelationshipKind::Custodian,
            episode: 0,
        },
    );
    let first_line = at_hospital.lines().next().unwrap();
    assert_eq!(
        first_line,
        format!("pseudonym       {}", expected.address())
    );
    assert!(at_hospital.contains(&hex::encode(expected.encryption_public_key())));
    assert!(!at_hospital.contains("member salt"), "{at_hospital}");
    // Deterministic, and different for every other relationship; never the wallet's address.
    assert_eq!(pseudonym(hospital, "custodian", "0"), at_hospital);
    let at_payer = pseudonym(payer, "payer", "0");
    assert!(at_payer.contains("member salt"), "{at_payer}");
    let next_episode = pseudonym(hospital, "custodian", "1");
    let addresses: Vec<String> = [&at_hospital, &at_payer, &next_episode]
        .iter()
        .map(|out| out.lines().next().unwrap().to_string())
        .collect();
    assert_ne!(addresses[0], addresses[1]);
    assert_ne!(addresses[0], addresses[2]);
    let wallet = salus_primitives::keys::derive_key(DEV_MNEMONIC, 3)
        .unwrap()
        .address()
        .to_string();
    assert!(addresses.iter().all(|line| !line.contains(&wallet)));
    // An unknown kind is refused by name.
    let refused = home.salus(
        &[
            "key",
            "pseudonym",
            "dev:3",
            "--counterparty",
            hospital,
            "--kind",
            "pharmacy",
        ],
        None,
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pharmacy"));
}
