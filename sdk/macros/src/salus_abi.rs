//! `salus-abi`'s names and selector rule, compiled from its own source files (`names.rs`,
//! `selector.rs`) rather than depended on. A dependency edge from this crate would change
//! cargo's `-C metadata` hash of every contract crate (through `salus-sdk`), which feeds symbol
//! names and so the layout LTO produces: every contract's code, code hash and snapshot would
//! change for nothing. Including the files keeps one source without the edge.

#![allow(dead_code)]

#[path = "../../../runtime/abi/src/names.rs"]
mod names;
#[path = "../../../runtime/abi/src/selector.rs"]
mod selector;

pub use names::*;
pub use selector::selector;
