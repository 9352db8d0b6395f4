//! Arbitrary bytes as an uploaded contact file: recognising it (CSV in any encoding, .xlsx with
//! its zip checks, .xls) and streaming its rows never panic.
#![no_main]

use std::ops::ControlFlow;

use app::crm::contacts::source::{Progress, read_rows, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("relais-fuzz-contact-{}", std::process::id()));
    std::fs::write(&path, data).expect("temp file");
    if let Ok(kind) = sniff(&path) {
        let _ = read_rows(&path, kind, &Progress::default(), |_, _| ControlFlow::Continue(()));
    }
});
