//! A report file's type, from its first bytes (never its URL or its Content-Type,
//! which portals get wrong), and the reader each type goes to.

use super::word97::doc_to_html;
use super::{Extraction, docx_to_html, extract_html, extract_ofd, extract_pdf, extract_picture, workbook_to_html};
use crate::decode::decode;

/// What a fetched report file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SourceType {
    Html,
    Pdf,
    Docx,
    Xlsx,
    /// A Word 97–2003 document (whatever its name: portals publish them as .doc and
    /// as .wps), or a compound file that holds neither a document nor a workbook.
    Doc,
    Image,
    /// A Word 97–2003 document saved by Kingsoft WPS Office, or a compound file in
    /// Kingsoft's own format.
    Wps,
    /// An Excel 97–2003 workbook.
    Xls,
    /// An Excel 97–2003 workbook saved by Kingsoft ET.
    Et,
    /// An OFD file (GB/T 33190-2016), China's fixed-layout format.
    Ofd,
}

impl SourceType {
    // Stored extractions name a type by its place here: new types go at the end.
    pub const ALL: [SourceType; 10] = [
        SourceType::Html,
        SourceType::Pdf,
        SourceType::Docx,
        SourceType::Xlsx,
        SourceType::Doc,
        SourceType::Image,
        SourceType::Wps,
        SourceType::Xls,
        SourceType::Et,
        SourceType::Ofd,
    ];

    /// The type from the file's bytes: its first bytes, and for a zip or a compound
    /// file the names of what it holds.
    pub fn sniff(body: &[u8]) -> SourceType {
        if body.starts_with(b"%PDF") {
            SourceType::Pdf
        } else if body.starts_with(b"PK\x03\x04") {
            zip_kind(body)
        } else if body.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            // A broken container is taken for a Word file, whose reader says what is wrong.
            Compound::of(body).map_or(SourceType::Doc, |c| c.source_type())
        } else if body.starts_with(b"\x89PNG") || body.starts_with(&[0xFF, 0xD8, 0xFF]) || body.starts_with(b"GIF8") {
            SourceType::Image
        } else {
            SourceType::Html
        }
    }

    /// The name the dataset's `source_type` column and the warnings use.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::Html => "html",
            SourceType::Pdf => "pdf",
            SourceType::Docx => "docx",
            SourceType::Xlsx => "xlsx",
            SourceType::Doc => "doc",
            SourceType::Image => "image",
            SourceType::Wps => "wps",
            SourceType::Xls => "xls",
            SourceType::Et => "et",
            SourceType::Ofd => "ofd",
        }
    }
}

/// A zip file is an OFD file when it holds `OFD.xml`, a workbook when it holds
/// `xl/`, and otherwise taken for a Word document (whose reader says if it is not).
fn zip_kind(body: &[u8]) -> SourceType {
    let Ok(zip) = zip::ZipArchive::new(std::io::Cursor::new(body)) else {
        return SourceType::Docx;
    };
    let names = || zip.file_names().flatten();
    if names().any(|name| name.eq_ignore_ascii_case("OFD.xml")) {
        SourceType::Ofd
    } else if names().any(|name| name.starts_with("xl/")) {
        SourceType::Xlsx
    } else {
        SourceType::Docx
    }
}

/// What a compound (OLE) file holds.
struct Compound {
    word: bool,
    workbook: bool,
    /// Its summary names Kingsoft's office suite (WPS Office writes its build as the
    /// custom property `KSOProductBuildVer`).
    kingsoft: bool,
}

impl Compound {
    /// What the file holds; `None` when it is no readable compound file.
    fn of(body: &[u8]) -> Option<Compound> {
        let mut file = cfb::CompoundFile::open(std::io::Cursor::new(body)).ok()?;
        let summaries = ["\u{5}DocumentSummaryInformation", "\u{5}SummaryInformation"];
        let kingsoft = summaries.iter().any(|name| {
            let mut summary = Vec::new();
            let read = file.open_stream(name).map(|s| std::io::Read::read_to_end(&mut std::io::Read::take(s, 1 << 20), &mut summary));
            read.is_ok() && names_kingsoft(&summary)
        });
        Some(Compound { word: file.is_stream("WordDocument"), workbook: file.is_stream("Workbook") || file.is_stream("Book"), kingsoft })
    }

    fn source_type(&self) -> SourceType {
        match (self.word, self.workbook, self.kingsoft) {
            (true, _, false) => SourceType::Doc,
            (true, _, true) => SourceType::Wps,
            (false, true, false) => SourceType::Xls,
            (false, true, true) => SourceType::Et,
            (false, false, true) => SourceType::Wps,
            (false, false, false) => SourceType::Doc,
        }
    }
}

/// Whether a summary stream names Kingsoft, in 8-bit or UTF-16 text.
fn names_kingsoft(summary: &[u8]) -> bool {
    ["KSOProductBuildVer", "Kingsoft", "WPS Office"].iter().any(|marker| {
        let utf16: Vec<u8> = marker.encode_utf16().flat_map(u16::to_le_bytes).collect();
        [marker.as_bytes(), &utf16[..]].iter().any(|needle| summary.windows(needle.len()).any(|w| w == *needle))
    })
}

/// Extracts a report file of any type, with the text encoding it had ("binary" for a
/// file that is not text). A file whose tables cannot be read gives no facts and a
/// warning saying why.
pub fn extract_file(kind: SourceType, body: &[u8], content_type: Option<&str>, host: Option<&str>, year: Option<i32>) -> (Extraction, String) {
    let extracted = match kind {
        SourceType::Pdf => extract_pdf(body, year).map(|extraction| (extraction, "binary".to_string())),
        SourceType::Ofd => extract_ofd(body, year).map(|extraction| (extraction, "binary".to_string())),
        SourceType::Image => extract_picture(body, year).map(|extraction| (extraction, "binary".to_string())),
        _ => as_html(kind, body, content_type, host).map(|(html, encoding)| (extract_html(&html, year), encoding)),
    };
    extracted.unwrap_or_else(|why| (Extraction::nothing(kind, &why), "binary".to_string()))
}

/// A report file as HTML for the extractor, with the text encoding it had; or why its
/// tables cannot be read.
fn as_html(kind: SourceType, body: &[u8], content_type: Option<&str>, host: Option<&str>) -> Result<(String, String), String> {
    match kind {
        SourceType::Html => {
            let decoded = decode(body, content_type, host);
            let encoding = decoded.encoding_name().to_string();
            Ok((decoded.text, encoding))
        }
        SourceType::Docx => docx_to_html(body).map(|h| (h, "binary".into())).map_err(|e| format!("unreadable Word file: {e:#}")),
        SourceType::Xlsx | SourceType::Xls | SourceType::Et => {
            workbook_to_html(body).map(|h| (h, "binary".into())).map_err(|e| format!("unreadable Excel file: {e:#}"))
        }
        SourceType::Doc | SourceType::Wps => compound_document_html(body),
        SourceType::Ofd => Err("OFD files are read by their own reader".to_string()),
        SourceType::Image => Err("a picture is read by its own reader".to_string()),
        SourceType::Pdf => Err("a PDF is read by its own reader".to_string()),
    }
}

/// A Word document in a compound file, or why it cannot be read: the container is
/// looked into again only when the reader fails, to name a file that is no document.
fn compound_document_html(body: &[u8]) -> Result<(String, String), String> {
    doc_to_html(body).map(|h| (h, "binary".into())).map_err(|e| match Compound::of(body).filter(|c| !c.word) {
        Some(Compound { kingsoft: true, .. }) => {
            "a Kingsoft WPS file in Kingsoft's own format (not Word- or Excel-compatible): not read; saved as .doc or .docx it would be".to_string()
        }
        Some(_) => "a compound (OLE) file holding neither a Word document nor a workbook: not read".to_string(),
        None => format!("unreadable Word 97-2003 file: {e:#}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compound file holding these streams.
    fn compound(streams: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        for (name, body) in streams {
            file.create_stream(name).unwrap().write_all(body).unwrap();
        }
        file.into_inner().into_inner()
    }

    #[test]
    fn compound_and_zip_files_are_told_apart_by_what_they_hold() {
        let kso: Vec<u8> = "KSOProductBuildVer".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let summary = "\u{5}DocumentSummaryInformation";
        assert_eq!(SourceType::sniff(&compound(&[("WordDocument", b"")])), SourceType::Doc);
        assert_eq!(SourceType::sniff(&compound(&[("WordDocument", b""), (summary, &kso)])), SourceType::Wps);
        assert_eq!(SourceType::sniff(&compound(&[("Workbook", b"")])), SourceType::Xls);
        assert_eq!(SourceType::sniff(&compound(&[("Book", b""), (summary, b"..KSOProductBuildVer..")])), SourceType::Et);
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("OFD.xml", zip::write::SimpleFileOptions::default()).unwrap();
        assert_eq!(SourceType::sniff(&zip.finish().unwrap().into_inner()), SourceType::Ofd);
    }

    #[test]
    fn a_compound_file_that_is_no_document_says_what_it_is() {
        let kingsoft = compound(&[("WpsContent", b"..."), ("\u{5}SummaryInformation", b"Kingsoft Office")]);
        let (read, _) = extract_file(SourceType::sniff(&kingsoft), &kingsoft, None, None, Some(2024));
        assert!(read.warnings[0].starts_with("wps report: a Kingsoft WPS file in Kingsoft's own format"), "{:?}", read.warnings);
        let other = compound(&[("Contents", b"...")]);
        let (read, _) = extract_file(SourceType::sniff(&other), &other, None, None, Some(2024));
        assert!(read.warnings[0].contains("neither a Word document nor a workbook"), "{:?}", read.warnings);
        let (broken, _) = extract_file(SourceType::Doc, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1], None, None, Some(2024));
        assert!(broken.warnings[0].contains("unreadable Word 97-2003 file: not a compound file"), "{:?}", broken.warnings);
    }

    #[test]
    fn the_type_comes_from_the_first_bytes() {
        assert_eq!((SourceType::sniff(b"%PDF-1.7"), SourceType::sniff(b"<html>")), (SourceType::Pdf, SourceType::Html));
        assert_eq!(SourceType::sniff(b"\x89PNG\r\n"), SourceType::Image);
        assert_eq!(SourceType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), SourceType::Image);
        assert_eq!(SourceType::sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1]), SourceType::Doc);
        // A picture cut short: no facts, and the warning says why (with the `ocr` feature,
        // that the picture is unreadable; without, how to get the feature).
        let (image, _) = extract_file(SourceType::Image, b"\x89PNG\r\n", None, None, Some(2024));
        let expected = if cfg!(feature = "ocr") { "image report: unreadable picture" } else { "image report: tables only as images: this build has no OCR" };
        assert!(image.facts.is_empty() && image.warnings[0].starts_with(expected), "{:?}", image.warnings);
    }
}
