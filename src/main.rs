use std::process::ExitCode;

fn main() -> ExitCode {
    scopewatch::cli::main()
}
