//! A PDF stream's filters decoded within a byte budget. `/Filter` is a name or an
//! array of names applied in turn, each with its `/DecodeParms` (a dictionary, or an
//! array of them, one per filter). The reader decodes Flate, LZW and ASCII85 chains of
//! any length with no bound, and a 31 KB file whose stream is Flate twice inflates to
//! gigabytes: an allocation failure that no `catch_unwind` survives. So every chain is
//! decoded here before the reader sees it, and every byte any step puts out is counted
//! against one budget for the whole file.

use std::io::Read;

use pdf_extract::{Dictionary, Object};

/// One decoding step: what `/Filter` names, with the predictor its parameters ask for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Step {
    codec: Codec,
    predictor: Predictor,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Codec {
    Flate,
    Lzw { early_change: bool },
    Ascii85,
    AsciiHex,
    RunLength,
}

/// The predictor of a Flate or LZW step (`/Predictor` 2 is TIFF's, 10–15 PNG's).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Predictor {
    None,
    Tiff { bytes_per_pixel: usize, bytes_per_row: usize },
    Png { bytes_per_pixel: usize, pixels_per_row: usize },
}

/// Why a stream was left undecoded.
#[derive(Debug, PartialEq)]
pub(super) enum Undecoded {
    /// Its steps put out more than the budget left: the file is not read.
    OverBudget,
    /// A filter that holds no text (an image codec, a crypt filter) or is malformed:
    /// the stream is read as empty.
    Unsupported(String),
}

/// The steps a stream's `/Filter` and `/DecodeParms` name, both already resolved
/// (references replaced by what they point at). No filter is no step.
pub(super) fn steps(filter: Option<&Object>, params: Option<&Object>) -> Result<Vec<Step>, Undecoded> {
    let names: Vec<&[u8]> = match filter {
        None | Some(Object::Null) => return Ok(Vec::new()),
        Some(Object::Name(name)) => vec![name],
        Some(Object::Array(names)) => names.iter().map(|n| n.as_name().map_err(|_| unsupported("a filter that is not a name"))).collect::<Result<_, _>>()?,
        Some(_) => return Err(unsupported("a /Filter that is neither a name nor an array")),
    };
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            // One dictionary for several filters is malformed; the reader gives it to
            // each, and so does this.
            let params = match params {
                Some(Object::Dictionary(d)) => Some(d),
                Some(Object::Array(each)) => each.get(i).and_then(|p| p.as_dict().ok()),
                _ => None,
            };
            step(name, params)
        })
        .collect()
}

fn step(name: &[u8], params: Option<&Dictionary>) -> Result<Step, Undecoded> {
    let int = |key: &[u8], default: i64| params.and_then(|p| p.get(key).ok()).and_then(|v| v.as_i64().ok()).unwrap_or(default);
    let codec = match name {
        b"FlateDecode" | b"Fl" => Codec::Flate,
        b"LZWDecode" | b"LZW" => Codec::Lzw { early_change: int(b"EarlyChange", 1) != 0 },
        b"ASCII85Decode" | b"A85" => Codec::Ascii85,
        b"ASCIIHexDecode" | b"AHx" => Codec::AsciiHex,
        b"RunLengthDecode" | b"RL" => Codec::RunLength,
        other => return Err(unsupported(&format!("the filter /{}", String::from_utf8_lossy(other)))),
    };
    let predictor = match (codec, int(b"Predictor", 1)) {
        (Codec::Flate | Codec::Lzw { .. }, p @ (2 | 10..=15)) => {
            // Sizes far past any real row are refused, not multiplied into an overflow.
            let (colors, bits, columns) = (int(b"Colors", 1), int(b"BitsPerComponent", 8), int(b"Columns", 1));
            if !(1..=32).contains(&colors) || !(1..=16).contains(&bits) || !(1..=1 << 20).contains(&columns) {
                return Err(unsupported("predictor parameters out of range"));
            }
            let (colors, bits, columns) = (colors as usize, bits as usize, columns as usize);
            let bytes_per_pixel = (colors * bits).div_ceil(8);
            match p {
                2 => Predictor::Tiff { bytes_per_pixel, bytes_per_row: (colors * bits * columns).div_ceil(8) },
                _ => Predictor::Png { bytes_per_pixel, pixels_per_row: columns },
            }
        }
        _ => Predictor::None,
    };
    Ok(Step { codec, predictor })
}

fn unsupported(what: &str) -> Undecoded {
    Undecoded::Unsupported(format!("{what}: the stream is not decoded"))
}

/// Decodes `content` through `steps`, taking what every step puts out from `budget`.
/// Damaged data keeps what decoded before the damage, as the reader would.
pub(super) fn decode(content: &[u8], steps: &[Step], budget: &mut u64) -> Result<Vec<u8>, Undecoded> {
    let mut data = content.to_vec();
    for step in steps {
        let limit = usize::try_from(*budget).unwrap_or(usize::MAX);
        data = match step.codec {
            Codec::Flate => inflate(&data, limit)?,
            Codec::Lzw { early_change } => lzw(&data, early_change, limit)?,
            Codec::Ascii85 => ascii85(&data, limit)?,
            Codec::AsciiHex => ascii_hex(&data),
            Codec::RunLength => run_length(&data, limit)?,
        };
        data = unpredict(data, step.predictor);
        *budget = budget.checked_sub(data.len() as u64).ok_or(Undecoded::OverBudget)?;
    }
    Ok(data)
}

/// zlib, falling back to raw deflate when the header is damaged, as the reader does.
fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Undecoded> {
    let mut out = Vec::new();
    let read = |reader: &mut dyn Read, out: &mut Vec<u8>| {
        let _ = reader.take(limit as u64 + 1).read_to_end(out);
        if out.len() > limit { Err(Undecoded::OverBudget) } else { Ok(()) }
    };
    read(&mut flate2::read::ZlibDecoder::new(data), &mut out)?;
    if out.is_empty() && data.len() > 2 {
        read(&mut flate2::read::DeflateDecoder::new(&data[2..]), &mut out)?;
    }
    Ok(out)
}

fn lzw(data: &[u8], early_change: bool, limit: usize) -> Result<Vec<u8>, Undecoded> {
    use weezl::{BitOrder, LzwStatus, decode::Decoder};
    let mut decoder = match early_change {
        true => Decoder::with_tiff_size_switch(BitOrder::Msb, 8),
        false => Decoder::new(BitOrder::Msb, 8),
    };
    let (mut out, mut chunk, mut input) = (Vec::new(), vec![0u8; 1 << 16], data);
    loop {
        let result = decoder.decode_bytes(input, &mut chunk);
        input = &input[result.consumed_in..];
        out.extend_from_slice(&chunk[..result.consumed_out]);
        if out.len() > limit {
            return Err(Undecoded::OverBudget);
        }
        match result.status {
            Ok(LzwStatus::Ok) if result.consumed_in + result.consumed_out > 0 => continue,
            _ => return Ok(out),
        }
    }
}

/// ASCII base-85: five characters for four bytes, `z` for four zeros, `~>` ends it.
fn ascii85(data: &[u8], limit: usize) -> Result<Vec<u8>, Undecoded> {
    let (mut out, mut group, mut n) = (Vec::new(), 0u64, 0);
    for &c in data {
        match c {
            b'~' => break,
            b'z' if n == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group = group * 85 + u64::from(c - b'!');
                n += 1;
                if n == 5 {
                    out.extend_from_slice(&(group as u32).to_be_bytes());
                    (group, n) = (0, 0);
                }
            }
            c if c.is_ascii_whitespace() => continue,
            _ => break,
        }
        if out.len() > limit {
            return Err(Undecoded::OverBudget);
        }
    }
    if n > 1 {
        // A short last group is padded with `u` and gives n − 1 bytes.
        for _ in n..5 {
            group = group * 85 + 84;
        }
        out.extend_from_slice(&(group as u32).to_be_bytes()[..n - 1]);
    }
    Ok(out)
}

/// Two hex digits a byte, whitespace skipped, `>` ends it; an odd last digit is
/// followed by 0. Never longer than its input.
fn ascii_hex(data: &[u8]) -> Vec<u8> {
    let digits: Vec<u8> = data.iter().take_while(|&&c| c != b'>').filter_map(|&c| (c as char).to_digit(16).map(|d| d as u8)).collect();
    digits.chunks(2).map(|pair| pair[0] << 4 | pair.get(1).copied().unwrap_or(0)).collect()
}

/// A length byte: 0–127 copies the next n + 1 bytes, 129–255 repeats the next byte
/// 257 − n times, 128 ends the data.
fn run_length(data: &[u8], limit: usize) -> Result<Vec<u8>, Undecoded> {
    let (mut out, mut at) = (Vec::new(), 0);
    while let Some(&n) = data.get(at) {
        match n {
            0..=127 => {
                let end = data.len().min(at + 2 + n as usize);
                out.extend_from_slice(&data[(at + 1).min(end)..end]);
                at = end;
            }
            128 => break,
            _ => {
                let Some(&byte) = data.get(at + 1) else { break };
                out.resize(out.len() + 257 - n as usize, byte);
                at += 2;
            }
        }
        if out.len() > limit {
            return Err(Undecoded::OverBudget);
        }
    }
    Ok(out)
}

/// Undoes a predictor; never lengthens the data. Rows a damaged stream cuts short
/// leave the data as the step put it out, as the reader leaves it.
fn unpredict(mut data: Vec<u8>, predictor: Predictor) -> Vec<u8> {
    match predictor {
        Predictor::None => data,
        Predictor::Tiff { bytes_per_pixel, bytes_per_row } => {
            for row in data.chunks_mut(bytes_per_row) {
                for i in bytes_per_pixel..row.len() {
                    row[i] = row[i].wrapping_add(row[i - bytes_per_pixel]);
                }
            }
            data
        }
        Predictor::Png { bytes_per_pixel, pixels_per_row } => {
            if bytes_per_pixel * pixels_per_row >= data.len() {
                return data;
            }
            pdf_extract::filters::png::decode_frame(&data, bytes_per_pixel, pixels_per_row).unwrap_or(data)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn name(n: &str) -> Object {
        Object::Name(n.as_bytes().to_vec())
    }

    fn decoded(content: &[u8], filter: Object, params: Option<Object>, budget: u64) -> Result<Vec<u8>, Undecoded> {
        let mut left = budget;
        decode(content, &steps(Some(&filter), params.as_ref())?, &mut left)
    }

    const TEXT: &[u8] = b"BT /F1 12 Tf 72 720 Td (2023) Tj ET";

    #[test]
    fn every_form_of_filter_and_parameters_decodes_a_content_stream() {
        let params = || Object::Dictionary(Dictionary::from_iter([("Predictor", Object::Integer(1))]));
        assert_eq!(decoded(&zlib(TEXT), name("FlateDecode"), None, 1 << 20).unwrap(), TEXT);
        assert_eq!(decoded(&zlib(TEXT), Object::Array(vec![name("FlateDecode")]), None, 1 << 20).unwrap(), TEXT);
        assert_eq!(decoded(&zlib(TEXT), name("FlateDecode"), Some(params()), 1 << 20).unwrap(), TEXT);
        assert_eq!(
            decoded(&zlib(&zlib(TEXT)), Object::Array(vec![name("FlateDecode"), name("Fl")]), Some(Object::Array(vec![params(), Object::Null])), 1 << 20)
                .unwrap(),
            TEXT
        );
        // ASCII85 of zlib, the way old PDF writers kept streams 7-bit clean.
        assert_eq!(decoded(b"BOu!rD]j7BEbo7~>", name("ASCII85Decode"), None, 1 << 20).unwrap(), b"hello world");
        assert_eq!(decoded(b"z~>", name("A85"), None, 1 << 20).unwrap(), [0; 4]);
        assert_eq!(decoded(b"32 30 3233>", name("AHx"), None, 1 << 20).unwrap(), b"2023");
        assert_eq!(decoded(&[1, b'2', b'0', 254, b'2', 128], name("RunLengthDecode"), None, 1 << 20).unwrap(), b"20222");
    }

    #[test]
    fn a_png_predicted_stream_is_unpredicted() {
        // Two rows of three bytes, each with PNG's "Sub" filter (1): a byte adds the one before.
        let rows = [1, b'a', 1, 1, 1, b'x', 0, 0];
        let params = Object::Dictionary(Dictionary::from_iter([("Predictor", Object::Integer(12)), ("Columns", Object::Integer(3))]));
        assert_eq!(decoded(&zlib(&rows), name("FlateDecode"), Some(params), 1 << 20).unwrap(), b"abcxxx");
    }

    #[test]
    fn a_chain_that_outgrows_the_budget_is_refused_whichever_form_it_takes() {
        let bomb = zlib(&zlib(&vec![0; 8 << 20]));
        assert!(bomb.len() < 16 << 10, "{}", bomb.len());
        let forms = [
            (name("FlateDecode"), None),
            (Object::Array(vec![name("FlateDecode")]), None),
            (Object::Array(vec![name("FlateDecode"), name("FlateDecode")]), None),
            (Object::Array(vec![name("FlateDecode"), name("FlateDecode")]), Some(Object::Array(vec![Object::Null, Object::Null]))),
            (name("FlateDecode"), Some(Object::Dictionary(Dictionary::from_iter([("Predictor", Object::Integer(1))])))),
        ];
        for (filter, params) in forms {
            let content = if matches!(&filter, Object::Array(a) if a.len() == 2) { bomb.clone() } else { zlib(&vec![0; 8 << 20]) };
            assert_eq!(decoded(&content, filter.clone(), params, 4 << 20), Err(Undecoded::OverBudget), "{filter:?}");
        }
        // The budget is the whole file's: two streams within it one by one, not together.
        let mut left = 12 << 20;
        let flate = steps(Some(&name("FlateDecode")), None).unwrap();
        assert!(decode(&zlib(&vec![0; 8 << 20]), &flate, &mut left).is_ok());
        assert_eq!(decode(&zlib(&vec![0; 8 << 20]), &flate, &mut left), Err(Undecoded::OverBudget));
    }

    #[test]
    fn lzw_and_run_length_bombs_are_refused_too() {
        let runs: Vec<u8> = [129u8, 0].repeat(100_000); // 128 zeros for every two bytes
        assert_eq!(decoded(&runs, name("RL"), None, 1 << 20), Err(Undecoded::OverBudget));
        let mut lzw = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        let zeros = lzw.encode(&vec![0; 4 << 20]).unwrap();
        assert_eq!(decoded(&zeros, name("LZWDecode"), None, 1 << 20), Err(Undecoded::OverBudget));
        assert_eq!(decoded(&zeros, name("LZWDecode"), None, 8 << 20).unwrap().len(), 4 << 20);
    }

    #[test]
    fn image_codecs_and_malformed_filters_are_not_decoded() {
        for filter in
            [name("DCTDecode"), Object::Array(vec![name("FlateDecode"), name("JBIG2Decode")]), Object::Integer(3), Object::Array(vec![Object::Integer(1)])]
        {
            assert!(matches!(steps(Some(&filter), None), Err(Undecoded::Unsupported(_))), "{filter:?}");
        }
        let huge = Object::Dictionary(Dictionary::from_iter([("Predictor", Object::Integer(12)), ("Columns", Object::Integer(1 << 40))]));
        assert!(matches!(steps(Some(&name("FlateDecode")), Some(&huge)), Err(Undecoded::Unsupported(_))));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Whatever chain of filters and parameters a stream names, over whatever
        /// data, decoding gives at most the budget, or refuses.
        #[test]
        fn no_chain_decodes_past_its_budget(
            names in proptest::collection::vec(proptest::sample::select(vec!["FlateDecode", "Fl", "LZWDecode", "ASCII85Decode", "AHx", "RunLengthDecode", "DCTDecode", "Crypt"]), 0..5),
            predictor in proptest::sample::select(vec![1i64, 2, 10, 12, 15, -3]),
            columns in proptest::sample::select(vec![1i64, 3, 1000, 1 << 30]),
            as_array in proptest::bool::ANY,
            payload in 0usize..4,
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ) {
            let zeros = || zlib(&vec![0; 4 << 20]);
            let data = match payload {
                0 => zlib(&zeros()),
                1 => zeros(),
                2 => zeros().iter().map(|b| format!("{b:02x}")).collect::<String>().into_bytes(),
                _ => noise,
            };
            let params = Object::Dictionary(Dictionary::from_iter([("Predictor", Object::Integer(predictor)), ("Columns", Object::Integer(columns))]));
            let params = if as_array { Object::Array(names.iter().map(|_| params.clone()).collect()) } else { params };
            let filter = Object::Array(names.iter().map(|n| name(n)).collect());
            let mut left = 1 << 20;
            match steps(Some(&filter), Some(&params)).and_then(|s| decode(&data, &s, &mut left)) {
                Ok(out) => proptest::prop_assert!(out.len() <= 1 << 20 && left <= 1 << 20),
                Err(Undecoded::OverBudget | Undecoded::Unsupported(_)) => {}
            }
        }
    }
}
