//! Money as Relais keeps it: integer minor units of the tenant's ISO 4217 currency (cents for the
//! euro, yen as they are), never floating point. Shown and typed in the reader's language.

use crate::i18n::Locale;

/// Digits after the decimal separator in `currency` (2 when the code is unknown).
pub fn exponent(currency: &str) -> u32 {
    iso_currency::Currency::from_code(currency).and_then(|c| c.exponent()).map_or(2, u32::from)
}

/// `1234` EUR → `12,34 €` in French, `€12.34` in English.
pub fn format(minor: i64, currency: &str, locale: Locale) -> String {
    let digits = exponent(currency);
    let scale = 10_i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, fraction) = (minor.unsigned_abs() / scale as u64, minor.unsigned_abs() % scale as u64);
    let separator = if locale == Locale::fr { ',' } else { '.' };
    let amount = if digits == 0 { whole.to_string() } else { format!("{whole}{separator}{fraction:0width$}", width = digits as usize) };
    let symbol = iso_currency::Currency::from_code(currency).map(|c| c.symbol().to_string()).unwrap_or_else(|| currency.to_string());
    match locale {
        Locale::fr => format!("{sign}{amount}\u{a0}{symbol}"),
        Locale::en if symbol.chars().count() == 1 => format!("{sign}{symbol}{amount}"),
        Locale::en => format!("{sign}{amount} {symbol}"),
    }
}

/// Reads an amount typed in major units (`50`, `12.5`, `12,50`) into minor units; `None` when it
/// is not a number, has more decimals than the currency, or is too large.
pub fn parse(typed: &str, currency: &str) -> Option<i64> {
    let digits = exponent(currency) as usize;
    let typed: String = typed.trim().chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let (negative, typed) = match typed.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, typed),
    };
    let (whole, fraction) = match typed.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, fraction),
        None => (typed.as_str(), ""),
    };
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > digits {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<digits$}").parse().ok()? };
    let minor = whole.checked_mul(10_i64.pow(digits as u32))?.checked_add(fraction)?;
    Some(if negative { -minor } else { minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_each_language_and_currency() {
        assert_eq!(format(123_456, "EUR", Locale::fr), "1234,56\u{a0}€");
        assert_eq!(format(5, "EUR", Locale::en), "€0.05");
        assert_eq!(format(-250, "EUR", Locale::en), "-€2.50");
        assert_eq!(format(1500, "JPY", Locale::en), "¥1500");
        assert_eq!(format(1500, "TND", Locale::fr).split('\u{a0}').next(), Some("1,500"));
    }

    #[test]
    fn parses_what_people_type() {
        assert_eq!(parse("50", "EUR"), Some(5000));
        assert_eq!(parse(" 12,5 ", "EUR"), Some(1250));
        assert_eq!(parse("0.05", "EUR"), Some(5));
        assert_eq!(parse("1 000,00", "EUR"), Some(100_000));
        assert_eq!(parse("-3", "EUR"), Some(-300));
        assert_eq!(parse("1500", "JPY"), Some(1500));
        assert_eq!(parse("1.5", "JPY"), None);
        assert_eq!(parse("0.001", "EUR"), None);
        assert_eq!(parse("abc", "EUR"), None);
        assert_eq!(parse("", "EUR"), None);
        assert_eq!(parse("99999999999999999999", "EUR"), None);
    }
}
