//! The operator CLI; everything is in [`a4b_audit::cli`].

fn main() -> std::process::ExitCode {
    a4b_audit::cli::main()
}
