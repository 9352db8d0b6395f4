//! Small pieces shared by pages: language switch, error line, CSV download link.

use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::*;

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class="lang" data-testid="lang-switch">
            <button
                class:active=move || i18n.get_locale() == Locale::fr
                lang="fr"
                on:click=move |_| i18n.set_locale(Locale::fr)
            >
                "FR"
            </button>
            <button
                class:active=move || i18n.get_locale() == Locale::en
                lang="en"
                on:click=move |_| i18n.set_locale(Locale::en)
            >
                "EN"
            </button>
        </span>
    }
}

/// The translated message of the last failed call, if any.
#[component]
pub fn ErrorLine(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="error" role="alert" data-testid="error">
            {move || error.get().map(|e| e.message(i18n.get_locale()))}
        </p>
    }
}

#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <main class="not-found">
            <p class="error" role="alert">{move || error.message(i18n.get_locale())}</p>
            <a href="/login">{t!(i18n, back_home)}</a>
        </main>
    }
}

/// The error of an action's last result.
pub fn action_error<I, T>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|result| result.err()))
}

/// Moves `saved` on each success of `action`, so the data it changed is loaded again; a refused
/// action leaves the page, and what was typed, as it was.
pub fn reload_on_success<I, T>(saved: RwSignal<usize>, action: ServerAction<I>)
where
    I: server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            saved.update(|n| *n += 1);
        }
    });
}

/// Previous and next buttons over `pages` pages of a list.
#[component]
pub fn Pager(page: RwSignal<u32>, pages: u32) -> impl IntoView {
    let i18n = use_i18n();
    let last = move || page.get() + 1 >= pages;
    view! {
        <p class="pager" data-testid="pager">
            <button data-testid="previous" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>
                {t!(i18n, previous)}
            </button>
            <button data-testid="next" disabled=last on:click=move |_| page.update(|p| *p += 1)>
                {t!(i18n, next)}
            </button>
        </p>
    }
}

/// A link that downloads the given table as CSV (UTF-8 with BOM so spreadsheets read accents).
///
/// `rows` builds the table in the chosen language from data the page already awaited: place the
/// link inside the page's `Suspend`, never over a resource read outside it — that read during
/// server rendering can deadlock Leptos 0.8 (leptos#4673) and differs between server and browser.
#[component]
pub fn CsvLink<F>(#[prop(into)] filename: String, rows: F) -> impl IntoView
where
    F: Fn(Locale) -> Vec<Vec<String>> + Send + Sync + 'static,
{
    let i18n = use_i18n();
    let href = move || format!("data:text/csv;charset=utf-8,{}", percent_encode(&to_csv(&rows(i18n.get_locale()))));
    view! {
        <a class="button secondary" download=filename href=href data-testid="csv-export">
            {t!(i18n, export_csv)}
        </a>
    }
}

pub fn to_csv(rows: &[Vec<String>]) -> String {
    let mut out = String::from(CSV_BOM);
    for row in rows {
        out.push_str(&csv_line(row));
    }
    out
}

/// Starts every CSV Relais writes, so that spreadsheets read accents.
pub const CSV_BOM: char = '\u{feff}';

/// One CSV line, CRLF-terminated.
pub fn csv_line<S: AsRef<str>>(row: &[S]) -> String {
    let cells: Vec<String> = row.iter().map(|cell| csv_cell(cell.as_ref())).collect();
    format!("{}\r\n", cells.join(","))
}

/// Quotes when needed, and defuses cells a spreadsheet would run as a formula.
fn csv_cell(cell: &str) -> String {
    let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() };
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses() {
        let rows = vec![
            vec!["login".into(), "name".into()],
            vec!["a,b".into(), "say \"hi\"".into()],
            vec!["=cmd()".into(), "Élodie".into()],
        ];
        assert_eq!(
            to_csv(&rows),
            "\u{feff}login,name\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n'=cmd(),Élodie\r\n"
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("a b,é"), "a%20b%2C%C3%A9");
    }
}
