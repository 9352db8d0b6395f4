//! Arbitrary text as a Master.csv line (cdr_csv): parsing never panics, whatever the quoting,
//! column count, times or numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::pbx::cdr::parse_line;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let zone = jiff::tz::TimeZone::get("Europe/Paris").expect("bundled time zone");
    let _ = parse_line(&line, &zone);
});
