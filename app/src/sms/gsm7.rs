//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), and the
//! packing of septets into octets (§6.1.2.1).

/// The default alphabet, by septet.
const DEFAULT: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1b}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// Characters reached through the escape septet: (septet after the escape, character).
const EXTENSION: [(u8, char); 10] = [
    (0x0a, '\u{c}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2f, '\\'),
    (0x3c, '['),
    (0x3d, '~'),
    (0x3e, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

pub const ESCAPE: u8 = 0x1b;

/// The septets of `text`, or `None` when a character is outside both tables (the text then
/// goes as UCS-2). An extension character takes two septets.
pub fn encode(text: &str) -> Option<Vec<u8>> {
    let mut septets = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c != '\u{1b}' && let Some(septet) = DEFAULT.iter().position(|&d| d == c) {
            septets.push(septet as u8);
        } else if let Some(&(septet, _)) = EXTENSION.iter().find(|&&(_, e)| e == c) {
            septets.extend([ESCAPE, septet]);
        } else {
            return None;
        }
    }
    Some(septets)
}

/// The text of `septets`; an unknown escaped septet reads as its default character, as the
/// standard asks of receivers.
pub fn decode(septets: &[u8]) -> String {
    let mut text = String::with_capacity(septets.len());
    let mut escaped = false;
    for &septet in septets {
        let septet = septet & 0x7f;
        if escaped {
            escaped = false;
            match EXTENSION.iter().find(|&&(s, _)| s == septet) {
                Some(&(_, c)) => text.push(c),
                None => text.push(DEFAULT[septet as usize]),
            }
        } else if septet == ESCAPE {
            escaped = true;
        } else {
            text.push(DEFAULT[septet as usize]);
        }
    }
    text
}

/// Packs septets after `fill` zero bits (the fill that aligns them after a user data header).
pub fn pack(septets: &[u8], fill: usize) -> Vec<u8> {
    let bits = fill + 7 * septets.len();
    let mut octets = vec![0u8; bits.div_ceil(8)];
    for (i, &septet) in septets.iter().enumerate() {
        let at = fill + 7 * i;
        let (index, shift) = (at / 8, at % 8);
        let value = u16::from(septet & 0x7f) << shift;
        octets[index] |= value as u8;
        if shift > 1 {
            octets[index + 1] |= (value >> 8) as u8;
        }
    }
    octets
}

/// Unpacks up to `count` septets that start after `fill` bits; stops early at the end of `octets`.
pub fn unpack(octets: &[u8], fill: usize, count: usize) -> Vec<u8> {
    let mut septets = Vec::with_capacity(count);
    for i in 0..count {
        let at = fill + 7 * i;
        let (index, shift) = (at / 8, at % 8);
        if at + 7 > octets.len() * 8 {
            break;
        }
        let mut value = u16::from(octets[index]) >> shift;
        if shift > 1 {
            value |= u16::from(octets[index + 1]) << (8 - shift);
        }
        septets.push((value & 0x7f) as u8);
    }
    septets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_matches_the_classic_vector() {
        // "hellohello", as in every PDU-mode tutorial since GSM 03.38.
        let septets = encode("hellohello").unwrap();
        assert_eq!(pack(&septets, 0), [0xe8, 0x32, 0x9b, 0xfd, 0x46, 0x97, 0xd9, 0xec, 0x37]);
        assert_eq!(decode(&unpack(&pack(&septets, 0), 0, 10)), "hellohello");
    }

    #[test]
    fn every_character_of_both_tables_survives_with_any_fill() {
        let all: String = DEFAULT.iter().filter(|&&c| c != '\u{1b}').chain(EXTENSION.iter().map(|(_, c)| c)).collect();
        let septets = encode(&all).unwrap();
        assert_eq!(septets.len(), 127 + 2 * EXTENSION.len());
        for fill in 0..7 {
            assert_eq!(decode(&unpack(&pack(&septets, fill), fill, septets.len())), all, "fill {fill}");
        }
    }

    #[test]
    fn characters_outside_the_tables_need_ucs2() {
        assert_eq!(encode("Prix : 10 € {promo}").map(|s| s.len()), Some(22), "€, {{ and }} take two septets each");
        assert_eq!(encode("Ça coûte"), None, "û is not in the GSM alphabet");
        assert_eq!(encode("📞"), None);
        assert_eq!(encode("\u{1b}"), None, "the escape itself is not text");
    }
}
