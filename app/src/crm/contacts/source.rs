//! Reading uploaded contact files. `sniff` recognises the format from the bytes (never from the
//! name): CSV in UTF-8, UTF-16 or Windows-1252 with `;`, `,`, tab or `|`; .xlsx; .xls. Anything
//! else, empty files, absurd lines and inflated Excel archives are refused as a whole.
//! `read_rows` then streams rows to a callback: CSV through a transcoding reader and the `csv`
//! crate, .xlsx cell by cell through calamine's cell reader; only .xls (at most 65,536 rows) is
//! read as one range.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{DataRef, Reader, Xls, Xlsx};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::FileFormat;
use crate::error::{AppError, FileProblem};

/// A CSV line longer than this is not a contact.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Declared uncompressed size of an .xlsx archive, and its compression ratio, beyond which it is
/// treated as a zip bomb.
pub const EXCEL_MAX_UNCOMPRESSED: u64 = 256 << 20;
const EXCEL_MAX_RATIO: u64 = 100;
const SAMPLE_BYTES: usize = 256 * 1024;
const DELIMITERS: [u8; 4] = [b';', b',', b'\t', b'|'];

#[derive(Clone, Copy, Debug)]
pub enum SourceKind {
    Csv { encoding: &'static Encoding, delimiter: u8 },
    Xlsx,
    Xls,
}

impl SourceKind {
    pub fn format(self) -> FileFormat {
        match self {
            SourceKind::Csv { encoding, delimiter } => {
                FileFormat::Csv { encoding: encoding.name().to_string(), delimiter: char::from(delimiter) }
            }
            SourceKind::Xlsx => FileFormat::Xlsx,
            SourceKind::Xls => FileFormat::Xls,
        }
    }
}

fn refused(problem: FileProblem) -> AppError {
    AppError::File(problem)
}

fn io_error(error: std::io::Error) -> AppError {
    tracing::error!(%error, "reading an uploaded file");
    AppError::Internal
}

/// Recognises the file's format from its first bytes.
pub fn sniff(path: &Path) -> Result<SourceKind, AppError> {
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    File::open(path).and_then(|f| f.take(SAMPLE_BYTES as u64).read_to_end(&mut sample)).map_err(io_error)?;
    sniff_bytes(&sample, || check_xlsx(path))
}

/// The format of a file starting with `sample`; `check_xlsx` inspects a zip archive whole.
pub fn sniff_bytes(sample: &[u8], check_xlsx: impl FnOnce() -> Result<(), AppError>) -> Result<SourceKind, AppError> {
    if sample.is_empty() {
        return Err(refused(FileProblem::Empty));
    }
    if sample.starts_with(b"PK\x03\x04") {
        check_xlsx()?;
        return Ok(SourceKind::Xlsx);
    }
    if sample.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(SourceKind::Xls);
    }
    let (encoding, body) = match Encoding::for_bom(sample) {
        Some((encoding, bom)) => (encoding, &sample[bom..]),
        None if looks_binary(sample) => return Err(refused(FileProblem::NotTabular)),
        None => match std::str::from_utf8(sample) {
            Ok(_) => (UTF_8, sample),
            // A sample may end inside a character.
            Err(error) if error.error_len().is_none() => (UTF_8, sample),
            Err(_) => (WINDOWS_1252, sample),
        },
    };
    let (text, _) = encoding.decode_without_bom_handling(body);
    if text.trim().is_empty() {
        return Err(refused(FileProblem::Empty));
    }
    // Lines of the sample known to be complete; the last one may continue past it.
    let complete = if sample.len() < SAMPLE_BYTES { text.len() } else { text.rfind('\n').unwrap_or(0) };
    // A line too long already in the sample (complete or not) is too long in the file.
    if let Some(index) = text.split_inclusive('\n').position(|line| line.len() > MAX_LINE_BYTES) {
        return Err(refused(FileProblem::LineTooLong { line: index as u64 + 1, max_kib: (MAX_LINE_BYTES / 1024) as u32 }));
    }
    let delimiter = guess_delimiter(&text[..complete.max(text.find('\n').unwrap_or(text.len()))]);
    Ok(SourceKind::Csv { encoding, delimiter })
}

/// NUL bytes or many control characters: an image, a PDF, an executable…
fn looks_binary(sample: &[u8]) -> bool {
    let controls = sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)).count();
    sample.contains(&0) || controls * 100 > sample.len()
}

/// The delimiter that splits the first lines into the same number (> 1) of fields most often.
fn guess_delimiter(text: &str) -> u8 {
    let mut best = (b',', 0_usize, 0_usize);
    for delimiter in DELIMITERS {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let counts: Vec<usize> = reader.records().take(50).filter_map(Result::ok).map(|r| r.len()).collect();
        let Some(&widest) = counts.iter().max() else { continue };
        // The most common field count above one, and how many lines have it.
        let Some((fields, lines)) = (2..=widest)
            .map(|n| (n, counts.iter().filter(|&&c| c == n).count()))
            .max_by_key(|&(n, lines)| (lines, n))
        else {
            continue;
        };
        if (lines, fields) > (best.2, best.1) {
            best = (delimiter, fields, lines);
        }
    }
    best.0
}

/// Refuses archives that are not workbooks or would inflate beyond reason.
pub fn check_xlsx(path: &Path) -> Result<(), AppError> {
    let file = File::open(path).map_err(io_error)?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|_| refused(FileProblem::NotTabular))?;
    let (mut total, mut workbook) = (0_u64, false);
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|_| refused(FileProblem::UnreadableExcel))?;
        workbook |= entry.name().is_ok_and(|name| name == "xl/workbook.xml");
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if total > EXCEL_MAX_UNCOMPRESSED || (size > (1 << 20) && size / packed > EXCEL_MAX_RATIO) {
            return Err(refused(FileProblem::ExcelTooLarge));
        }
    }
    if workbook { Ok(()) } else { Err(refused(FileProblem::NotTabular)) }
}

/// Counts what has been read, for the progress bar: bytes of a CSV file, rows of a workbook.
#[derive(Clone, Default)]
pub struct Progress {
    pub done: Arc<AtomicU64>,
    pub total: Arc<AtomicU64>,
}

struct CountingReader<R> {
    inner: R,
    done: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Hands every non-blank row to `each` with its 1-based line (CSV) or row number (Excel), until
/// the end or until `each` breaks. The cells buffer is reused from row to row.
pub fn read_rows(
    path: &Path,
    kind: SourceKind,
    progress: &Progress,
    mut each: impl FnMut(u64, &[String]) -> ControlFlow<()>,
) -> Result<(), AppError> {
    let file = File::open(path).map_err(io_error)?;
    let mut cells: Vec<String> = Vec::new();
    match kind {
        SourceKind::Csv { encoding, delimiter } => {
            progress.total.store(file.metadata().map_err(io_error)?.len(), Ordering::Relaxed);
            let counting = CountingReader { inner: file, done: progress.done.clone() };
            let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .bom_override(true)
                .build(BufReader::with_capacity(256 * 1024, counting));
            // Records end at LF only, so that line numbers count CRLF lines right (with CRLF as
            // a terminator the reader counts each LF a record late); the CR is trimmed below.
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .has_headers(false)
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .buffer_capacity(256 * 1024)
                .from_reader(decoded);
            let mut record = csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(error) => {
                        tracing::warn!(%error, line = reader.position().line(), "CSV read error");
                        return Err(refused(FileProblem::NotTabular));
                    }
                }
                let line = record.position().map_or(0, csv::Position::line);
                if record.as_slice().len() > MAX_LINE_BYTES {
                    return Err(refused(FileProblem::LineTooLong { line, max_kib: (MAX_LINE_BYTES / 1024) as u32 }));
                }
                fill(&mut cells, record.iter());
                if let Some(last) = cells.last_mut()
                    && last.ends_with('\r')
                {
                    last.pop();
                }
                if !blank(&cells) && each(line, &cells).is_break() {
                    break;
                }
            }
        }
        SourceKind::Xlsx => {
            let mut book = Xlsx::new(BufReader::new(file)).map_err(|_| refused(FileProblem::UnreadableExcel))?;
            let sheet = book.sheet_names().into_iter().next().ok_or(refused(FileProblem::Empty))?;
            let mut reader = book.worksheet_cells_reader(&sheet).map_err(|_| refused(FileProblem::UnreadableExcel))?;
            progress.total.store(u64::from(reader.dimensions().end.0) + 1, Ordering::Relaxed);
            let mut current: Option<u32> = None;
            cells.clear();
            loop {
                let cell = reader.next_cell().map_err(|_| refused(FileProblem::UnreadableExcel))?;
                let row = cell.as_ref().map(|c| c.get_position().0);
                if current.is_some() && row != current {
                    let line = u64::from(current.unwrap_or(0)) + 1;
                    progress.done.store(line, Ordering::Relaxed);
                    if !blank(&cells) && each(line, &cells).is_break() {
                        return Ok(());
                    }
                    cells.iter_mut().for_each(String::clear);
                }
                let Some(cell) = cell else { break };
                current = row;
                let column = cell.get_position().1 as usize;
                if column >= 1024 {
                    continue;
                }
                if cells.len() <= column {
                    cells.resize(column + 1, String::new());
                }
                cells[column].clear();
                write_cell(&mut cells[column], cell.get_value());
            }
        }
        SourceKind::Xls => {
            let mut book = Xls::new(BufReader::new(file)).map_err(|_| refused(FileProblem::UnreadableExcel))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or(refused(FileProblem::Empty))?
                .map_err(|_| refused(FileProblem::UnreadableExcel))?;
            let first = u64::from(range.start().map_or(0, |(row, _)| row));
            progress.total.store(range.height() as u64, Ordering::Relaxed);
            for (index, row) in range.rows().enumerate() {
                progress.done.store(index as u64 + 1, Ordering::Relaxed);
                fill(&mut cells, row.iter().map(|cell| cell.to_string()));
                if !blank(&cells) && each(first + index as u64 + 1, &cells).is_break() {
                    break;
                }
            }
        }
    }
    Ok(())
}

fn fill<S: AsRef<str>>(cells: &mut Vec<String>, values: impl Iterator<Item = S>) {
    let mut n = 0;
    for value in values {
        if cells.len() <= n {
            cells.push(String::new());
        }
        cells[n].clear();
        cells[n].push_str(value.as_ref());
        n += 1;
    }
    cells.truncate(n);
}

fn blank(cells: &[String]) -> bool {
    cells.iter().all(|cell| cell.trim().is_empty())
}

fn write_cell(out: &mut String, value: &DataRef<'_>) {
    use std::fmt::Write;
    let _ = match value {
        DataRef::Int(i) => write!(out, "{i}"),
        // Numbers typed into a spreadsheet (phones!) come back as floats: no ".0".
        DataRef::Float(f) => write!(out, "{f}"),
        DataRef::String(s) => write!(out, "{s}"),
        DataRef::SharedString(s) => write!(out, "{s}"),
        DataRef::Bool(b) => write!(out, "{b}"),
        DataRef::DateTime(d) => write!(out, "{d}"),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => write!(out, "{s}"),
        DataRef::Error(_) | DataRef::Empty => Ok(()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(bytes: &[u8]) -> Result<SourceKind, AppError> {
        sniff_bytes(bytes, || Ok(()))
    }

    fn csv(bytes: &[u8]) -> (&'static str, char) {
        match kind(bytes).unwrap() {
            SourceKind::Csv { encoding, delimiter } => (encoding.name(), char::from(delimiter)),
            other => panic!("not CSV: {other:?}"),
        }
    }

    #[test]
    fn encodings_and_delimiters_are_recognised() {
        assert_eq!(csv("nom;prénom;tel\nDupont;Élodie;0612345678\n".as_bytes()), ("UTF-8", ';'));
        assert_eq!(csv(b"nom,pr\xe9nom,tel\nDupont,\xc9lodie,0612345678\n"), ("windows-1252", ','));
        assert_eq!(csv(b"a\tb\tc\n1\t2\t3\n"), ("UTF-8", '\t'));
        assert_eq!(csv(b"a|b\n1|2\n"), ("UTF-8", '|'));
        // Commas inside quoted names do not fool the guess.
        assert_eq!(csv(b"name;phone\n\"Dupont, Jean\";0612345678\n\"Roux, Ana\";0698765432\n"), ("UTF-8", ';'));
        assert_eq!(csv(b"\xef\xbb\xbfphone\n0612345678\n"), ("UTF-8", ','));
        assert_eq!(csv(b"\xff\xfep\x00h\x00o\x00n\x00e\x00\n\x00"), ("UTF-16LE", ','));
    }

    #[test]
    fn what_is_not_a_table_is_refused() {
        assert_eq!(kind(b"").unwrap_err(), AppError::File(FileProblem::Empty));
        assert_eq!(kind(b"\xef\xbb\xbf \r\n\n").unwrap_err(), AppError::File(FileProblem::Empty));
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap_err(), AppError::File(FileProblem::NotTabular));
        let long = format!("phone\n{}\n", "9".repeat(MAX_LINE_BYTES + 10));
        assert_eq!(
            kind(long.as_bytes()).unwrap_err(),
            AppError::File(FileProblem::LineTooLong { line: 2, max_kib: 64 })
        );
        // A single line running past the whole sample.
        let endless = vec![b'x'; SAMPLE_BYTES];
        assert!(matches!(kind(&endless), Err(AppError::File(FileProblem::LineTooLong { line: 1, .. }))));
        assert!(matches!(kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), Ok(SourceKind::Xls)));
    }

    #[test]
    fn csv_rows_stream_with_their_lines() {
        for newline in ["\n", "\r\n"] {
            let text = "nom;tel\n\"Dupont\n(Jean)\";0612345678\n\n;\n\u{c9}lodie;0698765432\n".replace('\n', newline);
            let path = temp_file("contacts.csv", &encoding_rs::WINDOWS_1252.encode(&text).0);
            let kind = sniff(&path).unwrap();
            let progress = Progress::default();
            let mut rows = Vec::new();
            read_rows(&path, kind, &progress, |line, cells| {
                rows.push((line, cells.to_vec()));
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(
                rows,
                vec![
                    (1, vec!["nom".to_string(), "tel".into()]),
                    (2, vec![format!("Dupont{newline}(Jean)"), "0612345678".into()]),
                    (6, vec!["Élodie".into(), "0698765432".into()]),
                ],
                "{newline:?}"
            );
            assert_eq!(progress.done.load(Ordering::Relaxed), progress.total.load(Ordering::Relaxed));
            std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        }
    }

    /// A minimal .xlsx as spreadsheets write it: shared strings, a number, an inline string.
    fn workbook(sheet_rows: &str, shared: &[&str]) -> Vec<u8> {
        use std::io::Write;
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut bytes);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let strings: String = shared.iter().map(|s| format!("<si><t>{s}</t></si>")).collect();
        let files = [
            ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.to_string()),
            ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
            ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string()),
            ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.to_string()),
            ("xl/sharedStrings.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">{strings}</sst>"#, n = shared.len())),
            ("xl/worksheets/sheet1.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_rows}</sheetData></worksheet>"#)),
        ];
        for (name, content) in files {
            zip.start_file(name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        bytes.into_inner()
    }

    fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("relais-source-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn xlsx_rows_stream_with_numbers_as_typed() {
        // Row 1: header (shared strings); row 3: a phone typed as a number (its leading 0 gone),
        // a name as an inline string, a gap in column B; row 2 is missing altogether.
        let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>Zoé</t></is></c><c r="C3"><v>612345678</v></c></row>"#;
        let path = temp_file("contacts.xlsx", &workbook(rows, &["Prénom", "Nom", "Téléphone"]));
        let kind = sniff(&path).unwrap();
        assert!(matches!(kind, SourceKind::Xlsx));
        let mut read = Vec::new();
        read_rows(&path, kind, &Progress::default(), |line, cells| {
            read.push((line, cells.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(
            read,
            vec![
                (1, vec!["Prénom".to_string(), "Nom".into(), "Téléphone".into()]),
                (3, vec!["Zoé".into(), String::new(), "612345678".into()]),
            ]
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn inflated_or_foreign_zips_are_refused() {
        // A sheet of 2 MB of zeros packs into a few kilobytes: a zip bomb in miniature.
        let bomb = workbook(&"0".repeat(2 << 20), &[]);
        let path = temp_file("bomb.xlsx", &bomb);
        assert_eq!(sniff(&path).unwrap_err(), AppError::File(FileProblem::ExcelTooLarge));
        // A zip that is not a workbook (a .docx, an archive of photos…).
        let mut other = std::io::Cursor::new(Vec::new());
        {
            use std::io::Write;
            let mut zip = zip::ZipWriter::new(&mut other);
            zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(b"<w:document/>").unwrap();
            zip.finish().unwrap();
        }
        let path = temp_file("letter.xlsx", other.get_ref());
        assert_eq!(sniff(&path).unwrap_err(), AppError::File(FileProblem::NotTabular));
        // Truncated archives are refused, not crashed on.
        let path = temp_file("cut.xlsx", &workbook("", &[])[..100]);
        assert!(matches!(sniff(&path), Err(AppError::File(FileProblem::NotTabular | FileProblem::UnreadableExcel))));
    }
}
