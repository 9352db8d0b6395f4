//! The Relais app: pages, components, server function declarations and shared types, organised
//! by capability. Server-only code sits behind the `ssr` feature.
#![recursion_limit = "512"]

// The macro form of leptos_i18n's code generation. Its build-script successor pulls an ICU data
// exporter with networking into every build for no gain here (no plurals, no formatting).
#[allow(deprecated)]
mod locales {
    leptos_i18n::load_locales!();
}
pub use locales::i18n;

pub mod acd;
pub mod auth;
pub mod crm;
#[cfg(feature = "ssr")]
pub mod db;
pub mod error;
pub mod money;
pub mod shell;
pub mod sms;
pub mod tenants;
pub mod users;

pub use shell::{App, shell};
