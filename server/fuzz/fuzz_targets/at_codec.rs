//! Feeds arbitrary bytes, split at an arbitrary point, to the AT codec: nothing may panic, no
//! line may keep a line end, and the same bytes in one piece give the same lines.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use server::sms::at::{AtCodec, Line};
use tokio_util::codec::Decoder;

fn lines(pieces: &[&[u8]]) -> Vec<Line> {
    let mut codec = AtCodec::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(line)) => out.push(line),
                Ok(None) => break,
                Err(_) => return out,
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| b as usize).min(data.len());
    let split_lines = lines(&[&data[..split], &data[split..]]);
    for line in &split_lines {
        if let Line::Text(text) = line {
            assert!(!text.contains(['\r', '\n']));
        }
    }
    // A prompt split from its space, or a line cut before its end, must not change the result.
    assert_eq!(split_lines, lines(&[data]));
});
