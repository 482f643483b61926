//! The crawl benchmark: a mock web of N portals on 127.0.0.1 (TRS in GBK, Hanweb and
//! plain CMSs in UTF-8; report pages of 20-60 kB with full tables), crawled by the
//! release `nianbao` binary with politeness on, into a temporary output.
//!
//! `cargo bench --bench crawl -- --hosts 1000 --reports-per-host 3 [--rps 1] [--runs 3]`
//!
//! Prints pages, reports, facts, wall seconds, the crawler's CPU seconds (user+sys,
//! from wait4), CPU ms per page, its peak RSS (VmHWM), and the politeness efficiency: the
//! requests each host got beyond its first, over what its rate allowed in the span of
//! the whole crawl, summed over hosts; and the same over each host's own span, from
//! its first request to its last. Then where the rest goes, from the server's log:
//! how late hosts started, how long responses took, and how late each next request
//! came after its interval.

#[path = "../tests/support/mock_web.rs"]
#[allow(dead_code)]
mod mock_web;

use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use mock_web::{MockWeb, Site, fixtures};

const REPORTS: [&str; 3] = ["gaoping_2023_trs_word_cells", "guandu_2024_hanweb_one_table", "zhaotong_zwfw_2020_format2019_typos"];

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A report page padded with portal chrome to between 20 and 60 kB.
fn report_page(fixture: &str, title: &str, pad: usize) -> String {
    let html = std::fs::read_to_string(fixtures().join("extract").join(format!("{fixture}.html"))).unwrap();
    let title_start = html.find("<title>").unwrap() + 7;
    let title_end = html.find("</title>").unwrap();
    let old = html[title_start..title_end].to_string();
    let chrome = "<li><a href=\"/xwzx/\">新闻中心</a></li><li><a href=\"/zwfw/\">政务服务</a></li>".repeat(pad);
    html.replace(&old, title).replace("<div class=\"footer\">", &format!("<ul class=\"nav\">{chrome}</ul><div class=\"footer\">"))
}

fn portal(i: usize, reports: usize) -> (Site, String) {
    let host = format!("www.county{i:05}.gov.cn");
    let agency = format!("第{i}县人民政府");
    let gbk = i.is_multiple_of(3);
    let mut site = Site::empty(&host);
    site.gbk = gbk;
    let mut items = String::new();
    for k in 0..reports {
        let year = 2024 - k;
        let title = format!("{agency}{year}年政府信息公开工作年度报告");
        let path = format!("/nb/{year}/t{year}_{k}.html");
        site = site.html(&path, &report_page(REPORTS[(i + k) % 3], &title, 60 + (i * 7 + k * 13) % 300));
        items.push_str(&format!("<li><a href=\"{path}\">{title}</a></li>"));
        items.push_str(&format!("<li><a href=\"/nb/n{k}.html\">关于做好{year}年政府信息公开工作年度报告编制发布工作的通知</a></li>"));
    }
    let list = match i % 3 {
        0 => format!("<ul>{items}</ul><script>createPageHTML(1, 0, \"index\", \"html\");</script>"),
        1 => format!(
            "<script type=\"text/xml\"><datastore><recordset>{}</recordset></datastore></script>",
            items.replace("<li>", "<record><![CDATA[<li>").replace("</li>", "</li>]]></record>")
        ),
        _ => format!("<ul class=\"list\">{items}</ul>"),
    };
    let site = site
        .html("/", "<html><head><meta charset=\"utf-8\"></head><body><a href=\"/zfxxgk/\">政府信息公开</a><a href=\"/xwzx/\">新闻</a></body></html>")
        .html("/zfxxgk/", "<html><head><meta charset=\"utf-8\"></head><body><a href=\"/nb/\">政府信息公开年报</a></body></html>")
        .html("/nb/", &format!("<html><head><meta charset=\"utf-8\"></head><body>{list}</body></html>"));
    (site, host)
}

struct Run {
    pages: usize,
    wall: f64,
    cpu: f64,
    max_rss_mb: f64,
    efficiency: f64,
    efficiency_per_host: f64,
    timing: Timing,
    reports: u64,
    facts: u64,
}

/// The 31 provincial-level divisions' codes (GB/T 2260).
const PROVINCES: [u8; 31] = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65];

fn crawl(hosts: usize, reports: usize, rps: f64) -> Run {
    let (sites, names): (Vec<Site>, Vec<String>) = (0..hosts).map(|i| portal(i, reports)).unzip();
    let web = MockWeb::start(sites);
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds.csv");
    // The bodies lie in every province, as a national seed list's do: the dataset has
    // a partition per province and year, and writing them is part of the cost.
    let lines: Vec<String> = names.iter().enumerate().map(|(i, h)| format!("http://{h}/,,{}0000", PROVINCES[i % PROVINCES.len()])).collect();
    std::fs::write(&seeds, format!("url,agency,division_code\n{}\n", lines.join("\n"))).unwrap();
    let mut config = format!("[crawl]\nproxy = \"none\"\nper_host_rps = {rps}\nglobal_concurrency = 256\n[scope]\nallow_loopback = true\n[resolve]\n");
    for h in &names {
        config.push_str(&format!("\"{h}\" = \"{}\"\n", web.addr));
    }
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let out = dir.path().join("data");

    let started = Instant::now();
    // NIANBAO_BENCH_WRAP="perf record -e cpu-clock -g -o /tmp/crawl.perf --" profiles the crawler.
    let wrap: Vec<String> = std::env::var("NIANBAO_BENCH_WRAP").unwrap_or_default().split_whitespace().map(str::to_string).collect();
    let mut command = match wrap.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(env!("CARGO_BIN_EXE_nianbao"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_nianbao")),
    };
    // Reaped by wait_with_rusage (wait4 on its pid), which also reads its CPU time.
    #[allow(clippy::zombie_processes)]
    let child = command
        .args(["crawl", "--seeds"])
        .arg(&seeds)
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .arg("--out")
        .arg(&out)
        .env("NIANBAO_LOG", "nianbao=warn")
        .spawn()
        .unwrap();
    let peak = watch_peak_rss(child.id());
    let (status, usage) = wait_with_rusage(child.id());
    let max_rss_mb = peak.join().unwrap() as f64 / 1024.0;
    let wall = started.elapsed().as_secs_f64();
    assert!(status.success(), "crawl failed: {status:?}");
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;

    let hits = web.hits();
    // Per host: requests, first and last.
    let mut by_host: HashMap<&str, (usize, Instant, Instant)> = HashMap::new();
    for h in &hits {
        let e = by_host.entry(h.host.as_str()).or_insert((0, h.at, h.at));
        *e = (e.0 + 1, e.1.min(h.at), e.2.max(h.at));
    }
    let first = hits.iter().map(|h| h.at).min().unwrap();
    let last = hits.iter().map(|h| h.at).max().unwrap();
    let gaps: usize = by_host.values().map(|(n, ..)| n - 1).sum();
    let efficiency = gaps as f64 / (last.duration_since(first).as_secs_f64() * rps * by_host.len() as f64);
    // The same over each host's own span: how fully a host got its budget once it
    // started, whatever the other hosts were doing (head-of-line blocking shows here).
    let active: f64 = by_host.values().map(|(_, a, b)| b.duration_since(*a).as_secs_f64() * rps).sum();
    let efficiency_per_host = gaps as f64 / active;
    let timing = Timing::of(&hits, first, rps);
    let (reports_n, facts_n) = stats(&out);
    Run {
        pages: hits.len(),
        wall,
        cpu: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        max_rss_mb,
        efficiency,
        efficiency_per_host,
        timing,
        reports: reports_n,
        facts: facts_n,
    }
}

/// Where politeness efficiency goes, from the server's log, as (p50, p99) in ms:
/// when hosts got their first request, how long responses took (an interval starts
/// when one is in), and how late the next request came after its interval.
struct Timing {
    first_request: (f64, f64),
    response: (f64, f64),
    late: (f64, f64),
}

impl Timing {
    fn of(hits: &[mock_web::Hit], first: Instant, rps: f64) -> Timing {
        let mut by_host: HashMap<&str, Vec<&mock_web::Hit>> = HashMap::new();
        for h in hits {
            by_host.entry(h.host.as_str()).or_default().push(h);
        }
        let interval = 1000.0 / rps;
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let (mut starts, mut responses, mut late) = (Vec::new(), Vec::new(), Vec::new());
        for list in by_host.values_mut() {
            list.sort_by_key(|h| h.at);
            starts.push(ms(list[0].at.duration_since(first)));
            responses.extend(list.iter().map(|h| ms(h.done.duration_since(h.at))));
            late.extend(list.windows(2).map(|w| ms(w[1].at.saturating_duration_since(w[0].done)) - interval));
        }
        Timing { first_request: p50_p99(starts), response: p50_p99(responses), late: p50_p99(late) }
    }
}

fn p50_p99(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    (at(0.5), at(0.99))
}

fn stats(out: &Path) -> (u64, u64) {
    let o = Command::new(env!("CARGO_BIN_EXE_nianbao")).args(["stats", "--json", "--out"]).arg(out).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    (v["reports"].as_u64().unwrap(), v["facts"].as_u64().unwrap())
}

/// The child's peak RSS in kB, from its VmHWM, read every 20 ms until it exits.
/// (wait4's ru_maxrss cannot be used: Linux counts the pre-exec image in it, which
/// here is a copy of this process with its whole mock web.)
fn watch_peak_rss(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let Some(kb) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) else { break }; // exited
            peak = peak.max(kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        peak
    })
}

fn wait_with_rusage(pid: u32) -> (std::process::ExitStatus, libc::rusage) {
    let mut status = 0;
    // SAFETY: rusage is plain data filled by the kernel; pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as libc::pid_t, "wait4 failed");
    (std::process::ExitStatus::from_raw(status), usage)
}

fn main() {
    let hosts = arg("--hosts", 1000.0) as usize;
    let reports = arg("--reports-per-host", 3.0) as usize;
    let rps = arg("--rps", 1.0);
    let runs = arg("--runs", 1.0) as usize;
    let mut results: Vec<Run> = (0..runs).map(|_| crawl(hosts, reports, rps)).collect();
    results.sort_by(|a, b| a.cpu.total_cmp(&b.cpu));
    let r = &results[results.len() / 2];
    println!("crawl benchmark: {hosts} hosts x {reports} reports, {rps} request/s per host, median of {runs} run(s)");
    println!("  pages fetched            {:>10}", r.pages);
    println!("  reports / facts          {:>10} / {}", r.reports, r.facts);
    println!("  wall seconds             {:>10.2}", r.wall);
    println!("  crawler CPU seconds      {:>10.2}  (user+sys, crawl + extract + Parquet)", r.cpu);
    println!("  CPU ms per page          {:>10.3}", r.cpu * 1000.0 / r.pages as f64);
    println!("  peak RSS                 {:>10.1} MB", r.max_rss_mb);
    println!("  politeness efficiency    {:>10.1} %", r.efficiency * 100.0);
    println!("    over each host's span  {:>10.1} %", r.efficiency_per_host * 100.0);
    let t = &r.timing;
    println!("  ms, p50 / p99:");
    println!("    host's first request   {:>10.1} / {:.1}  after the crawl's first", t.first_request.0, t.first_request.1);
    println!("    response (server)      {:>10.1} / {:.1}", t.response.0, t.response.1);
    println!("    next request late by   {:>10.1} / {:.1}  beyond the interval after a response", t.late.0, t.late.1);
}
