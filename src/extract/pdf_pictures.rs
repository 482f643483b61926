//! The page-sized pictures a PDF draws, kept before the text reader empties them
//! (it would run an image as content): a page with no text layer and such a picture
//! is a scan, read by OCR (`picture`).

use pdf_extract::{Document, Object};

use super::pdf_filters::{self, Step, Undecoded};
use super::pdf_prepare::{MAX_INFLATED, resolved};

/// A picture smaller than this on either side is a logo, a stamp or a photo, not a
/// scanned page (an A4 page at 100 dpi is 827 × 1169).
const MIN_SIDE: i64 = 400;

/// One page's picture, still as the PDF stores it (read only with the `ocr` feature):
/// its filters are run only when the page turns out to be a scan.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "ocr"), allow(dead_code))]
pub(super) enum PagePicture {
    /// A JPEG (DCTDecode), as scanners write colour and grey pages.
    Jpeg(Vec<u8>),
    /// 8-bit samples, `channels` per pixel, behind the decoding `steps` of its filters.
    Samples { width: u64, height: u64, channels: usize, steps: Vec<Step>, content: Vec<u8> },
    /// A picture in a codec not read here (CCITT fax, JBIG2, JPEG 2000), by its name.
    Unread(String),
}

/// The large pictures of each page, in page order.
pub(super) fn page_pictures(doc: &Document) -> Vec<Vec<PagePicture>> {
    doc.get_pages()
        .values()
        .map(|&page| {
            let images = doc.get_page_images(page).unwrap_or_default();
            images
                .iter()
                .filter(|i| i.width >= MIN_SIDE && i.height >= MIN_SIDE)
                .map(|image| {
                    let filters = image.filters.clone().unwrap_or_default();
                    if filters.iter().any(|f| f == "DCTDecode") {
                        return PagePicture::Jpeg(image.content.to_vec());
                    }
                    let (width, height, content) = (image.width as u64, image.height as u64, image.content.to_vec());
                    samples(doc, image.origin_dict, image.bits_per_component)
                        .map(|(channels, steps)| PagePicture::Samples { width, height, channels, steps, content })
                        .unwrap_or_else(|why| PagePicture::Unread(if filters.is_empty() { why } else { filters.join(", ") }))
                })
                .collect()
        })
        .collect()
}

/// A [`PagePicture::Samples`]'s samples: its filters run within the PDF's inflation budget.
#[cfg_attr(not(feature = "ocr"), allow(dead_code))]
pub(super) fn inflated(steps: &[Step], content: &[u8]) -> Result<Vec<u8>, String> {
    let mut budget = MAX_INFLATED;
    pdf_filters::decode(content, steps, &mut budget).map_err(undecoded)
}

/// The channels of an image's colour space and the steps of its filters; only 8-bit
/// grey and RGB pictures.
fn samples(doc: &Document, dict: &pdf_extract::Dictionary, bits: Option<i64>) -> Result<(usize, Vec<Step>), String> {
    let space = dict.get(b"ColorSpace").ok().map(|c| resolved(doc, c));
    let channels = match space.as_ref() {
        Some(Object::Name(name)) if name == b"DeviceGray" => 1,
        Some(Object::Name(name)) if name == b"DeviceRGB" => 3,
        _ => return Err("a picture in a colour space not read".to_string()),
    };
    if bits != Some(8) {
        return Err("a picture of other than 8 bits a sample".to_string());
    }
    let filter = dict.get(b"Filter").ok().map(|f| resolved(doc, f));
    let params = dict.get(b"DecodeParms").ok().map(|p| resolved(doc, p));
    Ok((channels, pdf_filters::steps(filter.as_ref(), params.as_ref()).map_err(undecoded)?))
}

fn undecoded(why: Undecoded) -> String {
    match why {
        Undecoded::OverBudget => format!("a picture inflating past {MAX_INFLATED} bytes"),
        Undecoded::Unsupported(why) => why,
    }
}
