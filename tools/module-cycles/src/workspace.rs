//! The crates of a Cargo workspace (or of one package), found from its manifests: for every
//! member, the root file of each target (library, binaries, tests, benchmarks, examples, build
//! script), declared or found where Cargo looks by default.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::cycles::{Cycle, module_cycles};
use crate::module_tree::{FileSystem, ModuleTree, ReadError};

/// Why a workspace could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A manifest that cannot be read or parsed.
    #[error("{}: {message}", .manifest.display())]
    Manifest {
        /// The manifest.
        manifest: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A crate whose module tree cannot be read.
    #[error("{krate}: {source}")]
    Crate {
        /// The crate target.
        krate: String,
        /// What went wrong.
        source: ReadError,
    },
}

/// One crate of the workspace: a target of a member package.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CrateRoot {
    /// The package's name.
    pub package: String,
    /// The root file of the target.
    pub root_file: PathBuf,
}

impl fmt::Display for CrateRoot {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({})", self.package, self.root_file.display())
    }
}

/// The outcome of checking every crate of a workspace.
#[derive(Debug, Default)]
pub struct WorkspaceReport {
    /// Every crate read.
    pub crates: Vec<CrateRoot>,
    /// The cycles found, by crate.
    pub cycles: Vec<(CrateRoot, Cycle)>,
}

impl fmt::Display for WorkspaceReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (krate, cycle) in &self.cycles {
            write!(formatter, "{krate}: {cycle}")?;
        }
        write!(
            formatter,
            "{} crates checked, {} module cycles",
            self.crates.len(),
            self.cycles.len()
        )
    }
}

/// Reads every crate of the workspace whose root manifest is in `workspace_dir` and finds the
/// cycles between sibling modules of each.
///
/// # Errors
///
/// A manifest or a source file that cannot be read or parsed.
pub fn check_workspace(workspace_dir: &Path) -> Result<WorkspaceReport, WorkspaceError> {
    let mut report = WorkspaceReport::default();
    for krate in workspace_crates(workspace_dir)? {
        let tree = read_crate(workspace_dir, &krate)?;
        for cycle in module_cycles(&tree) {
            report.cycles.push((krate.clone(), cycle));
        }
        report.crates.push(krate);
    }
    Ok(report)
}

/// The module tree of one crate of the workspace, its files named relative to `workspace_dir`.
///
/// # Errors
///
/// A source file that cannot be read or parsed, or a module without a file.
pub fn read_crate(workspace_dir: &Path, krate: &CrateRoot) -> Result<ModuleTree, WorkspaceError> {
    ModuleTree::read(&krate.root_file, &FileSystem::under(workspace_dir)).map_err(|source| {
        WorkspaceError::Crate {
            krate: krate.to_string(),
            source,
        }
    })
}

/// Every target of every member of the workspace, in member order, with root files named
/// relative to `workspace_dir`; for a package's directory (a manifest with `[package]` and no
/// `[workspace]`, e.g. one contract of `contracts/`), that package's targets.
///
/// # Errors
///
/// A manifest that cannot be read or parsed.
pub fn workspace_crates(workspace_dir: &Path) -> Result<Vec<CrateRoot>, WorkspaceError> {
    let manifest = read_manifest(&workspace_dir.join("Cargo.toml"))?;
    if manifest.get("workspace").is_none() && manifest.get("package").is_some() {
        return package_crates(workspace_dir, Path::new(""));
    }
    let members = manifest
        .get("workspace")
        .and_then(|workspace| workspace.get("members"))
        .and_then(toml::Value::as_array)
        .ok_or_else(|| WorkspaceError::Manifest {
            manifest: workspace_dir.join("Cargo.toml"),
            message: "no [workspace] members".to_owned(),
        })?;
    let mut crates = Vec::new();
    for member in members.iter().filter_map(toml::Value::as_str) {
        crates.extend(package_crates(workspace_dir, Path::new(member))?);
    }
    Ok(crates)
}

/// The targets of the package in `package_dir` (relative to `workspace_dir`).
fn package_crates(
    workspace_dir: &Path,
    package_dir: &Path,
) -> Result<Vec<CrateRoot>, WorkspaceError> {
    let manifest_path = workspace_dir.join(package_dir).join("Cargo.toml");
    let manifest = read_manifest(&manifest_path)?;
    let package = manifest
        .get("package")
        .and_then(|package| package.get("name"))
        .and_then(toml::Value::as_str)
        .ok_or_else(|| WorkspaceError::Manifest {
            manifest: manifest_path.clone(),
            message: "no package name".to_owned(),
        })?
        .to_owned();
    let mut roots = BTreeSet::new();
    let declared_path = |table: &toml::Value| {
        table
            .get("path")
            .and_then(toml::Value::as_str)
            .map(|path| package_dir.join(path))
    };
    if let Some(lib) = manifest.get("lib").and_then(declared_path) {
        roots.insert(lib);
    }
    for section in ["bin", "test", "bench", "example"] {
        for target in manifest
            .get(section)
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            roots.extend(declared_path(target));
        }
    }
    match manifest
        .get("package")
        .and_then(|package| package.get("build"))
    {
        Some(toml::Value::String(build)) => {
            roots.insert(package_dir.join(build));
        }
        Some(_) => {}
        None => {
            roots.insert(package_dir.join("build.rs"));
        }
    }
    roots.insert(package_dir.join("src/lib.rs"));
    roots.insert(package_dir.join("src/main.rs"));
    for dir in ["src/bin", "tests", "benches", "examples"] {
        roots.extend(targets_in(workspace_dir, &package_dir.join(dir)));
    }
    Ok(roots
        .into_iter()
        .filter(|root| workspace_dir.join(root).is_file())
        .map(|root_file| CrateRoot {
            package: package.clone(),
            root_file,
        })
        .collect())
}

/// Cargo's automatic targets in a directory (relative to `workspace_dir`): `name.rs` and
/// `name/main.rs`.
fn targets_in(workspace_dir: &Path, dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(workspace_dir.join(dir)) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| dir.join(entry.file_name()))
        .filter_map(|path| {
            if path.extension().is_some_and(|extension| extension == "rs") {
                Some(path)
            } else if workspace_dir.join(&path).join("main.rs").is_file() {
                Some(path.join("main.rs"))
            } else {
                None
            }
        })
        .collect()
}

fn read_manifest(path: &Path) -> Result<toml::Table, WorkspaceError> {
    let text = std::fs::read_to_string(path).map_err(|error| WorkspaceError::Manifest {
        manifest: path.to_path_buf(),
        message: error.to_string(),
    })?;
    text.parse()
        .map_err(|error: toml::de::Error| WorkspaceError::Manifest {
            manifest: path.to_path_buf(),
            message: error.to_string(),
        })
}
