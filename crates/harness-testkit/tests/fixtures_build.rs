//! Having an integration test makes `cargo test` build `hk` into the
//! target folder, where the examples find it. harness's tests do not rely
//! on this (`cargo test -p harness` alone never builds this package): they
//! run `cargo build -p harness-testkit --bin hk` themselves (`hk()` in
//! crates/harness/tests/common), which is up to date after this.

#[test]
fn hk_is_built() {
    let hk = std::path::Path::new(env!("CARGO_BIN_EXE_hk"));
    assert!(hk.is_file());
    let out = std::process::Command::new(hk)
        .arg("nonsense")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
