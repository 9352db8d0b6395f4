//! Feeds arbitrary hex to the PDU readers (nothing may panic), and arbitrary text to the
//! SMS-SUBMIT builder: every part must read back, and the parts must give the text again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::sms::pdu::{read_deliver, read_status_report, read_submit, submit};

fuzz_target!(|data: &[u8]| {
    let hex: String = data.iter().map(|b| format!("{b:02X}")).collect();
    let _ = read_deliver(&hex);
    let _ = read_status_report(&hex);
    let _ = read_submit(&hex);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parts) = submit("+33656000000", text, true, data.len() as u8) {
            let read: String = parts.iter().map(|p| read_submit(&p.hex).expect("a built part reads back").text).collect();
            assert_eq!(read, text);
        }
    }
});
