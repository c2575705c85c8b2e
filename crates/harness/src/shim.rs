//! `harness-shim`: one per running service; see `harness-shim`'s docs.

fn main() {
    std::process::exit(harness_shim::main());
}
