//! AMI ingest: how many events per second the codec and the live ACD model absorb together.
//! Replays the real capture (`shared/fixtures/asterisk/ami-session.txt`, Asterisk's side only)
//! many times through one decoder and one model, as a long-lived connection would.
//!
//! Run: `cargo bench -p server --bench ami_ingest`

use std::time::Instant;

use bytes::BytesMut;
use server::acd::live::AcdModel;
use server::pbx::ami::{AmiCodec, Frame};
use tokio_util::codec::Decoder;

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/asterisk/ami-session.txt");
    let raw = std::fs::read(&path).expect("capture");
    // Keep Asterisk's side, without the banner: the stream of messages.
    let mut stream = Vec::new();
    let text = String::from_utf8_lossy(&raw);
    let mut from_asterisk = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("<<< +") {
            from_asterisk = true;
        } else if line.starts_with(">>> +") {
            from_asterisk = false;
        } else if from_asterisk && !line.starts_with("Asterisk Call Manager/") {
            stream.extend_from_slice(line.as_bytes());
        }
    }
    let rounds = 200;
    let chunk = 4096; // a typical socket read
    let mut samples = Vec::new();
    for _ in 0..5 {
        let mut codec = AmiCodec::without_banner();
        let mut model = AcdModel::new();
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let mut events = 0u64;
        let started = Instant::now();
        for round in 0..rounds {
            for piece in stream.chunks(chunk) {
                buf.extend_from_slice(piece);
                while let Some(frame) = codec.decode(&mut buf).expect("decodes") {
                    if let Frame::Message(message) = frame {
                        model.apply(&message, round);
                        events += 1;
                    }
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        samples.push((events as f64 / seconds, events, seconds, stream.len() * rounds as usize));
    }
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, events, seconds, bytes) = samples[samples.len() / 2];
    println!(
        "ami_ingest: {events} messages ({:.1} MB) in {seconds:.3} s = {rate:.0} messages/s (median of 5; min {:.0}, max {:.0})",
        bytes as f64 / 1e6,
        samples[0].0,
        samples[samples.len() - 1].0
    );
}
