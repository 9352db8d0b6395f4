//! Phone numbers to one canonical form, E.164, with libphonenumber's rules (the `phonenumber`
//! crate): national numbers are read in the base's country, international ones as written.

use phonenumber::country::Id;

/// The country national numbers are read in; `None` for a code libphonenumber does not know.
pub fn country(code: &str) -> Option<Id> {
    code.trim().to_ascii_uppercase().parse().ok()
}

#[derive(Debug, PartialEq, Eq)]
pub enum PhoneProblem {
    Missing,
    Invalid,
}

/// The number in E.164 as an integer (country code and national number, at most 15 digits),
/// which keys deduplication cheaply. Spreadsheets often drop a national number's leading 0, so a
/// number that fails as written is tried again with it.
pub fn normalise(raw: &str, country: Id) -> Result<u64, PhoneProblem> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(PhoneProblem::Missing);
    }
    if raw.len() > 40 {
        return Err(PhoneProblem::Invalid);
    }
    parse(raw, country)
        .or_else(|| {
            let bare = raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
            bare.then(|| parse(&format!("0{raw}"), country)).flatten()
        })
        .ok_or(PhoneProblem::Invalid)
}

fn parse(raw: &str, country: Id) -> Option<u64> {
    // International forms are read without a default country: with one, the library drops the
    // leading zero Italian numbers keep. `00` is the international prefix in most of the world.
    let international = raw.strip_prefix("00").map(|rest| format!("+{rest}"));
    let number = match international.as_deref() {
        Some(raw) => phonenumber::parse(None, raw),
        None if raw.starts_with('+') => phonenumber::parse(None, raw),
        None => phonenumber::parse(Some(country), raw),
    }
    .ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    let code = u64::from(number.code().value());
    let national = number.national().value();
    // Leading zeros kept in E.164 (Italian fixed lines) take digit positions too.
    let digits = national.checked_ilog10().map_or(1, |d| d + 1) + u32::from(number.national().zeros());
    code.checked_mul(10u64.checked_pow(digits)?)?.checked_add(national)
}

/// `+` and the digits.
pub fn e164(number: u64) -> String {
    format!("+{number}")
}

/// Whether an E.164 number can receive SMS: mobile numbers, and those the numbering plan cannot
/// tell from fixed lines (North America). Fixed lines, free, shared-cost and premium-rate
/// numbers, voicemail access and the like cannot.
pub fn can_receive_sms(e164: &str) -> bool {
    use phonenumber::Type;
    let Ok(number) = phonenumber::parse(None, e164) else { return false };
    matches!(
        number.number_type(&phonenumber::metadata::DATABASE),
        Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::Pager
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr() -> Id {
        country("fr").unwrap()
    }

    #[test]
    fn national_and_international_forms_meet() {
        for written in ["06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678", "(0)6-12-34-56-78", "612345678"] {
            assert_eq!(normalise(written, fr()).map(e164), Ok("+33612345678".to_string()), "{written}");
        }
        // A foreign number written internationally keeps its country.
        assert_eq!(normalise("+32 470 12 34 56", fr()).map(e164), Ok("+32470123456".to_string()));
        // Read in Belgium, the national form means a Belgian number.
        assert_eq!(normalise("0470 12 34 56", country("BE").unwrap()).map(e164), Ok("+32470123456".to_string()));
        // Italian fixed numbers keep their leading zero.
        assert_eq!(normalise("+39 06 6982 1234", fr()).map(e164), Ok("+390669821234".to_string()));
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert_eq!(normalise("", fr()), Err(PhoneProblem::Missing));
        assert_eq!(normalise("   ", fr()), Err(PhoneProblem::Missing));
        for bad in ["06 12", "abc", "0612345678901234", "+33 0 00 00 00 00", &"9".repeat(60)] {
            assert_eq!(normalise(bad, fr()), Err(PhoneProblem::Invalid), "{bad}");
        }
        assert!(country("XX").is_none());
    }

    #[test]
    fn only_mobile_numbers_receive_sms() {
        for mobile in ["+33612345678", "+33756123456", "+32470123456", "+12015550123"] {
            assert!(can_receive_sms(mobile), "{mobile}");
        }
        // Paris fixed line, French free phone, French premium rate, not a number.
        for other in ["+33142685300", "+33800123456", "+33899123456", "06 12", ""] {
            assert!(!can_receive_sms(other), "{other}");
        }
    }
}
