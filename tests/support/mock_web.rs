//! A mock web: many hosts behind one loopback port, told apart by the Host header,
//! each a set of pages built from files under tests/fixtures/web/<host>/.
//!
//! Every request is logged with its host, start and end time, so tests can check
//! politeness (rate and in-flight requests per host). Pages can misbehave the ways
//! real portals do: slow answers, hangs, connection resets, truncated bodies. The
//! server speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) to do that, on
//! its own thread and runtime, so tests can block on the binary.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Pages made on request (an endless pager, a calendar).
pub type Dynamic = Arc<dyn Fn(&str) -> Option<Page> + Send + Sync>;

/// Answers a request from its path and headers (lower-cased names) before the pages do:
/// a download server that wants a Referer, a pager that wants its session cookie.
pub type Gate = Arc<dyn Fn(&str, &[(String, String)]) -> Option<Page> + Send + Sync>;

/// How a site encodes its pages and what its Content-Type header says.
#[derive(Clone)]
pub struct Site {
    pub host: String,
    pub content_type: String,
    pub gbk: bool,
    pages: HashMap<String, Page>,
    dynamic: Option<Dynamic>,
    gate: Option<Gate>,
}

#[derive(Clone, Default)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    pub fault: Option<Fault>,
}

/// Ways a page breaks the connection instead of answering properly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The connection is reset (RST) after the request is read.
    Reset,
    /// Headers promise the whole body, half of it comes, then the connection closes.
    Truncate,
    /// The body comes whole, but in four pieces over this long (slowloris).
    Drip(Duration),
}

impl Page {
    pub fn html(status: u16, body: &str) -> Page {
        Page { status, headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())], body: body.as_bytes().to_vec(), ..Page::default() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Page {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Hit {
    pub host: String,
    pub path: String,
    pub at: Instant,
    pub done: Instant,
    pub method: String,
    pub request_headers: Vec<(String, String)>,
    pub body: String,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

impl Site {
    /// A site from the files under tests/fixtures/web/<host>/; `dir/index.html` also
    /// answers for `dir/`.
    pub fn from_fixtures(host: &str, content_type: &str, gbk: bool) -> Site {
        let mut site = Site { host: host.to_string(), content_type: content_type.to_string(), gbk, pages: HashMap::new(), dynamic: None, gate: None };
        let root = fixtures().join("web").join(host);
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = format!("/{}", path.strip_prefix(&root).unwrap().to_string_lossy());
                site.add_file(&rel, &path);
            }
        }
        site
    }

    /// Serves a file (UTF-8 on disk, encoded as the site encodes) at `path`.
    pub fn add_file(&mut self, path: &str, file: &Path) {
        let text = std::fs::read_to_string(file).unwrap();
        let content_type = if path.ends_with(".txt") { "text/plain".to_string() } else { self.content_type.clone() };
        let page = Page { status: 200, headers: vec![("Content-Type".into(), content_type)], body: self.encode(&text), ..Page::default() };
        if let Some(dir) = path.strip_suffix("index.html") {
            self.pages.insert(dir.to_string(), page.clone());
        }
        self.pages.insert(path.to_string(), page);
    }

    /// A page's bytes as this site sends them: GBK sites also declare gb2312 in `<meta>`.
    fn encode(&self, text: &str) -> Vec<u8> {
        if !self.gbk {
            return text.as_bytes().to_vec();
        }
        let text = text.replace(r#"<meta charset="utf-8">"#, r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#);
        encoding_rs::GBK.encode(&text).0.into_owned()
    }

    /// Serves an extraction fixture (tests/fixtures/extract/<name>.html) as an article.
    pub fn article(mut self, path: &str, fixture: &str) -> Site {
        self.add_file(path, &fixtures().join("extract").join(format!("{fixture}.html")));
        self
    }

    pub fn page(mut self, path: &str, page: Page) -> Site {
        self.pages.insert(path.to_string(), page);
        self
    }

    /// An empty site answering only what is added to it.
    pub fn empty(host: &str) -> Site {
        Site { host: host.to_string(), content_type: "text/html; charset=utf-8".into(), gbk: false, pages: HashMap::new(), dynamic: None, gate: None }
    }

    /// Answers paths no page is stored for with `make(path)`.
    /// Answers the requests `answer` chooses by their path and headers, before the pages.
    pub fn gate(mut self, answer: impl Fn(&str, &[(String, String)]) -> Option<Page> + Send + Sync + 'static) -> Site {
        self.gate = Some(Arc::new(answer));
        self
    }

    pub fn dynamic(mut self, make: impl Fn(&str) -> Option<Page> + Send + Sync + 'static) -> Site {
        self.dynamic = Some(Arc::new(make));
        self
    }

    /// Serves `html` (UTF-8 text, encoded as the site encodes) at `path`.
    pub fn html(mut self, path: &str, html: &str) -> Site {
        let body = self.encode(html);
        self.pages.insert(path.to_string(), Page { status: 200, headers: vec![("Content-Type".into(), self.content_type.clone())], body, ..Page::default() });
        self
    }
}

pub struct MockWeb {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Hit>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockWeb {
    pub fn start(sites: Vec<Site>) -> MockWeb {
        let (bound, addr) = std::sync::mpsc::channel();
        let sites: Arc<HashMap<String, Site>> = Arc::new(sites.into_iter().map(|s| (s.host.clone(), s)).collect());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let server_log = log.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                // A deep accept queue: a thousand crawler connections can arrive at
                // once, and an overflowing queue drops them for a one-second SYN
                // retransmit, which is the harness's delay, not the crawler's.
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let listener = socket.listen(4096).unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let (sites, log) = (sites.clone(), server_log.clone());
                            tokio::spawn(serve(stream, sites, log));
                        }
                    }
                }
            });
        });
        let addr = addr.recv().expect("the mock web's thread binds its listener");
        MockWeb { addr, log, stop: Some(stop), thread: Some(thread) }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.log.lock().unwrap().clone()
    }

    /// A config.toml pinning every host to this server, with loopback allowed (and
    /// nothing else that is not public) and no proxy, plus `extra` lines.
    pub fn config(&self, hosts: &[&str], extra: &str) -> String {
        let mut c = format!("{extra}\n[scope]\nallow_loopback = true\n\n[resolve]\n");
        for host in hosts {
            c.push_str(&format!("\"{host}\" = \"{}\"\n", self.addr));
        }
        c
    }
}

impl Drop for MockWeb {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves requests on one connection, kept alive as real portals do, until the
/// client closes it, asks to close it, or a fault breaks it.
async fn serve(mut stream: TcpStream, sites: Arc<HashMap<String, Site>>, log: Arc<Mutex<Vec<Hit>>>) {
    let mut buf = Vec::new();
    while let Some(rest) = serve_one(&mut stream, buf, &sites, &log).await {
        buf = rest;
    }
}

/// Reads and answers one request; returns the bytes read past it when the
/// connection stays open.
async fn serve_one(stream: &mut TcpStream, mut buf: Vec<u8>, sites: &HashMap<String, Site>, log: &Mutex<Vec<Hit>>) -> Option<Vec<u8>> {
    let mut at = Instant::now();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if buf.first() == Some(&0x16) {
            return None; // a TLS ClientHello: this server speaks plain HTTP only
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 && buf.len() < 65536 => {
                if buf.is_empty() {
                    at = Instant::now(); // the request starts now, not when the connection went idle
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            _ => return None,
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let method = request_line.split(' ').next().unwrap_or("GET").to_string();
    let target = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let mut request_headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let host = request_headers.iter().find(|(n, _)| n == "host").map(|(_, v)| v.split(':').next().unwrap_or("").to_string()).unwrap_or_default();
    let close = request_headers.iter().any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"));
    // An absolute-form target (`GET http://host/path`) is a request sent through us as a proxy.
    let (host, path) = match target.strip_prefix("http://").and_then(|rest| rest.split_once('/')) {
        Some((authority, path)) => {
            request_headers.push(("x-via-proxy".into(), "1".into()));
            (authority.split(':').next().unwrap_or("").to_string(), format!("/{path}"))
        }
        None => (host, target),
    };
    let length: usize = request_headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf.split_off(head_end + 4);
    while body.len() < length.min(1 << 20) {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => body.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    let rest = body.split_off(length.min(body.len()));
    let body = String::from_utf8_lossy(&body).into_owned();
    let site = sites.get(&host);
    let page = site
        .and_then(|s| {
            let gated = s.gate.as_ref().and_then(|answer| answer(&path, &request_headers));
            gated.or_else(|| s.pages.get(&path).cloned()).or_else(|| s.dynamic.as_ref().and_then(|make| make(&path)))
        })
        .unwrap_or_else(|| Page::html(404, "<html><body>404 Not Found</body></html>"));
    if let Some(delay) = page.delay {
        tokio::time::sleep(delay).await;
    }
    // Pages carry an ETag from their content; a matching If-None-Match gets a 304.
    let etag = format!("\"{:016x}\"", fnv(&page.body));
    let mut page = page;
    if page.status == 200 {
        if request_headers.iter().any(|(n, v)| n == "if-none-match" && *v == etag) {
            page = Page { status: 304, headers: vec![("ETag".into(), etag)], ..Page::default() };
        } else {
            page.headers.push(("ETag".into(), etag));
        }
    }
    let keep_alive = !close && page.fault.is_none();
    match page.fault {
        Some(Fault::Reset) => {
            // Linger 0 makes close send RST, which is the point; it does not block.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
        }
        fault => {
            let connection = if keep_alive { "keep-alive" } else { "close" };
            let mut response = format!("HTTP/1.1 {} X\r\nConnection: {connection}\r\nServer: mock-portal\r\n", page.status);
            for (name, value) in &page.headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            let body: &[u8] = if fault == Some(Fault::Truncate) { &page.body[..page.body.len() / 2] } else { &page.body };
            response.push_str(&format!("Content-Length: {}\r\n\r\n", page.body.len()));
            let _ = stream.write_all(response.as_bytes()).await;
            match fault {
                Some(Fault::Drip(over)) => {
                    for piece in body.chunks(body.len().div_ceil(4).max(1)) {
                        tokio::time::sleep(over / 4).await;
                        let _ = stream.write_all(piece).await;
                        let _ = stream.flush().await;
                    }
                }
                _ => {
                    let _ = stream.write_all(body).await;
                }
            }
            if !keep_alive {
                let _ = stream.shutdown().await;
            }
        }
    }
    log.lock().unwrap().push(Hit { host, path, at, done: Instant::now(), method, request_headers, body });
    keep_alive.then_some(rest)
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}
