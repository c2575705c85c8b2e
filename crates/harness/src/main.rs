//! `harness`: a thin entry point; everything lives in `harness-cli`.

fn main() {
    std::process::exit(harness_cli::main());
}
