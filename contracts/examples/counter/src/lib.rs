//! A counter with an owner: the contract of docs/first-contract.md.
#![no_std]

pub use counter::*;

#[salus_sdk::contract]
mod counter {
    use salus_sdk::prelude::*;

    const COUNT: Value<u64> = Value::new(b"count");
    const OWNER: Value<Address> = Value::new(b"owner");
    const BY_CALLER: Map<Address, u64> = Map::new(b"by/");
    const MODE: Value<Mode> = Value::new(b"mode");

    /// Who may increment, and how far.
    #[data]
    pub enum Mode {
        /// Anyone, without limit.
        Open,
        /// Anyone, up to this total.
        Capped(u64),
    }

    /// A summary of the counter.
    #[data]
    pub struct Stats {
        /// The current total.
        pub total: u64,
        /// The increment policy.
        pub mode: Mode,
        /// The owner.
        pub owner: Option<Address>,
    }

    /// Emitted on every increment.
    #[event]
    pub struct Incremented {
        #[topic]
        pub by: Address,
        pub amount: u64,
        pub total: u64,
    }

    /// Why a message was refused.
    #[error]
    pub enum CounterError {
        /// The counter would exceed `u64::MAX`.
        Overflow,
        /// Only the owner may reset or change the mode.
        NotOwner,
        /// The cap of `Mode::Capped` would be exceeded.
        CapReached,
    }

    /// The contract.
    pub struct Counter;

    impl Counter {
        /// Starts the count at `start`; the deployer becomes the owner.
        #[constructor]
        pub fn new(start: u64) {
            COUNT.set(&start);
            OWNER.set(&caller());
        }

        /// Adds `amount`, records who added it, and returns the new total.
        #[message]
        pub fn increment(amount: u64) -> Result<u64, CounterError> {
            let total = COUNT
                .get()
                .unwrap_or(0)
                .checked_add(amount)
                .ok_or(CounterError::Overflow)?;
            if let Some(Mode::Capped(cap)) = MODE.get()
                && total > cap
            {
                return Err(CounterError::CapReached);
            }
            COUNT.set(&total);
            let by = caller();
            BY_CALLER.insert(&by, &(BY_CALLER.get(&by).unwrap_or(0) + amount));
            Incremented { by, amount, total }.emit();
            Ok(total)
        }

        /// Sets the count back to zero (owner only).
        #[message]
        pub fn reset() -> Result<(), CounterError> {
            ensure_owner()?;
            COUNT.set(&0);
            Ok(())
        }

        /// Sets the increment policy (owner only).
        #[message]
        pub fn set_mode(mode: Mode) -> Result<(), CounterError> {
            ensure_owner()?;
            MODE.set(&mode);
            Ok(())
        }

        /// Total, policy and owner.
        #[message(view)]
        pub fn stats() -> Stats {
            Stats {
                total: COUNT.get().unwrap_or(0),
                mode: MODE.get().unwrap_or(Mode::Open),
                owner: OWNER.get(),
            }
        }

        /// The current total.
        #[message(view)]
        pub fn get() -> u64 {
            COUNT.get().unwrap_or(0)
        }

        /// How much each caller added, a page at a time.
        #[message(view)]
        pub fn contributions(after: Option<Address>, limit: u32) -> Vec<(Address, u64)> {
            BY_CALLER.page(after.as_ref(), limit.min(100) as usize).0
        }

        /// Echoes every argument type the SDK supports, to test dispatch.
        #[message(view)]
        #[allow(clippy::too_many_arguments, clippy::type_complexity)]
        pub fn echo(
            flag: bool,
            small: u8,
            signed: i64,
            big: u128,
            text: String,
            bytes: Vec<u8>,
            pair: (u32, Option<Hash>),
            list: Vec<Address>,
        ) -> (
            bool,
            u8,
            i64,
            u128,
            String,
            Vec<u8>,
            (u32, Option<Hash>),
            Vec<Address>,
        ) {
            (flag, small, signed, big, text, bytes, pair, list)
        }
    }

    fn ensure_owner() -> Result<(), CounterError> {
        if OWNER.get() == Some(caller()) {
            Ok(())
        } else {
            Err(CounterError::NotOwner)
        }
    }
}
