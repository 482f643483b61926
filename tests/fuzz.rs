//! A fuzz campaign over every function that reads untrusted bytes, on stable Rust:
//! the fixtures under tests/fixtures are mutated (bytes flipped, inserted, deleted,
//! runs repeated thousands of times, pieces of other fixtures and markup tokens
//! spliced in, files cut short) and fed to decode, the `<meta>` prescan, link
//! discovery (Hanweb datastores and TRS pagers included), report metadata, table
//! extraction, the Word, Excel, PDF and picture readers, robots.txt and seed lists.
//!
//! Every input must come back without a panic; the slowest input is reported. The test
//! runs a few thousand inputs; the campaign size is set with NIANBAO_FUZZ_INPUTS, e.g.
//! `NIANBAO_FUZZ_INPUTS=1000000 cargo test --release --test fuzz -- --nocapture`.
//! An input that panics is written to target/tmp/fuzz/<target>-<n>.bin; the input being
//! run is always in target/tmp/fuzz/current-<target>.bin, so one that aborts the
//! process (stack overflow, allocation failure) is there afterwards, and each target's
//! slowest input is in slowest-<target>.bin. NIANBAO_FUZZ_TARGETS=links,pdf runs some.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support;

use nianbao::discover::{PageKind, Target};
use url::Url;

/// A target: its name, how many inputs it gets per 100 of the campaign (the PDF
/// reader is the slowest by far), the fixtures it starts from, how they are mutated,
/// and what it runs.
struct Fuzzed {
    name: &'static str,
    share: u32,
    seeds: Vec<Vec<u8>>,
    mutate: Mutator,
    run: fn(&[u8]),
}

type Mutator = fn(&mut Rng, &[u8], &[Vec<u8>]) -> Vec<u8>;

/// Markup that the readers branch on: spliced in whole, it reaches deeper code than
/// random bytes would.
const TOKENS: &[&[u8]] = &[
    b"<table>",
    b"<tr>",
    b"<td rowspan=\"3\">",
    b"<td colspan=\"9\">",
    b"</td>",
    b"</tr>",
    b"</table>",
    b"<div>",
    b"<meta charset=\"gbk\">",
    b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"]]>",
    b"<datastore>",
    b"<record>",
    b"<totalrecord>999999999</totalrecord>",
    b"createPageHTML(999999, 0, \"index\", \"html\");",
    b"var countPage = 4294967295//",
    b"onclick=\"window.open('",
    b"\xEF\xBB\xBF",
    b"\xA0",
    b"\xFF\xFE",
    b"2024\xE5\xB9\xB4",
    "政府信息公开工作年度报告".as_bytes(),
    "（七）总计".as_bytes(),
    "统计期限为".as_bytes(),
    "第二十条第（一）项".as_bytes(),
    b"Disallow: /",
    b"Crawl-delay: 1e308\n",
    b"<w:gridSpan w:val=\"4294967295\"/>",
    b"<w:vMerge/>",
    b"<c r=\"XFD1048576\"><v>1</v></c>",
    b"obj << /Type /XObject >>",
    b"/Length 999999999",
    b"BT /F1 12 Tf (1) Tj ET",
    b"\"",
    b"'",
    b"<",
    b">",
    b"\n",
];

fn fixtures(dir: &str, extensions: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| extensions.contains(&e.to_string_lossy().as_ref())) {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no fixtures under {dir} for {extensions:?}");
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn targets() -> Vec<Fuzzed> {
    let mut pages = fixtures("extract", &["html"]);
    pages.extend(fixtures("web", &["html", "xml"]));
    pages.extend(fixtures("encoding", &["bytes"]));
    let robots = vec![
        b"User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n".to_vec(),
        b"User-agent: nianbao\nAllow: /zwgk/\nDisallow: /\n\nUser-agent: *\nDisallow: /cgi-bin/\nSitemap: http://x.gov.cn/s.xml\n".to_vec(),
    ];
    let seeds = vec![
        "url,agency,division_code\nhttp://www.zt.gov.cn/,昭通市人民政府,530600\nhttp://www.sxgp.gov.cn/,,140581\n".as_bytes().to_vec(),
        b"# list\nhttp://www.yn.gov.cn/\nhttps://www.kmgd.gov.cn/  # comment\n".to_vec(),
    ];
    vec![
        Fuzzed {
            name: "decode",
            share: 12,
            seeds: pages.clone(),
            mutate,
            run: |b| {
                nianbao::decode::decode(b, Some("text/html; charset=gb2312"), Some("www.zt.gov.cn"));
                nianbao::decode::decode(b, None, Some("www.kmgd.gov.cn"));
            },
        },
        Fuzzed {
            name: "meta_prescan",
            share: 12,
            seeds: pages.clone(),
            mutate,
            run: |b| {
                nianbao::decode::prescan_meta_charset(b);
            },
        },
        Fuzzed {
            name: "follow_portal",
            share: 12,
            seeds: pages.clone(),
            mutate,
            run: |b| {
                let from = Target { kind: PageKind::Portal, ..Target::default() };
                nianbao::discover::follow(&from, &Url::parse("http://www.zt.gov.cn/zwgk/xxgknb/index.html").unwrap(), &text(b), 4);
            },
        },
        Fuzzed {
            name: "follow_list_and_hanweb",
            share: 12,
            seeds: pages.clone(),
            mutate,
            run: |b| {
                let from = Target { kind: PageKind::List, column: Some("年报".into()), ..Target::default() };
                nianbao::discover::follow(&from, &Url::parse("http://www.kmgd.gov.cn/col/col3260/index.html").unwrap(), &text(b), 4);
                let reply = Url::parse("http://www.kmgd.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=12&perpage=3").unwrap();
                let from = Target { form: Some(vec![("columnid".into(), "3260".into())]), ..from };
                nianbao::discover::follow(&from, &reply, &text(b), 4);
            },
        },
        Fuzzed {
            name: "article_metadata",
            share: 12,
            seeds: pages.clone(),
            mutate,
            run: |b| {
                let page = nianbao::html::Page::parse(&text(b));
                let url = Url::parse("http://www.zt.gov.cn/zwgk/xxgknb/202401/t20240126_1.html").unwrap();
                nianbao::discover::read_article(&url, &page, None);
                let framed = nianbao::discover::forward(&text(b), &url).to;
                nianbao::discover::attachments(&page, &url, &framed);
            },
        },
        Fuzzed {
            name: "extract_tables",
            share: 12,
            seeds: pages,
            mutate,
            run: |b| {
                nianbao::extract::extract_html(&text(b), Some(2024));
            },
        },
        Fuzzed {
            name: "docx",
            share: 8,
            seeds: fixtures("extract", &["docx"]),
            mutate: zipped,
            run: |b| {
                let _ = nianbao::extract::docx_to_html(b);
            },
        },
        Fuzzed {
            name: "xlsx",
            share: 8,
            seeds: fixtures("extract", &["xlsx"]),
            mutate: zipped,
            run: |b| {
                let _ = nianbao::extract::workbook_to_html(b);
            },
        },
        Fuzzed { name: "doc_streams", share: 6, seeds: fixtures("extract", &["doc"]), mutate: streamed, run: read_file },
        Fuzzed { name: "doc_container", share: 2, seeds: fixtures("extract", &["doc"]), mutate: in_place, run: read_file },
        Fuzzed { name: "xls", share: 4, seeds: fixtures("extract", &["xls"]), mutate: streamed, run: read_file },
        Fuzzed { name: "ofd", share: 6, seeds: fixtures("extract", &["ofd"]), mutate: zipped, run: read_file },
        Fuzzed {
            name: "pdf",
            share: 1,
            seeds: fixtures("extract", &["pdf"]),
            mutate: in_place,
            run: |b| {
                let _ = nianbao::extract::extract_pdf(b, Some(2024));
            },
        },
        // Pictures (PNG and a scanned PDF page): decoded within their pixel bound,
        // straightened and their rules found; with the `ocr` feature the fuzz run points
        // the models at an empty folder, so that the recognizer itself is not run.
        Fuzzed { name: "picture", share: 2, seeds: fixtures("extract", &["png"]), mutate: in_place, run: read_file },
        Fuzzed {
            name: "scanned_pdf",
            share: 1,
            seeds: vec![std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/guandu_2024_review_table_scanned.pdf")).unwrap()],
            mutate: in_place,
            run: read_file,
        },
        Fuzzed {
            name: "pdf_filters",
            share: 1,
            seeds: vec![Vec::new()],
            mutate: filter_chain,
            run: |b| {
                let _ = nianbao::extract::extract_pdf(b, Some(2024));
            },
        },
        Fuzzed {
            name: "robots",
            share: 6,
            seeds: robots,
            mutate,
            run: |b| {
                let rules = nianbao::fetch::robots::Rules::parse("nianbao", b);
                rules.allowed("http://www.zt.gov.cn/private/a.html");
                rules.crawl_delay();
            },
        },
        Fuzzed {
            name: "seed_list",
            share: 5,
            seeds,
            mutate,
            run: |b| {
                nianbao::seeds::parse(&text(b), "fuzz.csv", &mut nianbao::seeds::SeedList::default());
            },
        },
    ]
}

/// xorshift64*: fast, and the same campaign for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutant of `seed`: one to four edits, and now and then a cut.
fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    if i < b.len() {
                        b[i] = rng.next() as u8;
                    }
                }
            }
            1 => {
                let bytes: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
                b.splice(at..at, bytes).for_each(drop);
            }
            2 => {
                let end = (at + rng.below(256)).min(b.len());
                b.drain(at..end);
            }
            3 => {
                // A run repeated: deep nesting, long rows, huge numbers.
                let end = (at + 1 + rng.below(64)).min(b.len());
                let run = b[at.min(end)..end].to_vec();
                let most = if rng.below(8) == 0 { 5000 } else { 50 };
                let times = 1 + rng.below(most);
                b.splice(at..at, run.iter().copied().cycle().take(run.len() * times)).for_each(drop);
            }
            4 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let times = 1 + if rng.below(16) == 0 { rng.below(3000) } else { 0 };
                b.splice(at..at, token.iter().copied().cycle().take(token.len() * times)).for_each(drop);
            }
            5 => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len());
                let end = (from + rng.below(4096)).min(other.len());
                b.splice(at..at, other[from..end].iter().copied()).for_each(drop);
            }
            _ => b.truncate(at),
        }
    }
    b
}

/// A file with a few bytes overwritten in place: its offsets stay right (a PDF's
/// cross-references, a compound file's sectors), so the reader gets past the file's
/// structure into what it holds.
fn in_place(rng: &mut Rng, seed: &[u8], _: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(24) {
        let i = rng.below(b.len());
        b[i] = rng.next() as u8;
    }
    b
}

/// A one-page PDF whose content stream names a random chain of filters, with random
/// parameters, over data that is zlib once or twice, hex, or noise: every form a
/// decompression bomb can take, each decoded within the reader's budget or refused.
fn filter_chain(rng: &mut Rng, _: &[u8], _: &[Vec<u8>]) -> Vec<u8> {
    use support::pdf::zlib;
    const NAMES: &[&str] =
        &["/FlateDecode", "/Fl", "/LZWDecode", "/ASCII85Decode", "/ASCIIHexDecode", "/AHx", "/RunLengthDecode", "/DCTDecode", "/X", "7", "null"];
    const PARAMS: &[&str] = &[
        "",
        "/DecodeParms << /Predictor 12 /Columns 5 >>",
        "/DecodeParms [null << /Predictor 2 /Colors 3 >>]",
        "/DecodeParms << /Columns 99999999999 /Predictor 15 >>",
        "/DecodeParms 9 0 R",
    ];
    let names: Vec<&str> = (0..1 + rng.below(4)).map(|_| NAMES[rng.below(NAMES.len())]).collect();
    let filter = match names.len() == 1 && rng.below(2) == 0 {
        true => names[0].to_string(),
        false => format!("[{}]", names.join(" ")),
    };
    let text = b"BT /F1 12 Tf 72 720 Td (2023) Tj ET".repeat(1 + rng.below(20_000));
    let content = match rng.below(4) {
        0 => zlib(&zlib(&text)),
        1 => zlib(&text),
        2 => zlib(&text).iter().map(|b| format!("{b:02X}")).collect::<String>().into_bytes(),
        _ => (0..rng.below(512)).map(|_| rng.next() as u8).collect(),
    };
    support::pdf::one_page(&format!("/Filter {filter} {}", PARAMS[rng.below(PARAMS.len())]), &content)
}

/// A report file read as the crawl reads it: its type sniffed from its bytes.
fn read_file(bytes: &[u8]) {
    let kind = nianbao::extract::SourceType::sniff(bytes);
    let _ = nianbao::extract::extract_file(kind, bytes, None, None, Some(2024));
}

/// A compound (OLE) file with one of its streams mutated and written back: mutating
/// the container's bytes mostly tests the container reader.
fn streamed(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut file = cfb::CompoundFile::open(std::io::Cursor::new(seed.to_vec())).unwrap();
    let streams: Vec<_> = file.walk().filter(|e| e.is_stream()).map(|e| e.path().to_path_buf()).collect();
    let chosen = &streams[rng.below(streams.len())];
    let mut body = Vec::new();
    file.open_stream(chosen).unwrap().read_to_end(&mut body).unwrap();
    let body = mutate(rng, &body, others);
    file.create_stream(chosen).unwrap().write_all(&body).unwrap();
    file.flush().unwrap();
    file.into_inner().into_inner()
}

/// A Word or Excel file with one of its XML parts mutated and zipped again: mutating
/// the compressed bytes would only ever test the inflater.
fn zipped(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(seed)).unwrap();
    let chosen = rng.below(archive.len());
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        let body = if i == chosen { mutate(rng, &body, others) } else { body };
        out.start_file(entry.name().unwrap().to_string(), zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&body).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn mutated_inputs_never_panic_in_any_reader() {
    // The crawl reads pages on 8 MiB handler threads; an unoptimised build's frames
    // are several times a release build's, so the campaign gets a stack to match.
    std::thread::Builder::new().stack_size(64 << 20).spawn(campaign).unwrap().join().unwrap();
}

fn campaign() {
    let total: u64 = std::env::var("NIANBAO_FUZZ_INPUTS").ok().and_then(|n| n.parse().ok()).unwrap_or(3000);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    std::fs::create_dir_all(&dir).unwrap();
    #[cfg(feature = "ocr")]
    nianbao::extract::configure_ocr(dir.join("no-models"), u64::MAX);
    let targets = targets();
    let shares: u32 = targets.iter().map(|t| t.share).sum();
    let mut rng = Rng(0x6e69_616e_6261_6f21);
    let mut crashes = Vec::new();
    let only = std::env::var("NIANBAO_FUZZ_TARGETS").unwrap_or_default();
    for target in targets.iter().filter(|t| only.is_empty() || only.split(',').any(|o| o == t.name)) {
        let inputs = (total * u64::from(target.share)).div_ceil(u64::from(shares));
        let current = dir.join(format!("current-{}.bin", target.name));
        let (started, mut slowest) = (Instant::now(), Duration::ZERO);
        for n in 0..inputs {
            let seed = &target.seeds[rng.below(target.seeds.len())];
            let input = (target.mutate)(&mut rng, seed, &target.seeds);
            // Kept before the run: an abort cannot be caught, and must leave its input.
            std::fs::write(&current, &input).unwrap();
            let t = Instant::now();
            let run = target.run;
            if catch_unwind(AssertUnwindSafe(|| run(&input))).is_err() {
                let path = dir.join(format!("{}-{n}.bin", target.name));
                std::fs::write(&path, &input).unwrap();
                crashes.push(path);
            }
            if t.elapsed() > slowest {
                slowest = t.elapsed();
                std::fs::write(dir.join(format!("slowest-{}.bin", target.name)), &input).unwrap();
            }
        }
        eprintln!(
            "fuzz {:<24} {inputs:>8} inputs in {:>7.1} s, slowest {:>8.1} ms",
            target.name,
            started.elapsed().as_secs_f64(),
            slowest.as_secs_f64() * 1000.0
        );
    }
    assert!(crashes.is_empty(), "inputs that panicked, kept for regression fixtures: {crashes:#?}");
}
