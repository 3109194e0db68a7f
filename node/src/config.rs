//! `salus node`'s configuration: a TOML file, overridden by environment variables and flags.
//! Unknown keys and bad values are refused with the key and the value named.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use salus_primitives::Address;
use serde::Deserialize;

/// The configuration file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Data directory.
    pub data_dir: Option<PathBuf>,
    /// Genesis file (JSON), or `"dev"` for the built-in dev chain.
    pub genesis: Option<String>,
    /// JSON-RPC settings.
    #[serde(default)]
    pub rpc: RpcSection,
    /// Mining settings.
    #[serde(default)]
    pub mining: MiningSection,
    /// Metrics settings.
    #[serde(default)]
    pub metrics: MetricsSection,
}

/// `[metrics]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Prometheus endpoint address, e.g. `"127.0.0.1:9615"`; absent: no endpoint.
    pub addr: Option<String>,
}

/// `[rpc]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RpcSection {
    /// Listen address, e.g. `"127.0.0.1:8650"`.
    pub addr: Option<String>,
}

/// `[mining]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MiningSection {
    /// Whether to mine.
    pub enabled: Option<bool>,
    /// Address receiving block rewards.
    pub miner: Option<String>,
    /// Nonce-search threads.
    pub threads: Option<usize>,
}

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or an unknown key or wrong type (the message names key and line).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What and where.
        message: String,
    },
    /// A value that does not parse.
    #[error("`{key}` = {value:?}: {reason}")]
    BadValue {
        /// The key (e.g. `mining.miner`).
        key: &'static str,
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A required setting is missing everywhere.
    #[error("`{0}` is not set (config file, environment or flag)")]
    Missing(&'static str),
}

impl ConfigFile {
    /// Reads a configuration file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the problem.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|error| ConfigError::Parse {
            path: path.to_path_buf(),
            message: error.to_string(),
        })
    }
}

/// Parses the RPC address setting.
///
/// # Errors
/// [`ConfigError::BadValue`] naming `rpc.addr`.
pub fn parse_rpc_addr(value: &str) -> Result<SocketAddr, ConfigError> {
    value
        .parse()
        .map_err(|error: std::net::AddrParseError| ConfigError::BadValue {
            key: "rpc.addr",
            value: value.to_string(),
            reason: error.to_string(),
        })
}

/// Parses the miner address setting.
///
/// # Errors
/// [`ConfigError::BadValue`] naming `mining.miner`.
pub fn parse_miner(value: &str) -> Result<Address, ConfigError> {
    value.parse().map_err(
        |error: salus_primitives::hash::HexParseError| ConfigError::BadValue {
            key: "mining.miner",
            value: value.to_string(),
            reason: error.to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let error = toml::from_str::<ConfigFile>("data_dir = \"/x\"\n[rpc]\nadress = \"1\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("adress"), "{error}");
        let error = parse_rpc_addr("localhost:99999").unwrap_err().to_string();
        assert!(
            error.contains("rpc.addr") && error.contains("localhost:99999"),
            "{error}"
        );
        let error = parse_miner("0x12").unwrap_err().to_string();
        assert!(
            error.contains("mining.miner") && error.contains("0x12"),
            "{error}"
        );
        let parsed: ConfigFile =
            toml::from_str("genesis = \"dev\"\n[mining]\nenabled = true\nthreads = 2\n").unwrap();
        assert_eq!(parsed.mining.threads, Some(2));
    }
}
