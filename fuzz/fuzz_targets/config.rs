//! Any text as `services.yaml`: the parser and validator either accept it
//! or say where it is wrong, and the error renders; never a panic, never
//! a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = harness_core::config::parse(text, "services.yaml") {
        let _ = errors.to_string();
    }
});
