//! Feeds arbitrary bytes, split at an arbitrary point, to the AMI codec and the live ACD model.
//! Nothing may panic, and every decoded message must re-encode into exactly one message with
//! the same number of fields.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use server::acd::live::AcdModel;
use server::pbx::ami::{AmiCodec, Frame};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| b as usize).min(data.len());
    // Inputs that start like a banner exercise the banner path; the rest go straight to messages.
    let mut codec = if data.starts_with(b"Asterisk") { AmiCodec::new() } else { AmiCodec::without_banner() };
    let mut model = AcdModel::new();
    let mut buf = BytesMut::new();
    for piece in [&data[..split], &data[split..]] {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(Frame::Message(message))) => {
                    model.apply(&message, 0);
                    let mut wire = BytesMut::new();
                    message.encode_into(&mut wire);
                    let mut again = AmiCodec::without_banner();
                    match again.decode(&mut wire) {
                        Ok(Some(Frame::Message(copy))) => assert_eq!(copy.fields().len(), message.fields().len()),
                        other => panic!("re-encoded message does not decode: {other:?}"),
                    }
                }
                Ok(Some(Frame::Banner(_))) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
