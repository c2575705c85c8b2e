//! Links `harness-shim` as a position-dependent executable: its read-only
//! data then needs no relocation at load time, so those pages stay shared
//! between the hundred shims of a large stack instead of being copied into
//! each one (≈ 64 KiB per shim).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=harness-shim=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
