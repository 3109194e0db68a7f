//! Every limit of the JSON-RPC server in one place, each with the reason for its value: sizes,
//! connections, subscriptions, timeouts, dry runs and their signatures, event scans and the checks on numbers a
//! caller gives.

use std::time::Duration;

pub use crate::historical::{MAX_HISTORICAL_CHANGED_KEYS, MAX_HISTORICAL_DEPTH};

/// Most bytes of one JSON-RPC request: a deploy of the largest contract, hex-encoded, with room.
pub const MAX_RPC_REQUEST_BYTES: u32 = 2 * 1024 * 1024;
/// Most bytes of one JSON-RPC response.
pub const MAX_RPC_RESPONSE_BYTES: u32 = 16 * 1024 * 1024;
/// Most calls in one JSON-RPC batch.
pub const MAX_RPC_BATCH: u32 = 64;
/// Most concurrent RPC connections.
pub const MAX_RPC_CONNECTIONS: u32 = 256;
/// Headers buffered per subscriber before a slow one starts missing heads.
pub const HEAD_SUBSCRIPTION_BUFFER: usize = 256;
/// Events buffered per subscriber before a slow one starts missing events.
pub const EVENT_SUBSCRIPTION_BUFFER: usize = 4_096;

/// Most subscriptions one WebSocket connection may hold: a client needs one for new heads and
/// a few event filters; each holds a broadcast receiver (up to [`EVENT_SUBSCRIPTION_BUFFER`]
/// events) and a task, so one connection must not open thousands (jsonrpsee's default is
/// 1,024).
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 32;

/// Longest a method call may take before it is answered with a timeout error (the work it
/// started on blocking threads is bounded separately: dry runs by fuel, admission by the
/// queue). `dev_mine` is exempt: it is bounded by [`MAX_DEV_MINE_BLOCKS`] blocks, and cutting it
/// off would leave its caller not knowing which blocks were mined.
pub const RPC_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a new connection may take to send its first request (e.g. the WebSocket upgrade)
/// before it is closed: a connection that says nothing holds one of [`MAX_RPC_CONNECTIONS`].
pub const RPC_FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the server pings a WebSocket client.
pub const WS_PING_INTERVAL: Duration = Duration::from_secs(30);
/// A WebSocket client that has not answered a ping for this long missed it.
pub const WS_INACTIVE_LIMIT: Duration = Duration::from_secs(40);
/// Missed pings after which a WebSocket connection is closed: a vanished client (suspended
/// laptop, dropped network) frees its connection and subscriptions within about two minutes,
/// while one lost pong does not cut a live client.
pub const WS_MAX_MISSED_PINGS: usize = 2;

/// Fuel of a dry run (`state_call`) that names none: about 50 ms of execution (one fuel unit is
/// about a nanosecond of work), a twentieth of the dev chain's block limit, enough for every
/// message of the genesis contracts many times over. A caller may ask for more, up to the block
/// fuel limit.
pub const DRY_RUN_DEFAULT_FUEL: u64 = 50_000_000;
/// Longest a dry run may take, historical replay included, before it is answered with a
/// timeout error: a dry run at the block fuel limit takes about a second, so this is only
/// reached when the machine is overloaded or a historical replay is very deep.
pub const DRY_RUN_TIMEOUT: Duration = Duration::from_secs(10);
/// Dry runs executing at once: each holds a blocking thread, a core while it runs and a stack
/// of VM instances; more wait (see [`DRY_RUN_QUEUE_WAIT`]) so that block building, import and
/// admission keep their threads and cores. Not above the runtime's own dry-run execution slots
/// (its pool's share for dry runs), so that a dry run admitted here does not then wait there.
pub const MAX_CONCURRENT_DRY_RUNS: usize = salus_runtime::wasm::slots::DRY_RUN_SLOTS as usize;
/// How long a dry run waits for one of [`MAX_CONCURRENT_DRY_RUNS`] places before it is
/// answered "busy": long enough to absorb a burst, short enough that a flood is refused rather
/// than queued without bound.
pub const DRY_RUN_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Furthest ahead of the node's wall clock a signed dry run's `expiresMs` may be: 10 minutes.
/// Whoever sees a signed request (a proxy, a log, the node itself) can send it again, as its
/// signer, until it expires, so a signature must not live long; a bound the node sets, rather
/// than trusting the client's choice, keeps a careless or hostile client from minting a
/// signature that answers for days. Ten minutes leaves room for a client clock a few minutes
/// off the node's (clients sign for two, `DEFAULT_CALL_SIGNATURE_LIFETIME_MS`).
pub const MAX_CALL_SIGNATURE_AHEAD_MS: u64 = 10 * 60 * 1000;

/// Most events in one page of `events_query`.
pub const MAX_EVENTS_PER_PAGE: u32 = 1_000;
/// Most events one `events_query` call examines; past it, the page is returned with a cursor.
pub const MAX_EVENTS_SCANNED: usize = 100_000;

/// Most blocks one `dev_mine` call mines.
pub const MAX_DEV_MINE_BLOCKS: u32 = 1_000;
/// Furthest `dev_increaseTime` may move a dev chain's clock ahead in total: a century, far
/// beyond any test's needs and far from overflowing a millisecond timestamp.
pub const MAX_DEV_CLOCK_OFFSET_MS: u64 = 100 * 365 * 24 * 3600 * 1000;
/// Longest ban `net_banPeer` sets: a year.
pub const MAX_BAN_SECONDS: u64 = 365 * 24 * 3600;
