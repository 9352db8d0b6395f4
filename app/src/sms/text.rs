//! How a text travels as SMS: its alphabet (GSM-7 when every character is in the GSM tables,
//! UCS-2 otherwise) and its parts (3GPP TS 23.040 §9.2.3.24.1 concatenation). Shared by the
//! template editor (characters and parts as the client types), the campaign activation (parts
//! to debit) and the gateway's PDU builder (the parts themselves).

use super::gsm7;

/// Septets of a single GSM-7 message, and of each part of a concatenated one (7 septets go to
/// the user data header).
pub const GSM7_SINGLE: usize = 160;
pub const GSM7_PART: usize = 153;
/// UTF-16 units of a single UCS-2 message, and of each part of a concatenated one.
pub const UCS2_SINGLE: usize = 70;
pub const UCS2_PART: usize = 67;
/// The concatenation header numbers parts on one octet.
pub const MAX_PARTS: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alphabet {
    Gsm7,
    Ucs2,
    /// 8-bit data (shown as Latin-1 when read).
    Binary,
}

/// How a text will travel: its alphabet and its number of parts.
pub fn plan(text: &str) -> (Alphabet, usize) {
    let (alphabet, bodies) = split(text);
    (alphabet, bodies.len())
}

/// The alphabet of `text` and its parts' bodies.
pub fn split(text: &str) -> (Alphabet, Vec<Body>) {
    match gsm7::encode(text) {
        Some(septets) => (Alphabet::Gsm7, split_gsm7(&septets).into_iter().map(|s| Body::Septets(s.to_vec())).collect()),
        None => {
            let units: Vec<u16> = text.encode_utf16().collect();
            (Alphabet::Ucs2, split_ucs2(&units).into_iter().map(|u| Body::Units(u.to_vec())).collect())
        }
    }
}

/// A part's text: GSM-7 septets or UTF-16 units.
pub enum Body {
    Septets(Vec<u8>),
    Units(Vec<u16>),
}

/// Parts of at most 160 septets, or 153 when there are several, never ending on an escape.
fn split_gsm7(septets: &[u8]) -> Vec<&[u8]> {
    if septets.len() <= GSM7_SINGLE {
        return vec![septets];
    }
    let mut parts = Vec::new();
    let mut rest = septets;
    while !rest.is_empty() {
        let mut end = rest.len().min(GSM7_PART);
        if end < rest.len() && rest[end - 1] == gsm7::ESCAPE {
            end -= 1;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
    }
    parts
}

/// Parts of at most 70 UTF-16 units, or 67 when there are several, never cutting a surrogate pair.
fn split_ucs2(units: &[u16]) -> Vec<&[u16]> {
    if units.len() <= UCS2_SINGLE {
        return vec![units];
    }
    let mut parts = Vec::new();
    let mut rest = units;
    while !rest.is_empty() {
        let mut end = rest.len().min(UCS2_PART);
        if end < rest.len() && (0xd800..0xdc00).contains(&rest[end - 1]) {
            end -= 1;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
    }
    parts
}

