//! Reading a crate into its module tree: every module (file or inline) under its path from the
//! crate root, with its child modules, the names its `use` items bring in, and every path it
//! writes that starts at `crate`, `super` or `self` — in `use` items and anywhere in its code,
//! macro invocations included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Item, UseTree};

/// A module's path from its crate's root: empty for the root, `["chain", "validation"]` for
/// `crate::chain::validation`.
pub type ModulePath = Vec<String>;

/// Where the sources of a crate are read from: the file system, or a map for tests.
pub trait Sources {
    /// The text of the file at `path`, if there is one.
    fn read(&self, path: &Path) -> Option<String>;
}

/// The files on disk, with relative paths taken from a base directory.
pub struct FileSystem {
    base: PathBuf,
}

impl FileSystem {
    /// Files named relative to `base`.
    pub fn under(base: &Path) -> FileSystem {
        FileSystem {
            base: base.to_path_buf(),
        }
    }
}

impl Sources for FileSystem {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(self.base.join(path)).ok()
    }
}

impl Sources for BTreeMap<PathBuf, String> {
    fn read(&self, path: &Path) -> Option<String> {
        self.get(path).cloned()
    }
}

/// Why a crate's module tree could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A `mod name;` whose file is at none of the places Rust looks.
    #[error(
        "module `{module}` declared in {} has no file (looked for {candidates})",
        .declared_in.display()
    )]
    MissingModuleFile {
        /// The module's path.
        module: String,
        /// The file declaring it.
        declared_in: PathBuf,
        /// The paths tried.
        candidates: String,
    },
    /// A file that does not parse as Rust.
    #[error("{}: {message}", .file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message.
        message: String,
    },
}

/// A path written in a module, as written (`crate::chain::Chain`, `super::limits`, or in a
/// `use` item a path starting at a child module or an imported name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenPath {
    /// Its segments; `*` ends a glob import.
    pub segments: Vec<String>,
    /// The line it starts on.
    pub line: usize,
}

impl WrittenPath {
    /// The path as Rust code.
    pub fn text(&self) -> String {
        self.segments.join("::")
    }
}

/// One module of a crate.
#[derive(Debug, Default)]
pub struct Module {
    /// The file it is written in (for an inline module, the file holding it).
    pub file: PathBuf,
    /// The names of its child modules.
    pub children: BTreeSet<String>,
    /// The names its `use` items bind, with the path each one names.
    pub imports: BTreeMap<String, WrittenPath>,
    /// Every path it writes that may name a module of the crate.
    pub references: Vec<WrittenPath>,
}

/// Every module of one crate, by path.
#[derive(Debug, Default)]
pub struct ModuleTree {
    /// The modules; the root's path is empty.
    pub modules: BTreeMap<ModulePath, Module>,
}

impl ModuleTree {
    /// Reads the crate whose root file is `root_file` and every module file it declares.
    ///
    /// # Errors
    ///
    /// A file that does not parse, or a declared module without a file.
    pub fn read(root_file: &Path, sources: &impl Sources) -> Result<ModuleTree, ReadError> {
        let mut tree = ModuleTree::default();
        let children_dir = root_file.parent().unwrap_or(Path::new("")).to_path_buf();
        tree.read_file(Vec::new(), root_file, children_dir, sources)?;
        Ok(tree)
    }

    fn read_file(
        &mut self,
        path: ModulePath,
        file: &Path,
        children_dir: PathBuf,
        sources: &impl Sources,
    ) -> Result<(), ReadError> {
        let text = sources.read(file).ok_or_else(|| ReadError::Parse {
            file: file.to_path_buf(),
            message: "cannot be read".to_owned(),
        })?;
        let parsed = syn::parse_file(&text).map_err(|error| ReadError::Parse {
            file: file.to_path_buf(),
            message: format!("line {}: {error}", error.span().start().line),
        })?;
        self.read_items(path, file, &children_dir, &parsed.items, sources)
    }

    fn read_items(
        &mut self,
        path: ModulePath,
        file: &Path,
        children_dir: &Path,
        items: &[Item],
        sources: &impl Sources,
    ) -> Result<(), ReadError> {
        let mut module = Module {
            file: file.to_path_buf(),
            ..Module::default()
        };
        let mut submodules = Vec::new();
        for item in items {
            match item {
                Item::Use(item_use) => {
                    if item_use.leading_colon.is_none() {
                        flatten_use(&item_use.tree, &mut Vec::new(), &mut module);
                    }
                }
                Item::Mod(item_mod) => {
                    module.children.insert(item_mod.ident.to_string());
                    submodules.push(item_mod);
                }
                other => scan_tokens(other.to_token_stream(), &mut module.references),
            }
        }
        self.modules.insert(path.clone(), module);
        for item_mod in submodules {
            let name = item_mod.ident.to_string();
            let mut child_path = path.clone();
            child_path.push(name.clone());
            match &item_mod.content {
                Some((_, items)) => {
                    self.read_items(child_path, file, &children_dir.join(&name), items, sources)?;
                }
                None => {
                    let (child_file, child_dir) =
                        locate_module_file(item_mod, &name, file, children_dir, sources)
                            .ok_or_else(|| ReadError::MissingModuleFile {
                                module: child_path.join("::"),
                                declared_in: file.to_path_buf(),
                                candidates: format!(
                                    "{} and {}",
                                    children_dir.join(format!("{name}.rs")).display(),
                                    children_dir.join(&name).join("mod.rs").display()
                                ),
                            })?;
                    self.read_file(child_path, &child_file, child_dir, sources)?;
                }
            }
        }
        Ok(())
    }
}

/// The file of `mod name;` and the directory its own child modules live in: a `#[path]`
/// attribute's file (relative to the declaring file's directory), else `name.rs` (children in
/// `name/`) or `name/mod.rs` in the declaring module's directory.
fn locate_module_file(
    item_mod: &syn::ItemMod,
    name: &str,
    declaring_file: &Path,
    children_dir: &Path,
    sources: &impl Sources,
) -> Option<(PathBuf, PathBuf)> {
    for attribute in &item_mod.attrs {
        if attribute.path().is_ident("path")
            && let syn::Meta::NameValue(name_value) = &attribute.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(literal),
                ..
            }) = &name_value.value
        {
            let file = declaring_file
                .parent()
                .unwrap_or(Path::new(""))
                .join(literal.value());
            let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
            return sources.read(&file).map(|_| (file, dir));
        }
    }
    let flat = children_dir.join(format!("{name}.rs"));
    if sources.read(&flat).is_some() {
        return Some((flat, children_dir.join(name)));
    }
    let nested = children_dir.join(name).join("mod.rs");
    if sources.read(&nested).is_some() {
        return Some((nested, children_dir.join(name)));
    }
    None
}

/// Adds each path of a `use` tree to the module's references, and each name it binds to its
/// imports.
fn flatten_use(tree: &UseTree, prefix: &mut Vec<(String, usize)>, module: &mut Module) {
    let written = |prefix: &[(String, usize)], last: Option<(String, usize)>| {
        let line = prefix
            .first()
            .map(|(_, line)| *line)
            .or(last.as_ref().map(|(_, line)| *line))
            .unwrap_or(0);
        WrittenPath {
            segments: prefix
                .iter()
                .map(|(segment, _)| segment.clone())
                .chain(last.map(|(segment, _)| segment))
                .collect(),
            line,
        }
    };
    match tree {
        UseTree::Path(use_path) => {
            prefix.push((
                use_path.ident.to_string(),
                use_path.ident.span().start().line,
            ));
            flatten_use(&use_path.tree, prefix, module);
            prefix.pop();
        }
        UseTree::Name(use_name) => {
            let name = use_name.ident.to_string();
            let line = use_name.ident.span().start().line;
            if name == "self" {
                let path = written(prefix, None);
                if let Some(last) = path.segments.last() {
                    module.imports.insert(last.clone(), path.clone());
                }
                module.references.push(path);
            } else {
                let path = written(prefix, Some((name.clone(), line)));
                module.imports.insert(name, path.clone());
                module.references.push(path);
            }
        }
        UseTree::Rename(use_rename) => {
            let name = use_rename.ident.to_string();
            let line = use_rename.ident.span().start().line;
            let path = if name == "self" {
                written(prefix, None)
            } else {
                written(prefix, Some((name, line)))
            };
            let alias = use_rename.rename.to_string();
            if alias != "_" {
                module.imports.insert(alias, path.clone());
            }
            module.references.push(path);
        }
        UseTree::Glob(glob) => {
            let line = glob.star_token.span.start().line;
            module
                .references
                .push(written(prefix, Some(("*".to_owned(), line))));
        }
        UseTree::Group(group) => {
            for tree in &group.items {
                flatten_use(tree, prefix, module);
            }
        }
    }
}

/// Collects every path starting with `crate`, `super` or `self` followed by `::` in `tokens`,
/// at any depth (function bodies, macro arguments, `macro_rules!` bodies' `$crate::` paths).
fn scan_tokens(tokens: TokenStream, references: &mut Vec<WrittenPath>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut index = 0;
    while index < tokens.len() {
        match &tokens[index] {
            TokenTree::Group(group) => {
                scan_tokens(group.stream(), references);
                index += 1;
            }
            TokenTree::Ident(ident)
                if matches!(ident.to_string().as_str(), "crate" | "super" | "self")
                    && is_path_separator(&tokens, index + 1) =>
            {
                let line = ident.span().start().line;
                let mut segments = vec![ident.to_string()];
                index += 1;
                while is_path_separator(&tokens, index) {
                    match tokens.get(index + 2) {
                        Some(TokenTree::Ident(next)) => {
                            segments.push(next.to_string());
                            index += 3;
                        }
                        _ => break,
                    }
                }
                references.push(WrittenPath { segments, line });
            }
            _ => index += 1,
        }
    }
}

/// Whether `tokens[index..]` starts with `::`.
fn is_path_separator(tokens: &[TokenTree], index: usize) -> bool {
    matches!(
        (tokens.get(index), tokens.get(index + 1)),
        (Some(TokenTree::Punct(first)), Some(TokenTree::Punct(second)))
            if first.as_char() == ':' && first.spacing() == Spacing::Joint && second.as_char() == ':'
    )
}
