//! Arbitrary text as a queue_log line: parsing never panics, and a line that parses keeps its
//! five fixed fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::acd::queue_log::parse_line;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    if let Ok(parsed) = parse_line(&line) {
        let fixed: Vec<&str> = line.trim_end_matches(['\r', '\n']).splitn(6, '|').collect();
        assert_eq!(fixed[1], parsed.call_id);
        assert_eq!(fixed[2], parsed.queue);
        assert_eq!(fixed[3], parsed.agent);
    }
});
