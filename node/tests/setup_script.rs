//! Tests the set-up script's libclang decision (`scripts/lib/libclang.sh`, sourced by
//! `scripts/setup.sh`) on machines faked in a temporary directory: Debian 12's libclang packages
//! laid out file by file as they ship, `LIBCLANG_PATH`, `llvm-config` and `LD_LIBRARY_PATH`.
//! RocksDB's bindings need what the script accepts: bindgen loads libclang through clang-sys,
//! whose search the script follows. Also the pruning of the shared target directory's
//! incremental caches (`scripts/lib/target_dir.sh`).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// The multiarch library directory of Debian on x86-64.
const MULTIARCH: &str = "usr/lib/x86_64-linux-gnu";

/// A faked machine: a root directory holding the system's files, and the environment the
/// decision runs in (nothing of the real machine's libclang search paths is inherited).
struct Machine {
    dir: TempDir,
    env: Vec<(&'static str, String)>,
}

impl Machine {
    fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("root")).unwrap();
        fs::create_dir_all(dir.path().join("bin")).unwrap();
        Machine {
            dir,
            env: Vec::new(),
        }
    }

    /// The faked `/`.
    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// `path` (absolute, as on the faked machine) under the faked root.
    fn path(&self, path: &str) -> PathBuf {
        self.root().join(path.trim_start_matches('/'))
    }

    /// A shared library with an ELF header of class `class` (2: 64-bit, 1: 32-bit).
    fn library(&self, path: &str, class: u8) {
        let file = self.path(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        let mut header = vec![0x7f, b'E', b'L', b'F', class];
        header.resize(64, 0);
        fs::write(file, header).unwrap();
    }

    /// A symbolic link at `path` to `target` (relative, as Debian's are).
    fn link(&self, path: &str, target: &str) {
        let link = self.path(path);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(target, link).unwrap();
    }

    /// clang's builtin headers, as a resource directory holds them.
    fn headers(&self, include_directory: &str) {
        let directory = self.path(include_directory);
        fs::create_dir_all(&directory).unwrap();
        fs::write(directory.join("stddef.h"), "/* stddef.h */\n").unwrap();
        fs::write(directory.join("stdbool.h"), "/* stdbool.h */\n").unwrap();
    }

    /// An executable `llvm-config` outside the searched directories that reports `prefix`.
    fn llvm_config(&mut self, prefix: &Path) -> &mut Machine {
        let program = self.dir.path().join("bin/llvm-config");
        let script = format!("#!/bin/sh\necho '{}'\n", prefix.display());
        fs::write(&program, script).unwrap();
        let mut permissions = fs::metadata(&program).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        fs::set_permissions(&program, permissions).unwrap();
        self.set("LLVM_CONFIG_PATH", program.display().to_string())
    }

    fn set(&mut self, name: &'static str, value: String) -> &mut Machine {
        self.env.retain(|(n, _)| *n != name);
        self.env.push((name, value));
        self
    }

    /// Runs a function of the script under `set -euo pipefail` (as setup.sh does) with the faked
    /// root; returns its standard output and whether it succeeded.
    fn run(&self, function: &str) -> (String, bool) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/libclang.sh");
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(format!(
                "set -euo pipefail; source \"$1\"; {function} \"$2\""
            ))
            .arg("bash")
            .arg(script)
            .arg(self.root())
            .env_clear()
            // No sbin directory: no `ldconfig` (the decision must not need it), no real
            // `llvm-config` unless a case fakes one.
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display()),
            )
            .env(
                "LLVM_CONFIG_PATH",
                self.dir.path().join("no-llvm-config").display().to_string(),
            );
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.is_empty(), "{function} wrote to stderr: {stderr}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        (stdout.trim_end().to_owned(), output.status.success())
    }

    /// The decision: its first word (`ok`, `install`, `warn`, `error`) and the rest.
    fn decide(&self) -> (String, String) {
        let (line, succeeded) = self.run("libclang_decision");
        assert!(succeeded, "libclang_decision failed: {line}");
        let (action, detail) = line.split_once(' ').unwrap();
        (action.to_owned(), detail.to_owned())
    }

    /// The library clang-sys would load, if any.
    fn chosen(&self) -> Option<String> {
        let (path, found) = self.run("libclang_chosen");
        found.then_some(path)
    }

    /// `ok` with the library at `path` on the faked machine.
    fn assert_ok(&self, path: &str) {
        let expected = self.path(path).display().to_string();
        assert_eq!(self.decide(), ("ok".to_owned(), expected));
    }

    fn assert_action(&self, action: &str) -> String {
        let (decided, detail) = self.decide();
        assert_eq!(decided, action, "{detail}");
        detail
    }

    // Debian 12's packages, with the files they ship (`dpkg -L`).

    /// libclang-cpp14: the C++ library, which bindgen cannot use.
    fn libclang_cpp14(&self) {
        self.library("/usr/lib/llvm-14/lib/libclang-cpp.so.14", 2);
        self.link(
            &format!("/{MULTIARCH}/libclang-cpp.so.14"),
            "../llvm-14/lib/libclang-cpp.so.14",
        );
    }

    /// libclang1-14: the C library, with versioned names only and without builtin headers.
    fn libclang1_14(&self) {
        self.library(&format!("/{MULTIARCH}/libclang-14.so.14.0.6"), 2);
        self.link(
            &format!("/{MULTIARCH}/libclang-14.so.13"),
            "libclang-14.so.14.0.6",
        );
        self.link(
            &format!("/{MULTIARCH}/libclang-14.so.1"),
            "libclang-14.so.13",
        );
        self.link(
            "/usr/lib/llvm-14/lib/libclang-14.so.1",
            "../../x86_64-linux-gnu/libclang-14.so.1",
        );
        self.link("/usr/lib/llvm-14/lib/libclang.so.1", "libclang-14.so.1");
    }

    /// libclang-common-14-dev: the builtin headers (stddef.h, stdbool.h, ...).
    fn libclang_common_14_dev(&self) {
        self.headers("/usr/lib/llvm-14/lib/clang/14.0.6/include");
        self.link(
            "/usr/include/clang/14.0.6/include",
            "../../../lib/llvm-14/lib/clang/14.0.6/include",
        );
    }

    /// libclang-14-dev with what it depends on (libclang1-14, libclang-common-14-dev): what
    /// `apt-get install libclang-dev` brings on Debian 12.
    fn libclang_14_dev(&self) {
        self.libclang1_14();
        self.libclang_common_14_dev();
        self.link(
            "/usr/lib/llvm-14/lib/libclang.so",
            "../../x86_64-linux-gnu/libclang-14.so.1",
        );
        self.link(
            "/usr/lib/llvm-14/lib/libclang-14.so",
            "../../x86_64-linux-gnu/libclang-14.so.1",
        );
        self.link("/usr/lib/llvm-14/lib/libclang-14.0.6.so", "libclang-14.so");
        self.link(&format!("/{MULTIARCH}/libclang-14.so"), "libclang-14.so.1");
    }

    /// An LLVM release unpacked at `prefix`: lib/libclang.so and its resource directory.
    fn llvm_release(&self, prefix: &str, version: &str) {
        self.library(&format!("{prefix}/lib/libclang.so.{version}"), 2);
        self.link(
            &format!("{prefix}/lib/libclang.so"),
            &format!("libclang.so.{version}"),
        );
        self.headers(&format!("{prefix}/lib/clang/{version}/include"));
    }
}

#[test]
fn a_bare_machine_needs_libclang_dev() {
    let machine = Machine::new();
    machine.assert_action("install");
    assert_eq!(machine.chosen(), None);
}

/// The machine that broke: libclang-cpp.so.14 is listed by `ldconfig -p` and contains
/// "libclang", but it is not the C library bindgen loads (clang-sys skips `-cpp.` names).
#[test]
fn libclang_cpp_alone_is_not_libclang() {
    let machine = Machine::new();
    machine.libclang_cpp14();
    assert_eq!(machine.chosen(), None);
    machine.assert_action("install");
}

/// libclang1-14 alone: clang-sys loads its versioned names (feature `runtime`), but without
/// libclang-common-14-dev bindgen fails on "'stdbool.h' file not found".
#[test]
fn libclang1_alone_is_found_but_lacks_the_builtin_headers() {
    let machine = Machine::new();
    machine.libclang_cpp14();
    machine.libclang1_14();
    // clang-sys reads `libclang-14.so.14.0.6` as version 14.0.14.0, the highest of its names.
    let library = format!("/{MULTIARCH}/libclang-14.so.14.0.6");
    assert_eq!(
        machine.chosen(),
        Some(machine.path(&library).display().to_string())
    );
    let detail = machine.assert_action("install");
    assert!(detail.contains("builtin headers"), "{detail}");

    // With the headers (as the clang-14 package brings them), nothing is missing.
    machine.libclang_common_14_dev();
    machine.assert_ok(&library);
}

#[test]
fn libclang_dev_is_enough() {
    let machine = Machine::new();
    machine.libclang_cpp14();
    machine.libclang_14_dev();
    machine.assert_ok(&format!("/{MULTIARCH}/libclang-14.so.14.0.6"));
}

/// The library the decision rests on is the one clang-sys would load: the highest version.
#[test]
fn the_highest_version_is_the_one_that_counts() {
    let machine = Machine::new();
    machine.libclang_14_dev();
    machine.library("/usr/lib/llvm-16/lib/libclang-16.so.16.0.6", 2);
    machine.link("/usr/lib/llvm-16/lib/libclang.so", "libclang-16.so.16.0.6");
    // libclang-16's headers are not installed: libclang-14's do not serve it.
    machine.assert_action("install");
    machine.headers("/usr/lib/llvm-16/lib/clang/16/include");
    machine.assert_ok("/usr/lib/llvm-16/lib/libclang-16.so.16.0.6");
}

/// Only libraries of the machine's word size count, and a link must lead to a file.
#[test]
fn a_32_bit_or_dangling_libclang_does_not_count() {
    let machine = Machine::new();
    machine.library("/usr/lib/i386-linux-gnu/libclang-14.so.14.0.6", 1);
    machine.link(
        "/usr/lib/i386-linux-gnu/libclang-14.so.1",
        "libclang-14.so.14.0.6",
    );
    machine.link(
        "/usr/lib/llvm-14/lib/libclang.so",
        "../../x86_64-linux-gnu/libclang-14.so.1",
    );
    machine.libclang_common_14_dev();
    assert_eq!(machine.chosen(), None);
    machine.assert_action("install");
}

/// LIBCLANG_PATH, a directory or the library itself, is the only place clang-sys searches.
#[test]
fn libclang_path_is_the_only_place_searched() {
    let mut machine = Machine::new();
    machine.libclang_cpp14();
    machine.llvm_release("/opt/llvm-18", "18.1.8");

    // Not in a system directory: without LIBCLANG_PATH, clang-sys does not look there.
    machine.assert_action("install");

    let lib = machine.path("/opt/llvm-18/lib").display().to_string();
    machine.set("LIBCLANG_PATH", lib.clone());
    machine.assert_ok("/opt/llvm-18/lib/libclang.so.18.1.8");
    machine.set("LIBCLANG_PATH", format!("{lib}/"));
    machine.assert_ok("/opt/llvm-18/lib/libclang.so.18.1.8");
    machine.set("LIBCLANG_PATH", format!("{lib}/libclang.so"));
    machine.assert_ok("/opt/llvm-18/lib/libclang.so");

    // Pointing at another library, or at a directory without libclang, fails the build however
    // much is installed elsewhere: set-up stops, since installing cannot help.
    machine.libclang_14_dev();
    let cpp = machine.path(&format!("/{MULTIARCH}/libclang-cpp.so.14"));
    machine.set("LIBCLANG_PATH", cpp.display().to_string());
    let detail = machine.assert_action("error");
    assert!(detail.starts_with("LIBCLANG_PATH="), "{detail}");
    let empty = machine.path("/opt/empty");
    fs::create_dir_all(&empty).unwrap();
    machine.set("LIBCLANG_PATH", empty.display().to_string());
    machine.assert_action("error");
}

/// A libclang the user pointed at without headers beside it: set-up says so but goes on (the
/// user's LLVM may find its headers elsewhere), and installs nothing.
#[test]
fn libclang_path_without_headers_is_a_warning() {
    let mut machine = Machine::new();
    machine.library("/opt/custom/libclang.so", 2);
    machine.set(
        "LIBCLANG_PATH",
        machine.path("/opt/custom").display().to_string(),
    );
    let detail = machine.assert_action("warn");
    assert!(detail.contains("stdbool.h"), "{detail}");
}

/// `llvm-config --prefix` (or LLVM_CONFIG_PATH) and LD_LIBRARY_PATH lead to libraries outside
/// the system directories; a missing llvm-config is skipped, as clang-sys skips it.
#[test]
fn llvm_config_and_ld_library_path_are_searched() {
    let mut machine = Machine::new();
    machine.llvm_release("/opt/llvm-18", "18.1.8");
    machine.assert_action("install");

    machine.llvm_config(&machine.path("/opt/llvm-18"));
    machine.assert_ok("/opt/llvm-18/lib/libclang.so.18.1.8");

    let mut machine = Machine::new();
    machine.llvm_release("/opt/llvm-17", "17.0.6");
    let lib = machine.path("/opt/llvm-17/lib").display().to_string();
    machine.set("LD_LIBRARY_PATH", format!("/nonexistent::{lib}"));
    machine.assert_ok("/opt/llvm-17/lib/libclang.so.17.0.6");
}

/// `ldconfig -p` is not the test: one that lists a libclang.so does not make a libclang-cpp-only
/// machine pass (and none is on PATH in the other cases).
#[test]
fn ldconfig_is_not_consulted() {
    let machine = Machine::new();
    machine.libclang_cpp14();
    let ldconfig = machine.dir.path().join("bin/ldconfig");
    fs::write(
        &ldconfig,
        "#!/bin/sh\necho '\tlibclang.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libclang.so'\n",
    )
    .unwrap();
    let mut permissions = fs::metadata(&ldconfig).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    fs::set_permissions(&ldconfig, permissions).unwrap();
    machine.assert_action("install");
}

/// On the machine that built this test, clang-sys found a libclang for RocksDB's bindings, so
/// set-up must not ask to install one (it would run apt-get at every start).
#[test]
fn the_machine_that_built_rocksdb_needs_nothing() {
    let output = Command::new("bash")
        .arg("-c")
        .arg("set -euo pipefail; source \"$1\"; libclang_decision")
        .arg("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/libclang.sh"))
        .output()
        .unwrap();
    let line = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    assert!(line.starts_with("ok /"), "{line}");
}

/// Runs `prune_incremental TARGET LIMIT` of `scripts/lib/target_dir.sh` under `set -euo
/// pipefail`; returns its standard error and whether it succeeded.
fn prune(target: &Path, limit_gib: u32) -> (String, bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/target_dir.sh");
    let output = Command::new("bash")
        .arg("-c")
        .arg("set -euo pipefail; source \"$1\"; prune_incremental \"$2\" \"$3\"")
        .arg("bash")
        .arg(script)
        .arg(target)
        .arg(limit_gib.to_string())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

#[test]
fn incremental_caches_past_their_limit_are_dropped_and_the_rest_is_kept() {
    let target = tempfile::tempdir().unwrap();
    let incremental = target.path().join("debug/incremental/salus_node-1a2b");
    fs::create_dir_all(&incremental).unwrap();
    fs::write(incremental.join("query-cache.bin"), vec![7u8; 64 * 1024]).unwrap();
    let deps = target.path().join("debug/deps/librocksdb.rlib");
    fs::create_dir_all(deps.parent().unwrap()).unwrap();
    fs::write(&deps, b"dependency").unwrap();

    // Within the limit (a few KiB round up to 1 GiB, under 16): nothing is touched, silently.
    let (stderr, succeeded) = prune(target.path(), 16);
    assert!(succeeded && stderr.is_empty(), "{stderr}");
    assert!(incremental.exists());

    // Over the limit: the incremental caches go, the dependencies stay, and it says so.
    let (stderr, succeeded) = prune(target.path(), 0);
    assert!(succeeded, "{stderr}");
    assert!(stderr.contains("dropping"), "{stderr}");
    assert!(!target.path().join("debug/incremental").exists());
    assert!(deps.exists());

    // A target directory without incremental caches (a fresh machine) is fine.
    let (stderr, succeeded) = prune(target.path(), 0);
    assert!(succeeded && stderr.is_empty(), "{stderr}");
}
