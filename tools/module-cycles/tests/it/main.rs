//! The workspace's crates have no module cycles: the check that fails the test suite when one
//! comes back (what counts as a cycle is in the crate's documentation).

use std::path::Path;

#[test]
fn no_crate_of_the_workspace_has_a_cycle_between_sibling_modules() {
    let workspace_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = salus_module_cycles::check_workspace(&workspace_dir)
        .unwrap_or_else(|error| panic!("the workspace cannot be read: {error}"));
    for package in [
        "salus-runtime",
        "salus-node",
        "salus-primitives",
        "salus-client",
    ] {
        assert!(
            report.crates.iter().any(|krate| krate.package == package),
            "{package} was not checked"
        );
    }
    assert!(report.cycles.is_empty(), "{report}");
}
