use std::process::ExitCode;

mod allocator;

fn main() -> ExitCode {
    scopewatch::cli::main()
}
