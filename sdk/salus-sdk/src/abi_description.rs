//! The contract's ABI description, assembled at compile time from what each `#[data]`,
//! `#[event]` and `#[error]` item says about itself.
//!
//! `#[contract]` sees only its own module, but a contract's types, events and errors may live
//! in sibling modules or in another contract's crate (a shared `Role`, another contract's
//! answer). So each of those attributes describes its own item — its JSON, and for types and
//! events, the types its fields name ([`AbiType::TYPES`]) — and `#[contract]` joins the pieces
//! in a constant: [`document`] walks the types its messages and events name, transitively, each
//! described once, and writes the JSON the `salus_abi` custom section holds. Nothing of this
//! runs in the contract: it is evaluated by the compiler.

/// A `#[data]` type as the ABI describes it.
pub struct TypeDescription {
    /// The name clients look it up by (the type's name, without its path).
    pub name: &'static str,
    /// Its JSON: name, kind, and fields or variants.
    pub json: &'static str,
    /// The `#[data]` types its fields name.
    pub uses: Types,
}

/// The `#[data]` types a type names: none (a primitive), one, or those of several parts (a
/// tuple, a struct's fields).
#[derive(Clone, Copy)]
pub struct Types(TypesInner);

#[derive(Clone, Copy)]
enum TypesInner {
    None,
    // A pointer rather than a reference: a type may contain itself (`children: Vec<Provision>`),
    // and the compiler would follow a reference in a constant into the static it points to
    // while that static is still being evaluated. Only `Types::one` creates it, from a
    // `&'static TypeDescription`.
    One(*const TypeDescription),
    All(&'static [Types]),
}

// SAFETY: the only pointer `Types` holds comes from a `&'static TypeDescription`, which is
// immutable and lives for the whole program; sharing it across threads is sharing that
// reference.
#[allow(unsafe_code)]
unsafe impl Sync for Types {}

impl Types {
    /// No `#[data]` type.
    pub const NONE: Types = Types(TypesInner::None);

    /// One `#[data]` type.
    pub const fn one(description: &'static TypeDescription) -> Types {
        Types(TypesInner::One(description as *const TypeDescription))
    }

    /// The types of several parts.
    pub const fn all(parts: &'static [Types]) -> Types {
        Types(TypesInner::All(parts))
    }
}

/// A type that can appear in a message, an event or a `#[data]` type: what the ABI must
/// describe for it. `#[data]` implements it; so does the SDK for the primitives, `String`,
/// `Address`, `Hash`, `Vec`, `Option`, arrays and tuples (the types clients can encode).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a type a contract's ABI can describe",
    note = "messages, events and #[data] types use #[data] types, integers, bool, String, Address, \
            Hash, Vec, Option, arrays and tuples"
)]
pub trait AbiType {
    /// The `#[data]` types this type names.
    const TYPES: Types;
}

/// An `#[event]` as the ABI describes it.
pub struct EventDescription {
    /// Its JSON: name, signature topic, fields.
    pub json: &'static str,
    /// The `#[data]` types its fields name.
    pub uses: Types,
}

/// Implemented by `#[event]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an #[event]",
    note = "`#[contract(events(...))]` lists #[event] structs declared outside the contract module"
)]
pub trait AbiEvent {
    /// The event's description.
    const DESCRIPTION: EventDescription;
}

/// Implemented by `#[error]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an #[error] enum",
    note = "the error of a fallible message (`Result<T, E>`) is an #[error] enum: the ABI lists its \
            variants, and a variant's name is the revert message"
)]
pub trait AbiError {
    /// The error's JSON: name and variants.
    const JSON: &'static str;
}

/// A piece of the ABI document.
pub enum Piece {
    /// Written as it is.
    Text(&'static str),
    /// The JSON of every `#[data]` type these name, transitively, each once, comma-separated,
    /// in the order first met.
    Types(Types),
}

/// Most distinct `#[data]` types one contract's ABI describes.
pub const MAX_TYPES: usize = 512;

/// The `#[data]` types met so far.
struct Seen {
    descriptions: [Option<&'static TypeDescription>; MAX_TYPES],
    count: usize,
}

const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// Adds the types `types` names, and theirs, depth first, to `seen`.
const fn visit(types: Types, seen: &mut Seen) {
    match types.0 {
        TypesInner::None => {}
        TypesInner::One(pointer) => {
            // SAFETY: `Types::one` made the pointer from a `&'static TypeDescription`.
            #[allow(unsafe_code)]
            let description: &'static TypeDescription = unsafe { &*pointer };
            let mut index = 0;
            while index < seen.count {
                if let Some(known) = seen.descriptions[index]
                    && same_text(known.name, description.name)
                {
                    if !same_text(known.json, description.json) {
                        panic!("two different #[data] types with the same name in one ABI");
                    }
                    return;
                }
                index += 1;
            }
            if seen.count == MAX_TYPES {
                panic!("more #[data] types than an ABI may describe (MAX_TYPES)");
            }
            seen.descriptions[seen.count] = Some(description);
            seen.count += 1;
            visit(description.uses, seen);
        }
        TypesInner::All(parts) => {
            let mut index = 0;
            while index < parts.len() {
                visit(parts[index], seen);
                index += 1;
            }
        }
    }
}

/// Writes `text` at `at` as far as `out` reaches; returns the position after it.
const fn put(out: &mut [u8], at: usize, text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if at + index < out.len() {
            out[at + index] = bytes[index];
        }
        index += 1;
    }
    at + bytes.len()
}

/// Writes the document into `out` as far as it reaches; returns its whole length.
const fn write(pieces: &[Piece], out: &mut [u8]) -> usize {
    let mut at = 0;
    let mut piece = 0;
    while piece < pieces.len() {
        match &pieces[piece] {
            Piece::Text(text) => at = put(out, at, text),
            Piece::Types(types) => {
                let mut seen = Seen {
                    descriptions: [None; MAX_TYPES],
                    count: 0,
                };
                visit(*types, &mut seen);
                let mut index = 0;
                while index < seen.count {
                    if index > 0 {
                        at = put(out, at, ",");
                    }
                    if let Some(description) = seen.descriptions[index] {
                        at = put(out, at, description.json);
                    }
                    index += 1;
                }
            }
        }
        piece += 1;
    }
    at
}

/// The length of the document `pieces` make.
pub const fn document_len(pieces: &[Piece]) -> usize {
    write(pieces, &mut [])
}

/// The document `pieces` make; `N` is its [`document_len`].
pub const fn document<const N: usize>(pieces: &[Piece]) -> [u8; N] {
    let mut out = [0u8; N];
    let written = write(pieces, &mut out);
    assert!(written == N, "the ABI document's length changed");
    out
}

/// The document as text (the pieces are text, so it always is).
pub const fn as_text(document: &'static [u8]) -> &'static str {
    match core::str::from_utf8(document) {
        Ok(text) => text,
        Err(_) => panic!("the ABI document is not UTF-8"),
    }
}

macro_rules! primitives {
    ($($ty:ty),*) => {
        $(impl AbiType for $ty {
            const TYPES: Types = Types::NONE;
        })*
    };
}

primitives!(
    bool,
    u8,
    u16,
    u32,
    u64,
    u128,
    i8,
    i16,
    i32,
    i64,
    i128,
    alloc::string::String,
    crate::Address,
    crate::Hash
);

impl<T: AbiType> AbiType for alloc::vec::Vec<T> {
    const TYPES: Types = T::TYPES;
}

impl<T: AbiType> AbiType for Option<T> {
    const TYPES: Types = T::TYPES;
}

impl<T: AbiType, const N: usize> AbiType for [T; N] {
    const TYPES: Types = T::TYPES;
}

macro_rules! tuples {
    ($(($($part:ident),*))*) => {
        $(impl<$($part: AbiType),*> AbiType for ($($part,)*) {
            const TYPES: Types = Types::all(&[$($part::TYPES),*]);
        })*
    };
}

tuples! {
    ()
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
    (A, B, C, D, E, F, G, H, I)
    (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K)
    (A, B, C, D, E, F, G, H, I, J, K, L)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Leaf;
    static LEAF: TypeDescription = TypeDescription {
        name: "Leaf",
        json: "{leaf}",
        uses: Types::NONE,
    };
    impl AbiType for Leaf {
        const TYPES: Types = Types::one(&LEAF);
    }

    /// Contains itself and a leaf twice.
    struct Tree;
    static TREE: TypeDescription = TypeDescription {
        name: "Tree",
        json: "{tree}",
        uses: Types::all(&[
            <Vec<Tree> as AbiType>::TYPES,
            <(u8, Leaf) as AbiType>::TYPES,
            <Option<[Leaf; 2]> as AbiType>::TYPES,
        ]),
    };
    impl AbiType for Tree {
        const TYPES: Types = Types::one(&TREE);
    }

    const PIECES: &[Piece] = &[
        Piece::Text("["),
        Piece::Types(Types::all(&[
            <Vec<(u64, Tree)> as AbiType>::TYPES,
            <Leaf as AbiType>::TYPES,
            <String as AbiType>::TYPES,
        ])),
        Piece::Text("]"),
    ];
    const LENGTH: usize = document_len(PIECES);
    const DOCUMENT: [u8; LENGTH] = document::<LENGTH>(PIECES);

    #[test]
    fn each_type_is_described_once_in_the_order_first_met_even_when_it_contains_itself() {
        assert_eq!(as_text(&DOCUMENT), "[{tree},{leaf}]");
    }

    #[test]
    fn no_types_write_nothing() {
        const EMPTY: &[Piece] = &[
            Piece::Text("a"),
            Piece::Types(Types::NONE),
            Piece::Text("b"),
        ];
        assert_eq!(document_len(EMPTY), 2);
        assert_eq!(&document::<2>(EMPTY), b"ab");
    }
}
