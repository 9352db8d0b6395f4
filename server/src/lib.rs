//! The server's own machinery, as a library so that the binary, tests, benchmarks and fuzz
//! targets share it: the PBX bridge (AMI), the live ACD model, and the GSM modems' protocol (AT
//! lines, SMS PDUs). The binary (`main.rs`) adds the command line, the web server and the demo.

pub mod acd;
pub mod pbx;
pub mod sms;
