//! docs/ABI.md's host-function table must be the ABI table: one row per function of
//! `for_each_host_function!`, in its order, with its exact name and signature.

use salus_abi::HOST_FUNCTIONS;

/// `(name, signature)` of every function, expanded from the table itself: parameter names and
/// types as the table writes them, e.g. `(ptr: i32, len: i32) -> i64`.
macro_rules! table_rows {
    ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:ident),* ) $(-> $ret:ident)? ; )*) => {
        vec![$({
            let params: &[&str] = &[$(concat!(stringify!($arg), ": ", stringify!($ty))),*];
            let result: Option<&str> = None $(.or(Some(stringify!($ret))))?;
            let mut signature = format!("({})", params.join(", "));
            if let Some(result) = result {
                signature.push_str(" -> ");
                signature.push_str(result);
            }
            (stringify!($name).to_string(), signature)
        }),*]
    };
}

/// The `(name, signature)` cells of the table under `## Host functions`, backticks removed.
fn documented_rows(document: &str) -> Vec<(String, String)> {
    let section = document
        .split_once("\n## Host functions\n")
        .map(|(_, section)| section)
        .expect("docs/ABI.md has a `## Host functions` section");
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        // The header row and the separator row.
        .skip(2)
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let cell = |index: usize| cells.get(index).unwrap_or(&"").trim_matches('`');
            (cell(1).to_string(), cell(2).to_string())
        })
        .collect()
}

#[test]
fn the_documented_host_functions_are_the_table() {
    let expected: Vec<(String, String)> = salus_abi::for_each_host_function!(table_rows);
    let names: Vec<&str> = HOST_FUNCTIONS
        .iter()
        .map(|function| function.name)
        .collect();
    assert_eq!(
        expected
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        names
    );

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ABI.md");
    let document = std::fs::read_to_string(path).expect("docs/ABI.md is readable");
    let documented = documented_rows(&document);
    if documented != expected {
        let rows: String = expected
            .iter()
            .map(|(name, signature)| format!("| `{name}` | `{signature}` | … |\n"))
            .collect();
        panic!(
            "docs/ABI.md's host-function table differs from `for_each_host_function!` in \
             runtime/abi/src/lib.rs, the one source of the ABI. Fix the table, not the test: one \
             row per function, in the table's order, whose first two columns read exactly (keep \
             or write the descriptions in the third):\n{rows}\ndocumented now: {documented:#?}"
        );
    }
}
