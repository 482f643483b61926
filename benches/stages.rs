//! Throughput of the CPU-bound stages on realistic pages, printed as figures:
//! `cargo bench --bench stages`. Decoding must never be what limits a crawl
//! (target ≥ 200 MB/s on one core); extraction should reach ≥ 2,000 reports/s.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use nianbao::decode::decode;
use nianbao::extract::extract_html;

/// Runs `f` repeatedly for about a second; returns calls per second (median of 5 rounds).
fn per_second(mut f: impl FnMut()) -> f64 {
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_millis(200) {
            f();
            n += 1;
        }
        rounds.push(n as f64 / start.elapsed().as_secs_f64());
    }
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}

fn main() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut pages: Vec<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    pages.sort();
    // A page as portals serve it: the report inside ~20 kB of chrome.
    let chrome = "<div class=\"nav\"><a href=\"/zwgk/\">政务公开</a></div>".repeat(300);
    let page = format!("<html><head><meta charset=\"gbk\"></head><body>{chrome}{}</body></html>", pages[0]);
    let gbk = encoding_rs::GBK.encode(&page).0.into_owned();
    let utf8 = page.clone().into_bytes();

    for (name, bytes, header) in [
        ("GBK, declared in the header", &gbk, Some("text/html; charset=GBK")),
        ("GBK, header says utf-8 (validated, then meta)", &gbk, Some("text/html; charset=utf-8")),
        ("GBK, no declaration (detector)", &encoding_rs::GBK.encode(&page.replace("<meta charset=\"gbk\">", "")).0.into_owned(), None),
        ("UTF-8, declared in the header", &utf8, Some("text/html; charset=utf-8")),
    ] {
        let rate = per_second(|| {
            black_box(decode(black_box(bytes), header, Some("www.zt.gov.cn")));
        });
        println!("decode {name:<48} {:>8.1} MB/s  ({} kB page)", rate * bytes.len() as f64 / 1e6, bytes.len() / 1024);
    }

    let url = url::Url::parse("http://www.zt.gov.cn/zwgk/xxgknb/202401/t20240130_1.html").unwrap();
    let stages: [(&str, &dyn Fn(&str)); 4] = [
        ("parse as a full DOM (scraper/html5ever)", &|p| drop(black_box(scraper::Html::parse_document(p)))),
        ("parse as a report page (nianbao::html)", &|p| drop(black_box(nianbao::html::Page::parse(p)))),
        ("links of the page (scraper)", &|p| drop(black_box(nianbao::discover::links(p, &url)))),
        ("report page: parse, read_article, attachments", &|p| {
            let page = nianbao::html::Page::parse(p);
            black_box(nianbao::discover::read_article(&url, &page));
            black_box(nianbao::discover::attachments(&page, &url));
        }),
    ];
    for (name, f) in stages {
        let rate = per_second(|| f(black_box(&page)));
        println!("discover {name:<46} {:>8.0} pages/s ({} kB page)", rate, page.len() / 1024);
    }

    let total_bytes: usize = pages.iter().map(String::len).sum();
    let rate = per_second(|| {
        for p in &pages {
            black_box(extract_html(black_box(p), None));
        }
    });
    println!(
        "extract {} fixture reports                          {:>8.0} reports/s, {:.1} MB/s (one core)",
        pages.len(),
        rate * pages.len() as f64,
        rate * total_bytes as f64 / 1e6
    );
}
