//! Having an integration test makes `cargo test` build `hk` into the
//! target folder, where harness's tests and examples find it.

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
