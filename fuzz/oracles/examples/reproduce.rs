//! Runs files through a target's oracle on the stable toolchain, without libFuzzer: reproduces
//! a crash artifact of a cargo-fuzz run, or checks a would-be regression file, in a normal
//! build with a debugger-friendly stack.
//!
//! `cargo run -p salus-fuzz --example reproduce -- TARGET FILE…`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let name = arguments.next().ok_or("usage: reproduce TARGET FILE…")?;
    let target = salus_fuzz::target(&name).ok_or_else(|| format!("no target {name}"))?;
    for file in arguments {
        let input = std::fs::read(&file)?;
        println!("{name}: {file} ({} bytes)", input.len());
        (target.oracle)(&input);
        println!("{name}: {file}: every invariant holds");
    }
    Ok(())
}
