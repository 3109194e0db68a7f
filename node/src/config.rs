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
    /// Peer-to-peer settings.
    #[serde(default)]
    pub p2p: P2pSection,
    /// Which contracts the console's healthcare pages read.
    #[serde(default)]
    pub console: ConsoleSection,
}

/// `[console]`: the contracts the console's healthcare pages read. Each defaults to the genesis
/// contract of that name (`registry`, `consent`, `supply`, `coverage`: the dev chain deploys all
/// four); set one for a contract deployed later by a transaction.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// The participant registry's address.
    pub registry: Option<String>,
    /// The consent contract's address.
    pub consent: Option<String>,
    /// The supply contract's address.
    pub supply: Option<String>,
    /// The coverage contract's address.
    pub coverage: Option<String>,
}

impl ConsoleSection {
    /// The genesis contracts (`from_genesis`), with the addresses this section sets instead.
    ///
    /// # Errors
    /// [`ConfigError::BadValue`] naming `console.<name>` for a value that is not an address.
    pub fn contracts(
        &self,
        genesis: crate::service::ConsoleContracts,
    ) -> Result<crate::service::ConsoleContracts, ConfigError> {
        let pick = |key: &'static str, value: &Option<String>, default: Option<Address>| match value
        {
            None => Ok(default),
            Some(text) => text.parse().map(Some).map_err(|_| ConfigError::BadValue {
                key,
                value: text.clone(),
                reason: "not a 0x address (40 hex digits)".into(),
            }),
        };
        Ok(crate::service::ConsoleContracts {
            registry: pick("console.registry", &self.registry, genesis.registry)?,
            consent: pick("console.consent", &self.consent, genesis.consent)?,
            supply: pick("console.supply", &self.supply, genesis.supply)?,
            coverage: pick("console.coverage", &self.coverage, genesis.coverage)?,
        })
    }
}

/// `[p2p]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct P2pSection {
    /// Whether to join the network (default true).
    pub enabled: Option<bool>,
    /// Multiaddrs to listen on, e.g. `["/ip4/0.0.0.0/tcp/30333"]`.
    pub listen: Option<Vec<String>>,
    /// Multiaddrs of peers to dial at start, each ending in `/p2p/<peer id>`.
    pub bootnodes: Option<Vec<String>>,
    /// Most inbound connections.
    pub max_inbound: Option<u32>,
    /// Most outbound connections.
    pub max_outbound: Option<u32>,
    /// Most inbound connections from one IP address (pending and established).
    pub max_per_ip: Option<u32>,
    /// Most inbound connections still in their handshake.
    pub max_pending_inbound: Option<u32>,
    /// Whether a misbehaving peer's ban covers its IP address (its IPv6 /64) too (default
    /// true; off for several honest nodes sharing an address).
    pub ban_ip: Option<bool>,
    /// How long a misbehaving peer is banned, seconds.
    pub ban_seconds: Option<u64>,
    /// Keep bans across restarts (default false: a restart clears them).
    pub persist_bans: Option<bool>,
}

impl P2pSection {
    /// The network configuration, flags' listen addresses and bootnodes (when given) replacing
    /// the file's; `None` when disabled.
    ///
    /// # Errors
    /// [`ConfigError::BadValue`] naming the key of a bad multiaddr or limit.
    pub fn network_config(
        &self,
        listen_flags: &[String],
        bootnode_flags: &[String],
    ) -> Result<Option<crate::network::NetworkConfig>, ConfigError> {
        if self.enabled == Some(false) {
            return Ok(None);
        }
        let defaults = crate::network::NetworkConfig::default();
        let listen = if listen_flags.is_empty() {
            self.listen.clone().unwrap_or_default()
        } else {
            listen_flags.to_vec()
        };
        let bootnodes = if bootnode_flags.is_empty() {
            self.bootnodes.clone().unwrap_or_default()
        } else {
            bootnode_flags.to_vec()
        };
        let listen = if listen.is_empty() {
            defaults.listen.clone()
        } else {
            parse_multiaddrs("p2p.listen", &listen)?
        };
        let bootnodes = parse_multiaddrs("p2p.bootnodes", &bootnodes)?;
        for bootnode in &bootnodes {
            if !bootnode
                .iter()
                .any(|part| matches!(part, libp2p::multiaddr::Protocol::P2p(_)))
            {
                return Err(ConfigError::BadValue {
                    key: "p2p.bootnodes",
                    value: bootnode.to_string(),
                    reason: "a bootnode address ends in /p2p/<peer id>".into(),
                });
            }
        }
        let positive = |key: &'static str, value: Option<u32>, default: u32| match value {
            Some(0) => Err(ConfigError::BadValue {
                key,
                value: "0".into(),
                reason: "must be at least 1".into(),
            }),
            Some(value) => Ok(value),
            None => Ok(default),
        };
        Ok(Some(crate::network::NetworkConfig {
            listen,
            bootnodes,
            max_inbound: positive("p2p.max_inbound", self.max_inbound, defaults.max_inbound)?,
            max_outbound: positive("p2p.max_outbound", self.max_outbound, defaults.max_outbound)?,
            max_per_ip: positive("p2p.max_per_ip", self.max_per_ip, defaults.max_per_ip)?,
            max_pending_inbound: positive(
                "p2p.max_pending_inbound",
                self.max_pending_inbound,
                defaults.max_pending_inbound,
            )?,
            ban_ip: self.ban_ip.unwrap_or(defaults.ban_ip),
            ban_duration: self
                .ban_seconds
                .map_or(defaults.ban_duration, std::time::Duration::from_secs),
            persist_bans: self.persist_bans.unwrap_or(defaults.persist_bans),
        }))
    }
}

/// Parses multiaddrs of a setting.
///
/// # Errors
/// [`ConfigError::BadValue`] naming `key` and the bad value.
pub fn parse_multiaddrs(
    key: &'static str,
    values: &[String],
) -> Result<Vec<libp2p::Multiaddr>, ConfigError> {
    values
        .iter()
        .map(|value| {
            value
                .parse()
                .map_err(|error: libp2p::multiaddr::Error| ConfigError::BadValue {
                    key,
                    value: value.clone(),
                    reason: error.to_string(),
                })
        })
        .collect()
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
    /// Host names the server answers to besides `localhost`, `127.0.0.1`, `[::1]` and IP
    /// addresses: `name` (any port), `name:port`, or `"*"` for any (behind a proxy that checks
    /// `Host` itself). A request with another `Host` gets 403.
    pub allowed_hosts: Option<Vec<String>>,
    /// Browser origins allowed to call (`"http://localhost:3000"`), or `"*"` for any; none by
    /// default. A request carrying another `Origin` gets 403.
    pub cors: Option<Vec<String>>,
}

impl RpcSection {
    /// Who may knock on the RPC server's doors; flags (when given) replace the file's lists.
    ///
    /// # Errors
    /// [`ConfigError::BadValue`] naming `rpc.allowed_hosts` or `rpc.cors` and the bad entry.
    pub fn access(
        &self,
        host_flags: &[String],
        cors_flags: &[String],
    ) -> Result<crate::service::RpcAccess, ConfigError> {
        use crate::service::doors::{AllowedHosts, AllowedOrigins};
        let pick = |flags: &[String], file: &Option<Vec<String>>| {
            if flags.is_empty() {
                file.clone().unwrap_or_default()
            } else {
                flags.to_vec()
            }
        };
        let hosts = pick(host_flags, &self.allowed_hosts);
        let origins = pick(cors_flags, &self.cors);
        Ok(crate::service::RpcAccess {
            allowed_hosts: AllowedHosts::parse(&hosts).map_err(|error| ConfigError::BadValue {
                key: "rpc.allowed_hosts",
                value: hosts.join(", "),
                reason: error.to_string(),
            })?,
            cors: AllowedOrigins::parse(&origins).map_err(|error| ConfigError::BadValue {
                key: "rpc.cors",
                value: origins.join(", "),
                reason: error.to_string(),
            })?,
        })
    }
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

    #[test]
    fn console_contracts_default_to_the_genesis_names_and_bad_addresses_are_named() {
        let genesis =
            crate::service::ConsoleContracts::from_genesis(&crate::genesis::GenesisConfig::dev());
        assert_eq!(genesis.consent, Some(crate::genesis::DEV_CONSENT_ADDRESS));
        assert_eq!(genesis.registry, Some(crate::genesis::DEV_REGISTRY_ADDRESS));
        let file: ConfigFile =
            toml::from_str("[console]\nsupply = \"0x00000000000000000000000000000000000000aa\"\n")
                .unwrap();
        let contracts = file.console.contracts(genesis).unwrap();
        assert_eq!(
            contracts.supply,
            Some(
                "0x00000000000000000000000000000000000000aa"
                    .parse()
                    .unwrap()
            )
        );
        assert_eq!(contracts.consent, genesis.consent);
        let file: ConfigFile = toml::from_str("[console]\ncoverage = \"payer\"\n").unwrap();
        let error = file.console.contracts(genesis).unwrap_err().to_string();
        assert!(
            error.contains("console.coverage") && error.contains("payer"),
            "{error}"
        );
        let error = toml::from_str::<ConfigFile>("[console]\nconsnet = \"0x00\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("consnet"), "{error}");
    }

    #[test]
    fn rpc_doors_are_configured_by_file_or_flags_and_bad_entries_are_named() {
        let file: ConfigFile = toml::from_str(
            "[rpc]\nallowed_hosts = [\"node.example.org\"]\ncors = [\"http://localhost:3000\"]\n",
        )
        .unwrap();
        let access = file.rpc.access(&[], &[]).unwrap();
        assert!(access.allowed_hosts.allows("node.example.org:8650"));
        assert!(!access.allowed_hosts.allows("evil.example"));
        assert!(access.cors.allows("http://localhost:3000"));
        let flagged = file
            .rpc
            .access(&["other.example.org".to_string()], &[])
            .unwrap();
        assert!(!flagged.allowed_hosts.allows("node.example.org"));
        assert!(flagged.allowed_hosts.allows("other.example.org"));
        let error = file
            .rpc
            .access(&[], &["localhost:3000".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("rpc.cors") && error.contains("localhost:3000"),
            "{error}"
        );
        let error = file
            .rpc
            .access(&["bad host".to_string()], &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("rpc.allowed_hosts"), "{error}");
    }

    #[test]
    fn p2p_settings_are_checked_and_flags_override_the_file() {
        let file: ConfigFile = toml::from_str(
            "[p2p]\nlisten = [\"/ip4/0.0.0.0/tcp/4000\"]\nmax_per_ip = 2\npersist_bans = true\n\
             ban_ip = false\nmax_pending_inbound = 5\n",
        )
        .unwrap();
        let network = file.p2p.network_config(&[], &[]).unwrap().unwrap();
        assert_eq!(network.listen[0].to_string(), "/ip4/0.0.0.0/tcp/4000");
        assert_eq!(network.max_per_ip, 2);
        assert!(network.persist_bans);
        assert!(!network.ban_ip);
        assert_eq!(network.max_pending_inbound, 5);
        let defaults = ConfigFile::default()
            .p2p
            .network_config(&[], &[])
            .unwrap()
            .unwrap();
        assert!(defaults.ban_ip, "IP bans are on by default");
        let flagged = file
            .p2p
            .network_config(&["/ip4/127.0.0.1/tcp/5000".to_string()], &[])
            .unwrap()
            .unwrap();
        assert_eq!(flagged.listen[0].to_string(), "/ip4/127.0.0.1/tcp/5000");

        let error = file
            .p2p
            .network_config(&[], &["/ip4/1.2.3.4/tcp/30333".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("p2p.bootnodes") && error.contains("/p2p/"),
            "{error}"
        );
        let error = file
            .p2p
            .network_config(&["tcp://nowhere".to_string()], &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("p2p.listen") && error.contains("tcp://nowhere"),
            "{error}"
        );
        let zero: ConfigFile = toml::from_str("[p2p]\nmax_inbound = 0\n").unwrap();
        let error = zero.p2p.network_config(&[], &[]).unwrap_err().to_string();
        assert!(error.contains("p2p.max_inbound"), "{error}");
        let off: ConfigFile = toml::from_str("[p2p]\nenabled = false\n").unwrap();
        assert!(off.p2p.network_config(&[], &[]).unwrap().is_none());
        let typo = toml::from_str::<ConfigFile>("[p2p]\nbootnode = []\n")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("bootnode"), "{typo}");
    }
}
