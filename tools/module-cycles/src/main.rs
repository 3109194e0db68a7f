//! `salus-module-cycles [--edges] [DIR]`: prints the module cycles of every crate of a workspace,
//! or of one package (the current directory by default; `contracts` for the contracts'
//! workspace, `contracts/coverage` for one contract), and exits with 1 if there is one; with
//! `--edges`, also every dependency between sibling modules.

use std::path::PathBuf;
use std::process::ExitCode;

use salus_module_cycles::cycles::display_module;
use salus_module_cycles::workspace::{read_crate, workspace_crates};

fn main() -> ExitCode {
    let mut show_edges = false;
    let mut workspace_dir = PathBuf::from(".");
    for argument in std::env::args_os().skip(1) {
        if argument == "--edges" {
            show_edges = true;
        } else {
            workspace_dir = PathBuf::from(argument);
        }
    }
    if show_edges && let Err(error) = print_edges(&workspace_dir) {
        eprintln!("{error}");
        return ExitCode::from(2);
    }
    match salus_module_cycles::check_workspace(&workspace_dir) {
        Ok(report) => {
            println!("{report}");
            if report.cycles.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(2)
        }
    }
}

/// Every edge between sibling modules, crate by crate, with the number of paths making it.
fn print_edges(workspace_dir: &std::path::Path) -> Result<(), salus_module_cycles::WorkspaceError> {
    for krate in workspace_crates(workspace_dir)? {
        let tree = read_crate(workspace_dir, &krate)?;
        for (parent, edges) in salus_module_cycles::sibling_edges(&tree) {
            for ((from, to), evidence) in edges {
                println!(
                    "{krate}: under `{}`: {from} → {to} ({} paths)",
                    display_module(&parent),
                    evidence.len()
                );
            }
        }
    }
    Ok(())
}
