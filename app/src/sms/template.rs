//! An SMS campaign's message template: text with contact fields in braces, `{first_name}`,
//! `{last_name}`, `{phone}`, `{var1}`, `{var2}` or a custom column of the base by its name
//! (`{Ville}`). `{{` and `}}` stand for literal braces. Parsed the same way by the browser (to
//! warn and count parts as the client types) and by the server (to refuse, then to fill each
//! contact's message at activation).

use serde::{Deserialize, Serialize};

use crate::crm::contacts::Contact;

/// A field a template can name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TemplateField {
    FirstName,
    LastName,
    Phone,
    Var1,
    Var2,
    /// The custom column at this position of the base's custom fields.
    Custom(usize),
}

impl TemplateField {
    /// The names of the standard fields, as written between braces.
    pub const STANDARD: [(&'static str, TemplateField); 5] = [
        ("first_name", TemplateField::FirstName),
        ("last_name", TemplateField::LastName),
        ("phone", TemplateField::Phone),
        ("var1", TemplateField::Var1),
        ("var2", TemplateField::Var2),
    ];
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Field(TemplateField),
}

/// Why a template cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// `{name}` names no field of the base.
    UnknownField(String),
    /// A `{` with no `}` after it, or a `}` with no `{` before it.
    Unbalanced,
}

/// Splits `template` into text and fields; `custom_fields` are the base's custom column names
/// (matched without regard to case or surrounding spaces).
pub fn parse(template: &str, custom_fields: &[String]) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(TemplateError::Unbalanced),
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => return Err(TemplateError::Unbalanced),
                        Some(c) => name.push(c),
                    }
                }
                let field = field_named(name.trim(), custom_fields).ok_or_else(|| TemplateError::UnknownField(name.trim().to_string()))?;
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Field(field));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn field_named(name: &str, custom_fields: &[String]) -> Option<TemplateField> {
    TemplateField::STANDARD
        .iter()
        .find(|(standard, _)| standard.eq_ignore_ascii_case(name))
        .map(|(_, field)| field.clone())
        .or_else(|| custom_fields.iter().position(|custom| custom.trim().to_lowercase() == name.to_lowercase()).map(TemplateField::Custom))
}

/// The message of one contact. Values are trimmed; a missing custom value is empty.
pub fn render(pieces: &[Piece], contact: &Contact) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Field(field) => out.push_str(
                match field {
                    TemplateField::FirstName => &contact.first_name,
                    TemplateField::LastName => &contact.last_name,
                    TemplateField::Phone => &contact.phone,
                    TemplateField::Var1 => &contact.var1,
                    TemplateField::Var2 => &contact.var2,
                    TemplateField::Custom(index) => contact.custom.get(*index).map_or("", String::as_str),
                }
                .trim(),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> Contact {
        Contact {
            id: 1,
            line: 2,
            first_name: "Élodie".into(),
            last_name: " Durand ".into(),
            phone: "+33612345678".into(),
            var1: "12,50 €".into(),
            var2: String::new(),
            custom: vec!["Lyon".into()],
        }
    }

    #[test]
    fn fills_standard_and_custom_fields() {
        let custom = vec!["Ville".to_string()];
        let pieces = parse("Bonjour {first_name} {LAST_NAME}, votre solde à { ville } : {var1}.{var2}", &custom).unwrap();
        assert_eq!(render(&pieces, &contact()), "Bonjour Élodie Durand, votre solde à Lyon : 12,50 €.");
    }

    #[test]
    fn doubled_braces_are_literal() {
        let pieces = parse("{{code}} {{{first_name}}}", &[]).unwrap();
        assert_eq!(render(&pieces, &contact()), "{code} {Élodie}");
    }

    #[test]
    fn refuses_unknown_fields_and_unbalanced_braces() {
        assert_eq!(parse("Hello {prenom}", &[]), Err(TemplateError::UnknownField("prenom".into())));
        assert_eq!(parse("Hello {first_name", &[]), Err(TemplateError::Unbalanced));
        assert_eq!(parse("Hello first_name}", &[]), Err(TemplateError::Unbalanced));
        assert_eq!(parse("Hello {first{name}", &[]), Err(TemplateError::Unbalanced));
    }

    #[test]
    fn a_custom_field_past_the_contact_values_is_empty() {
        let pieces = parse("[{Code}]", &["Ville".into(), "Code".into()]).unwrap();
        assert_eq!(render(&pieces, &contact()), "[]");
    }
}
