//! Deploy-time checks of a contract module, before anything is compiled: size and count limits,
//! imports only from the host ABI with exactly its signatures, the required exports, no start
//! function, and — when the module carries the `salus_abi` section — the ABI version it
//! declares there. Wasm feature checks (no threads, SIMD, multi-memory, memory64, tail calls,
//! exceptions, GC, …) are the consensus engine's own validation, run right after.

use salus_abi::{
    ABI_SECTION, ABI_VERSION, CALL_EXPORT, DEPLOY_EXPORT, HOST_MODULE, MEMORY_EXPORT,
    REENTRANT_SECTION, ValueType, host_function,
};
use salus_primitives::{ModuleLimit, ModuleRejection};
use wasmtime::wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, WasmFeatures,
};

use crate::limits::{
    MAX_ABI_SECTION_BYTES, MAX_CODE_BYTES, MAX_DATA_SEGMENTS, MAX_ELEMENT_SEGMENTS, MAX_FUNCTIONS,
    MAX_GLOBALS, MAX_LOCALS_PER_FUNCTION, MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS, MAX_TABLES,
};

/// Why a module was refused at deploy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// Larger than [`MAX_CODE_BYTES`].
    #[error("module of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Module size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a well-formed Wasm module.
    #[error("malformed module: {0}")]
    Malformed(String),
    /// A count or size over its limit.
    #[error("{}: {found} exceeds the limit of {limit}", what.describe())]
    OverLimit {
        /// What was counted.
        what: ModuleLimit,
        /// Found.
        found: u64,
        /// The limit.
        limit: u64,
    },
    /// An import from outside the host ABI.
    #[error("import `{module}.{name}` is not part of the Salus host interface")]
    UnknownImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// A host function imported with a different signature than the ABI's.
    #[error("import `{name}` has the wrong signature")]
    ImportSignature {
        /// The host function.
        name: String,
    },
    /// An imported memory, table, global or tag.
    #[error("import `{name}` is not a function; only host functions may be imported")]
    NonFunctionImport {
        /// The import.
        name: String,
    },
    /// A required export is missing or has the wrong kind or type.
    #[error("export `{name}` is missing or is not {expected}")]
    MissingExport {
        /// The export.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A start function would run code at instantiation, outside the entry points.
    #[error("start functions are not allowed")]
    StartFunction,
    /// Shared, 64-bit or unbounded-beyond-limit memory.
    #[error("memory: {0}")]
    Memory(&'static str),
    /// The engine's validation refused the module (a disallowed Wasm feature, or invalid code).
    #[error("module rejected by the engine: {0}")]
    Rejected(String),
    /// The `salus_abi` section declares another ABI version than this host's, or none that can
    /// be read.
    #[error(
        "the {ABI_SECTION} section declares {declared}; this host implements ABI version {ABI_VERSION}"
    )]
    AbiVersion {
        /// What the section declares, in words (e.g. `ABI version 2`).
        declared: String,
    },
}

impl ModuleError {
    /// The stable code a receipt carries for this refusal (the text is only for diagnostics).
    pub fn rejection(&self) -> ModuleRejection {
        match self {
            ModuleError::TooLarge { .. } => ModuleRejection::TooLarge,
            ModuleError::Malformed(_) => ModuleRejection::Malformed,
            ModuleError::OverLimit { what, .. } => ModuleRejection::OverLimit(*what),
            ModuleError::UnknownImport { .. } => ModuleRejection::UnknownImport,
            ModuleError::ImportSignature { .. } => ModuleRejection::ImportSignature,
            ModuleError::NonFunctionImport { .. } => ModuleRejection::NonFunctionImport,
            ModuleError::MissingExport { .. } => ModuleRejection::MissingExport,
            ModuleError::StartFunction => ModuleRejection::StartFunction,
            ModuleError::Memory(_) => ModuleRejection::DisallowedMemory,
            ModuleError::Rejected(_) => ModuleRejection::EngineValidation,
            ModuleError::AbiVersion { .. } => ModuleRejection::AbiVersion,
        }
    }
}

/// What deploy-time inspection learned about a valid module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Whether the module exports a `deploy` constructor.
    pub has_constructor: bool,
    /// Whether the module allows re-entry (has the `salus_reentrant` custom section).
    pub reentrant: bool,
    /// The ABI description from the `salus_abi` custom section, if any.
    pub abi: Option<Vec<u8>>,
}

fn over(what: ModuleLimit, found: u64, limit: u64) -> Result<(), ModuleError> {
    if found > limit {
        Err(ModuleError::OverLimit { what, found, limit })
    } else {
        Ok(())
    }
}

fn value_type(ty: &ValType) -> Option<ValueType> {
    match ty {
        ValType::I32 => Some(ValueType::I32),
        ValType::I64 => Some(ValueType::I64),
        _ => None,
    }
}

fn matches_signature(ty: &FuncType, params: &[ValueType], results: &[ValueType]) -> bool {
    let p: Option<Vec<_>> = ty.params().iter().map(value_type).collect();
    let r: Option<Vec<_>> = ty.results().iter().map(value_type).collect();
    p.as_deref() == Some(params) && r.as_deref() == Some(results)
}

/// Checks `code` against the limits and the host ABI.
///
/// # Errors
/// The first [`ModuleError`] found.
pub fn inspect_module(code: &[u8]) -> Result<ModuleInfo, ModuleError> {
    over_size(code)?;
    let malformed = |error: wasmtime::wasmparser::BinaryReaderError| {
        ModuleError::Malformed(error.message().to_string())
    };
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut function_types: Vec<u32> = Vec::new();
    let mut info = ModuleInfo::default();
    let mut exported_memory = false;
    let mut exported_call = false;
    // wasmparser's parser reads every proposal's encodings by default; one the engine does not
    // enable (compact imports) would pass here and be refused by the engine's compiler only,
    // after validation: a node-local failure for a module anyone can deploy (found by fuzzing).
    let mut features = WasmFeatures::all();
    features.remove(WasmFeatures::COMPACT_IMPORTS);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(code) {
        match payload.map_err(malformed)? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub_type in group.map_err(malformed)?.into_types() {
                        types.push(match sub_type.composite_type.inner {
                            CompositeInnerType::Func(func) => Some(func),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(malformed)?;
                    check_import(import.module, import.name, &import.ty, &types)?;
                    function_types.push(match import.ty {
                        TypeRef::Func(index) | TypeRef::FuncExact(index) => index,
                        _ => u32::MAX,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for index in reader {
                    function_types.push(index.map_err(malformed)?);
                }
                over(
                    ModuleLimit::Functions,
                    function_types.len() as u64,
                    u64::from(MAX_FUNCTIONS),
                )?;
            }
            Payload::TableSection(reader) => {
                over(
                    ModuleLimit::Tables,
                    u64::from(reader.count()),
                    u64::from(MAX_TABLES),
                )?;
                for table in reader {
                    let table = table.map_err(malformed)?;
                    over(
                        ModuleLimit::TableElements,
                        table.ty.initial,
                        u64::from(MAX_TABLE_ELEMENTS),
                    )?;
                    if let Some(maximum) = table.ty.maximum {
                        over(
                            ModuleLimit::TableElements,
                            maximum,
                            u64::from(MAX_TABLE_ELEMENTS),
                        )?;
                    }
                }
            }
            Payload::MemorySection(reader) => {
                over(ModuleLimit::Memories, u64::from(reader.count()), 1)?;
                for memory in reader {
                    let memory = memory.map_err(malformed)?;
                    if memory.shared {
                        return Err(ModuleError::Memory("shared memory is not allowed"));
                    }
                    if memory.memory64 {
                        return Err(ModuleError::Memory("64-bit memory is not allowed"));
                    }
                    over(ModuleLimit::MemoryPages, memory.initial, MAX_MEMORY_PAGES)?;
                }
            }
            Payload::GlobalSection(reader) => over(
                ModuleLimit::Globals,
                u64::from(reader.count()),
                u64::from(MAX_GLOBALS),
            )?,
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(malformed)?;
                    match (export.name, export.kind) {
                        (MEMORY_EXPORT, ExternalKind::Memory) => exported_memory = true,
                        (CALL_EXPORT, ExternalKind::Func) => {
                            require_entry_point(
                                &types,
                                &function_types,
                                export.index,
                                CALL_EXPORT,
                            )?;
                            exported_call = true;
                        }
                        (DEPLOY_EXPORT, ExternalKind::Func) => {
                            require_entry_point(
                                &types,
                                &function_types,
                                export.index,
                                DEPLOY_EXPORT,
                            )?;
                            info.has_constructor = true;
                        }
                        _ => {}
                    }
                }
            }
            Payload::StartSection { .. } => return Err(ModuleError::StartFunction),
            Payload::ElementSection(reader) => {
                over(
                    ModuleLimit::ElementSegments,
                    u64::from(reader.count()),
                    u64::from(MAX_ELEMENT_SEGMENTS),
                )?;
            }
            Payload::DataSection(reader) => {
                over(
                    ModuleLimit::DataSegments,
                    u64::from(reader.count()),
                    u64::from(MAX_DATA_SEGMENTS),
                )?;
            }
            Payload::CodeSectionEntry(body) => {
                let mut locals = body.get_locals_reader().map_err(malformed)?;
                let mut total: u64 = 0;
                for _ in 0..locals.get_count() {
                    let (count, _) = locals.read().map_err(malformed)?;
                    total += u64::from(count);
                    over(
                        ModuleLimit::LocalsPerFunction,
                        total,
                        u64::from(MAX_LOCALS_PER_FUNCTION),
                    )?;
                }
            }
            Payload::CustomSection(section) => match section.name() {
                ABI_SECTION => {
                    over(
                        ModuleLimit::AbiSectionBytes,
                        section.data().len() as u64,
                        MAX_ABI_SECTION_BYTES as u64,
                    )?;
                    check_declared_abi_version(section.data())?;
                    info.abi = Some(section.data().to_vec());
                }
                REENTRANT_SECTION => info.reentrant = true,
                _ => {}
            },
            _ => {}
        }
    }
    if !exported_memory {
        return Err(ModuleError::MissingExport {
            name: MEMORY_EXPORT,
            expected: "a memory",
        });
    }
    if !exported_call {
        return Err(ModuleError::MissingExport {
            name: CALL_EXPORT,
            expected: "a function () -> ()",
        });
    }
    Ok(info)
}

/// What deploy reads of the `salus_abi` section: the version it declares. The other members
/// are the clients' business and are skipped, but the whole section must be one JSON text.
#[derive(serde::Deserialize)]
struct AbiDeclaration {
    abi_version: Option<serde_json::Number>,
}

/// Refuses an ABI section that does not declare [`ABI_VERSION`]: one that declares another
/// version, none, or is not a JSON object (a module without the section is not judged here).
/// Deterministic: the same bytes get the same answer on every node (serde_json is strict
/// RFC 8259 JSON, nesting at most 128 deep, a duplicate `abi_version` refused).
fn check_declared_abi_version(section: &[u8]) -> Result<(), ModuleError> {
    let declared = match serde_json::from_slice::<AbiDeclaration>(section) {
        Ok(AbiDeclaration {
            abi_version: Some(version),
        }) if version.as_u64() == Some(u64::from(ABI_VERSION)) => return Ok(()),
        Ok(AbiDeclaration {
            abi_version: Some(version),
        }) => format!("ABI version {version}"),
        Ok(AbiDeclaration { abi_version: None }) => "no ABI version".to_string(),
        Err(error) => format!("no readable ABI version ({error})"),
    };
    Err(ModuleError::AbiVersion { declared })
}

fn over_size(code: &[u8]) -> Result<(), ModuleError> {
    if code.len() > MAX_CODE_BYTES {
        return Err(ModuleError::TooLarge {
            size: code.len(),
            limit: MAX_CODE_BYTES,
        });
    }
    Ok(())
}

fn check_import(
    module: &str,
    name: &str,
    ty: &TypeRef,
    types: &[Option<FuncType>],
) -> Result<(), ModuleError> {
    if module != HOST_MODULE {
        return Err(ModuleError::UnknownImport {
            module: module.to_string(),
            name: name.to_string(),
        });
    }
    let Some(expected) = host_function(name) else {
        return Err(ModuleError::UnknownImport {
            module: module.to_string(),
            name: name.to_string(),
        });
    };
    let (TypeRef::Func(index) | TypeRef::FuncExact(index)) = ty else {
        return Err(ModuleError::NonFunctionImport {
            name: name.to_string(),
        });
    };
    match types.get(*index as usize) {
        Some(Some(func)) if matches_signature(func, expected.params, expected.results) => Ok(()),
        _ => Err(ModuleError::ImportSignature {
            name: name.to_string(),
        }),
    }
}

fn require_entry_point(
    types: &[Option<FuncType>],
    function_types: &[u32],
    function_index: u32,
    name: &'static str,
) -> Result<(), ModuleError> {
    let type_index = function_types.get(function_index as usize).copied();
    match type_index.and_then(|index| types.get(index as usize)) {
        Some(Some(func)) if func.params().is_empty() && func.results().is_empty() => Ok(()),
        _ => Err(ModuleError::MissingExport {
            name,
            expected: "a function () -> ()",
        }),
    }
}
