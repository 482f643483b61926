//! A report file's type, from its first bytes (never its URL or its Content-Type,
//! which portals get wrong), and the reader each type goes to.

use super::{Extraction, docx_to_html, extract_html, extract_pdf, workbook_to_html};
use crate::decode::decode;

/// What a fetched report file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SourceType {
    Html,
    Pdf,
    Docx,
    Xlsx,
    /// An OLE file: an old .doc, .xls or .wps.
    Doc,
    Image,
}

impl SourceType {
    pub const ALL: [SourceType; 6] = [SourceType::Html, SourceType::Pdf, SourceType::Docx, SourceType::Xlsx, SourceType::Doc, SourceType::Image];

    /// The type from the file's first bytes.
    pub fn sniff(body: &[u8]) -> SourceType {
        if body.starts_with(b"%PDF") {
            SourceType::Pdf
        } else if body.starts_with(b"PK\x03\x04") {
            let head = &body[..body.len().min(4096)];
            if head.windows(3).any(|w| w == b"xl/") { SourceType::Xlsx } else { SourceType::Docx }
        } else if body.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            SourceType::Doc
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
        }
    }
}

/// Extracts a report file of any type, with the text encoding it had ("binary" for a
/// file that is not text). A file whose tables cannot be read gives no facts and a
/// warning saying why.
pub fn extract_file(kind: SourceType, body: &[u8], content_type: Option<&str>, host: Option<&str>, year: Option<i32>) -> (Extraction, String) {
    let extracted = match kind {
        SourceType::Pdf => extract_pdf(body, year).map(|extraction| (extraction, "binary".to_string())),
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
        SourceType::Xlsx => workbook_to_html(body).map(|h| (h, "binary".into())).map_err(|e| format!("unreadable Excel file: {e:#}")),
        // Only workbooks among OLE files are read for now.
        SourceType::Doc => workbook_to_html(body)
            .map(|h| (h, "binary".into()))
            .map_err(|_| "tables in .doc/.wps files are not extracted yet".to_string()),
        SourceType::Image => Err("tables only as images: no facts extracted".to_string()),
        SourceType::Pdf => Err("a PDF is read by its own reader".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_first_bytes() {
        assert_eq!((SourceType::sniff(b"%PDF-1.7"), SourceType::sniff(b"<html>")), (SourceType::Pdf, SourceType::Html));
        assert_eq!(SourceType::sniff(b"\x89PNG\r\n"), SourceType::Image);
        assert_eq!(SourceType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), SourceType::Image);
        assert_eq!(SourceType::sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1]), SourceType::Doc);
        let (image, _) = extract_file(SourceType::Image, b"\x89PNG\r\n", None, None, Some(2024));
        assert_eq!(image.warnings, vec!["image report: tables only as images: no facts extracted".to_string()]);
    }
}
