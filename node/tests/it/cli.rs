//! The `salus` command line against a running `salus dev`: keys, deploy and call a contract
//! with JSON arguments, dry runs, the ABI read from chain, queries, and errors that name the
//! problem.

use std::process::{Command, Output};

use crate::support::DevProcess;

/// `salus dev` mining every 100 ms.
fn start_dev_node() -> DevProcess {
    DevProcess::start(100)
}

fn salus(node: &DevProcess, args: &[&str]) -> Output {
    node.salus(args)
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn deploy_call_and_query_a_contract_through_the_cli() {
    let node = start_dev_node();
    let wasm = node.dir.path().join("counter.wasm");
    std::fs::write(&wasm, salus_contracts::COUNTER).unwrap();
    let wasm = wasm.to_str().unwrap();

    let abi = stdout(&salus(&node, &["abi", wasm]));
    assert!(abi.contains("\"contract\": \"Counter\""), "{abi}");

    let deployed = stdout(&salus(
        &node,
        &["tx", "deploy", "--from", "dev:1", wasm, "--args", "[10]"],
    ));
    let address = deployed
        .lines()
        .find_map(|line| line.strip_prefix("contract address "))
        .expect("deploy prints the address")
        .to_string();
    assert!(deployed.contains("\"status\": \"success\""), "{deployed}");

    let called = stdout(&salus(
        &node,
        &[
            "tx",
            "call",
            "--from",
            "dev:1",
            "--contract",
            &address,
            "--message",
            "increment",
            "--args",
            "{\"amount\": 5}",
        ],
    ));
    assert!(called.contains("\"result\": \"15\""), "{called}");
    assert!(called.contains("\"event\": \"Incremented\""), "{called}");

    let viewed = stdout(&salus(
        &node,
        &[
            "call",
            "--from",
            "dev:2",
            "--contract",
            &address,
            "--message",
            "get",
        ],
    ));
    assert!(viewed.contains("\"result\": \"15\""), "{viewed}");
    assert!(viewed.contains("storage_get"), "{viewed}");

    let events = stdout(&salus(&node, &["events", "--contract", &address]));
    assert!(
        events.contains("Incremented") && events.contains("\"total\":\"15\""),
        "{events}"
    );

    let on_chain = stdout(&salus(&node, &["abi", &address]));
    assert_eq!(
        on_chain.trim(),
        abi.trim(),
        "the ABI read from chain is the module's"
    );

    let account = stdout(&salus(&node, &["query", "account", &address]));
    assert!(account.contains("codeHash"), "{account}");

    // Bad JSON arguments: a client-side error naming the field, nothing submitted.
    let bad = salus(
        &node,
        &[
            "tx",
            "call",
            "--from",
            "dev:1",
            "--contract",
            &address,
            "--message",
            "increment",
            "--args",
            "[\"five\"]",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("`amount`"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let unknown = salus(
        &node,
        &[
            "tx",
            "call",
            "--from",
            "dev:1",
            "--contract",
            &address,
            "--message",
            "incrementt",
        ],
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no message `incrementt`"));

    // A reverted call exits non-zero and says why.
    let refused = salus(
        &node,
        &[
            "tx",
            "call",
            "--from",
            "dev:2",
            "--contract",
            &address,
            "--message",
            "reset",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("CounterError::NotOwner"));
}

/// A file holding the public dev mnemonic (mnemonics are not taken on the command line).
fn dev_mnemonic_file(node: &DevProcess) -> String {
    let path = node.dir.path().join("dev-mnemonic.txt");
    std::fs::write(
        &path,
        "test test test test test test test test test test test junk\n",
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn keys_are_created_imported_listed_and_private() {
    let node = start_dev_node();
    let created = stdout(&salus(
        &node,
        &["key", "new", "--name", "clinic", "--insecure-plaintext"],
    ));
    assert!(created.starts_with("clinic: 0x"), "{created}");
    let mnemonic = dev_mnemonic_file(&node);
    let imported = stdout(&salus(
        &node,
        &[
            "key",
            "import",
            "--name",
            "dev-one",
            "--mnemonic-file",
            &mnemonic,
            "--index",
            "1",
            "--insecure-plaintext",
        ],
    ));
    assert!(
        imported.contains("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        "{imported}"
    );
    let listed = stdout(&salus(&node, &["key", "list"]));
    assert!(
        listed.contains("clinic") && listed.contains("dev-one"),
        "{listed}"
    );
    let duplicate = salus(
        &node,
        &["key", "new", "--name", "clinic", "--insecure-plaintext"],
    );
    assert!(!duplicate.status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(node.dir.path().join("keys/clinic.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The imported key signs: a transfer from it (funded at genesis as dev account 1).
    let sent = stdout(&salus(
        &node,
        &[
            "tx",
            "transfer",
            "--from",
            "dev-one",
            "--to",
            "0x0000000000000000000000000000000000000042",
            "--amount",
            "7",
        ],
    ));
    assert!(sent.contains("\"status\": \"success\""), "{sent}");
}

#[test]
fn an_encrypted_key_signs_only_with_its_password() {
    let node = start_dev_node();
    let with_password = |args: &[&str], password: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_salus"));
        command
            .args(args)
            .env("SALUS_RPC", node.http_url())
            .env("SALUS_KEYS", node.dir.path().join("keys"))
            .env("RUST_LOG", "warn")
            .env_remove("SALUS_KEY_PASSWORD")
            .env_remove("SALUS_KEY_PASSWORD_FILE");
        if let Some(password) = password {
            command.env("SALUS_KEY_PASSWORD", password);
        }
        command.output().unwrap()
    };
    let mnemonic = dev_mnemonic_file(&node);
    // Encrypted by default: without a password (and no terminal to prompt on) nothing is stored.
    let import = [
        "key",
        "import",
        "--name",
        "sealed",
        "--mnemonic-file",
        &mnemonic,
        "--index",
        "2",
    ];
    let refused = with_password(&import, None);
    assert!(!refused.status.success());
    assert!(!node.dir.path().join("keys/sealed.key").exists());
    let imported = stdout(&with_password(&import, Some("correct horse")));
    assert!(
        imported.contains("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        "{imported}"
    );
    let file = std::fs::read_to_string(node.dir.path().join("keys/sealed.key")).unwrap();
    assert!(file.contains("xchacha20poly1305"), "{file}");
    assert!(!file.contains("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"));
    // Listing needs no password; signing does, and only the right one.
    let listed = stdout(&with_password(&["key", "list"], None));
    assert!(
        listed.contains("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        "{listed}"
    );
    let transfer = [
        "tx",
        "transfer",
        "--from",
        "sealed",
        "--to",
        "0x0000000000000000000000000000000000000043",
        "--amount",
        "9",
    ];
    let missing = with_password(&transfer, None);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("SALUS_KEY_PASSWORD"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let wrong = with_password(&transfer, Some("battery staple"));
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong password"));
    let sent = stdout(&with_password(&transfer, Some("correct horse")));
    assert!(sent.contains("\"status\": \"success\""), "{sent}");
}

#[test]
fn the_genesis_registry_is_usable_from_the_cli_with_enum_arguments() {
    let node = start_dev_node();
    let registry = salus_node::genesis::DEV_REGISTRY_ADDRESS.to_string();
    let authority = stdout(&salus(
        &node,
        &[
            "call",
            "--from",
            "dev:0",
            "--contract",
            &registry,
            "--message",
            "authority",
        ],
    ));
    assert!(
        authority.contains("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        "{authority}"
    );
    let pharmacy = "0x00000000000000000000000000000000000000a1";
    let args = format!(
        "[\"{pharmacy}\", [\"Dispenser\"], null, \"0614141000012\", null, \"0\", \"99999999999999\", \"0x{}\"]",
        "07".repeat(32)
    );
    let registered = stdout(&salus(
        &node,
        &[
            "tx",
            "call",
            "--from",
            "dev:0",
            "--contract",
            &registry,
            "--message",
            "register",
            "--args",
            &args,
        ],
    ));
    assert!(
        registered.contains("\"event\": \"Registered\""),
        "{registered}"
    );
    let active = stdout(&salus(
        &node,
        &[
            "call",
            "--from",
            "dev:3",
            "--contract",
            &registry,
            "--message",
            "is_active",
            "--args",
            &format!("[\"{pharmacy}\", \"Dispenser\", null]"),
        ],
    ));
    assert!(active.contains("\"result\": true"), "{active}");
    let not_authority = salus(
        &node,
        &[
            "tx",
            "call",
            "--from",
            "dev:3",
            "--contract",
            &registry,
            "--message",
            "suspend",
            "--args",
            &format!("[\"{pharmacy}\", \"0x{}\"]", "00".repeat(32)),
        ],
    );
    assert!(String::from_utf8_lossy(&not_authority.stderr).contains("RegistryError::NotAuthority"));
}
