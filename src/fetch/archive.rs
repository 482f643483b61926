//! The raw archive: every response as fetched, in WARC/1.1 files under `raw/`.
//!
//! One gzip member per record, so any record can be read alone from its offset and
//! warcio (and every WARC tool) reads the files. Bodies are stored after HTTP content
//! decoding (gzip/br), which the `warcinfo` record states; the stored headers drop
//! Content-Encoding and carry the stored length. A 304 answer is a `revisit` record
//! (WARC 1.1's server-not-modified profile) naming the response it revalidated.
//! `nianbao extract` rebuilds the dataset from these records without the network.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::read::GzDecoder;
use flate2::{Compress, Compression, FlushCompress, Status};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Earlier;

/// Where a record lives: file name under `raw/`, byte offset and length of its gzip member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub file: String,
    pub offset: u64,
    pub length: u64,
}

/// An HTTP response read back from the archive.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub url: String,
    pub date: DateTime<Utc>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl StoredResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        super::header(&self.headers, name)
    }
}

/// Appends records to this run's WARC file.
pub struct Archive {
    dir: PathBuf,
    name: String,
    file: Mutex<File>,
    /// Records appended so far: part of each record's id.
    appended: AtomicU64,
}

const DROPPED_HEADERS: [&str; 3] = ["content-encoding", "content-length", "transfer-encoding"];

impl Archive {
    /// Opens (creating) `raw/<run_id>.warc.gz` and writes its `warcinfo` record.
    pub fn open(raw_dir: &Path, run_id: &str) -> Result<Archive> {
        std::fs::create_dir_all(raw_dir).with_context(|| format!("cannot create {}", raw_dir.display()))?;
        let name = format!("{run_id}.warc.gz");
        let file =
            OpenOptions::new().create(true).append(true).open(raw_dir.join(&name)).with_context(|| format!("cannot open {}", raw_dir.join(&name).display()))?;
        let archive = Archive { dir: raw_dir.to_path_buf(), name, file: Mutex::new(file), appended: AtomicU64::new(0) };
        let info = format!(
            "software: nianbao/{}\r\nformat: WARC File Format 1.1\r\nnote: response bodies are stored after HTTP content decoding (gzip, br, deflate, zstd); Content-Encoding is dropped from the stored headers\r\n",
            env!("CARGO_PKG_VERSION")
        );
        archive.append("warcinfo", None, Utc::now(), "application/warc-fields", &[info.as_bytes()])?;
        Ok(archive)
    }

    /// Stores one response and returns where it went.
    pub fn store_response(&self, url: &str, date: DateTime<Utc>, status: u16, reason: &str, headers: &[(String, String)], body: &[u8]) -> Result<RecordRef> {
        let mut http = format!("HTTP/1.1 {status} {reason}\r\n");
        for (name, value) in headers {
            if !DROPPED_HEADERS.iter().any(|dropped| name.eq_ignore_ascii_case(dropped)) {
                http.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        http.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        self.append("response", Some(url), date, "application/http;msgtype=response", &[http.as_bytes(), body])
    }

    /// Stores a 304 answer as a WARC 1.1 `revisit` record of the server-not-modified
    /// profile: the response's headers, pointing at the earlier record of the content.
    pub fn store_revisit(&self, url: &str, date: DateTime<Utc>, reason: &str, headers: &[(String, String)], earlier: &Earlier) -> Result<RecordRef> {
        let mut http = format!("HTTP/1.1 304 {reason}\r\n");
        for (name, value) in headers.iter().filter(|(n, _)| !DROPPED_HEADERS.iter().any(|d| n.eq_ignore_ascii_case(d))) {
            http.push_str(&format!("{name}: {value}\r\n"));
        }
        http.push_str("\r\n");
        let refers_to_date = DateTime::parse_from_rfc3339(&earlier.fetched_at)
            .map(|d| d.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_else(|_| earlier.fetched_at.clone());
        let extra = format!(
            "WARC-Profile: http://netpreserve.org/warc/1.1/revisits/server-not-modified\r\n\
             WARC-Refers-To-Target-URI: {}\r\nWARC-Refers-To-Date: {refers_to_date}\r\n",
            earlier.url
        );
        self.append_with("revisit", Some(url), date, "application/http;msgtype=response", &extra, &[http.as_bytes()])
    }

    /// Appends one record whose block is `block`'s parts, in order.
    fn append(&self, kind: &str, url: Option<&str>, date: DateTime<Utc>, content_type: &str, block: &[&[u8]]) -> Result<RecordRef> {
        self.append_with(kind, url, date, content_type, "", block)
    }

    /// `append`, with `extra` WARC header lines (each ending in CRLF).
    fn append_with(&self, kind: &str, url: Option<&str>, date: DateTime<Utc>, content_type: &str, extra: &str, block: &[&[u8]]) -> Result<RecordRef> {
        let date_str = date.to_rfc3339_opts(SecondsFormat::Secs, true);
        let sequence = self.appended.fetch_add(1, Ordering::Relaxed);
        let id = record_id(&self.name, sequence, url.unwrap_or(""), &date_str);
        let mut head = format!("WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:{id}>\r\nWARC-Date: {date_str}\r\n");
        if let Some(url) = url {
            head.push_str(&format!("WARC-Target-URI: {url}\r\n"));
        }
        head.push_str(extra);
        let length: usize = block.iter().map(|part| part.len()).sum();
        head.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"));
        let mut parts = vec![head.as_bytes()];
        parts.extend_from_slice(block);
        parts.push(b"\r\n\r\n");
        let member = gzip_member(&parts)?;
        let mut file = self.file.lock().unwrap();
        let offset = file.seek(SeekFrom::End(0))?;
        file.write_all(&member).with_context(|| format!("cannot write to the raw archive {}", self.dir.join(&self.name).display()))?;
        Ok(RecordRef { file: self.name.clone(), offset, length: member.len() as u64 })
    }

    /// Reads back a response this archive stored.
    pub fn read(&self, r: &RecordRef) -> Result<StoredResponse> {
        read_response(&self.dir, r)
    }

    /// Forces this run's records to disk (the state then points at durable bytes).
    pub fn sync(&self) -> Result<()> {
        Ok(self.file.lock().unwrap().sync_data()?)
    }
}

thread_local! {
    /// One gzip compressor per thread, reset for each record: a new one clears its
    /// window and hash tables, which cost more than compressing a small page.
    static GZIP: RefCell<Compress> = RefCell::new(Compress::new_gzip(Compression::fast(), 15));
}

/// `parts`, in order, as one gzip member.
fn gzip_member(parts: &[&[u8]]) -> Result<Vec<u8>> {
    let length: usize = parts.iter().map(|part| part.len()).sum();
    let mut member = Vec::with_capacity(length / 3 + 256);
    GZIP.with_borrow_mut(|gz| {
        gz.reset();
        for (i, part) in parts.iter().enumerate() {
            let flush = if i + 1 == parts.len() { FlushCompress::Finish } else { FlushCompress::None };
            let mut input = *part;
            loop {
                if member.capacity() - member.len() < 1024 {
                    member.reserve(member.capacity().max(4096));
                }
                let read_before = gz.total_in();
                let status = gz.compress_vec(input, &mut member, flush)?;
                input = &input[(gz.total_in() - read_before) as usize..];
                let done = match flush {
                    FlushCompress::Finish => status == Status::StreamEnd,
                    _ => input.is_empty(),
                };
                if done {
                    break;
                }
            }
        }
        Ok(member)
    })
}

/// A UUID-shaped id, unique by the archive file, the record's place in it, and the
/// time; the block is not hashed, as it would cost a second pass over every body.
fn record_id(file: &str, sequence: u64, url: &str, date: &str) -> String {
    let mut h = Sha256::new();
    for part in [file.as_bytes(), &sequence.to_le_bytes(), url.as_bytes(), date.as_bytes()] {
        h.update(part);
    }
    h.update(std::process::id().to_le_bytes());
    h.update(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos().to_le_bytes());
    let d = h.finalize();
    let hex = crate::digest::hex(&d[..16]);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Reads the response record at `r` from the archive in `raw_dir`.
pub fn read_response(raw_dir: &Path, r: &RecordRef) -> Result<StoredResponse> {
    let path = raw_dir.join(&r.file);
    let mut file = File::open(&path).with_context(|| format!("raw archive {} is missing", path.display()))?;
    file.seek(SeekFrom::Start(r.offset))?;
    let mut member = vec![0; r.length as usize];
    file.read_exact(&mut member).with_context(|| format!("raw archive {} is truncated", path.display()))?;
    let mut record = Vec::new();
    GzDecoder::new(&member[..]).read_to_end(&mut record).with_context(|| format!("corrupt record in {}", path.display()))?;
    parse_response_record(&record).with_context(|| format!("unreadable record at {}:{}", r.file, r.offset))
}

fn parse_response_record(record: &[u8]) -> Result<StoredResponse> {
    let (warc_head, rest) = split_head(record)?;
    let warc_headers = parse_headers(warc_head);
    let get = |name: &str| super::header(&warc_headers, name).map(str::to_string);
    let url = get("WARC-Target-URI").unwrap_or_default();
    let date = get("WARC-Date").and_then(|d| DateTime::parse_from_rfc3339(&d).ok()).map(|d| d.with_timezone(&Utc));
    let length: usize = get("Content-Length").and_then(|l| l.parse().ok()).unwrap_or(rest.len());
    let block = &rest[..length.min(rest.len())];
    let (http_head, body) = split_head(block)?;
    let http_head = String::from_utf8_lossy(http_head);
    let mut lines = http_head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let Some(status) = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()) else {
        bail!("bad status line {status_line:?}");
    };
    let headers = parse_headers(lines.collect::<Vec<_>>().join("\r\n").as_bytes());
    Ok(StoredResponse { url, date: date.unwrap_or_default(), status, headers, body: body.to_vec() })
}

fn split_head(bytes: &[u8]) -> Result<(&[u8], &[u8])> {
    match bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => Ok((&bytes[..i], &bytes[i + 4..])),
        None => bail!("no end of headers"),
    }
}

fn parse_headers(head: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(head).split("\r\n").filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path(), "run1").unwrap();
        let body = encoding_rs::GBK.encode("<p>高平市2023年政府信息公开工作年度报告</p>").0.into_owned();
        let headers = vec![
            ("Content-Type".to_string(), "text/html".to_string()),
            ("Content-Encoding".to_string(), "gzip".to_string()),
            ("ETag".to_string(), "\"abc\"".to_string()),
        ];
        let r1 = archive.store_response("http://www.sxgp.gov.cn/a.html", Utc::now(), 200, "OK", &headers, &body).unwrap();
        let r2 = archive.store_response("http://www.sxgp.gov.cn/b.html", Utc::now(), 404, "Not Found", &[], b"").unwrap();
        assert!(r2.offset > r1.offset);
        let back = read_response(dir.path(), &r1).unwrap();
        assert_eq!((back.status, back.body.as_slice(), back.url.as_str()), (200, body.as_slice(), "http://www.sxgp.gov.cn/a.html"));
        assert_eq!(back.header("etag"), Some("\"abc\""));
        assert_eq!(back.header("content-encoding"), None);
        assert_eq!(read_response(dir.path(), &r2).unwrap().status, 404);
    }

    /// Several large records through the one reused compressor: each member reads
    /// alone, and the file reads as one WARC with distinct record ids.
    #[test]
    fn large_records_are_whole_members_with_distinct_ids() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path(), "run2").unwrap();
        // 300 kB that deflate cannot shrink much: bigger than any one output reserve.
        let mut x: u32 = 12345;
        let body: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let refs: Vec<RecordRef> =
            (0..3).map(|i| archive.store_response(&format!("http://www.sxgp.gov.cn/{i}.pdf"), Utc::now(), 200, "OK", &[], &body).unwrap()).collect();
        for (i, r) in refs.iter().enumerate() {
            let back = read_response(dir.path(), r).unwrap();
            assert_eq!(back.url, format!("http://www.sxgp.gov.cn/{i}.pdf"));
            assert!(back.body == body, "record {i} changed");
        }
        let mut whole = Vec::new();
        flate2::read::MultiGzDecoder::new(File::open(dir.path().join("run2.warc.gz")).unwrap()).read_to_end(&mut whole).unwrap();
        let text = String::from_utf8_lossy(&whole);
        let ids: std::collections::BTreeSet<&str> = text.lines().filter_map(|l| l.strip_prefix("WARC-Record-ID: ")).collect();
        assert_eq!((text.matches("WARC/1.1\r\n").count(), ids.len()), (4, 4));
    }
}
