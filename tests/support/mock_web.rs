//! A mock web: many hosts behind one loopback port, told apart by the Host header,
//! each a set of pages built from files under tests/fixtures/web/<host>/.
//!
//! Every request is logged with its host and time, so tests can check politeness.
//! The server runs on its own thread and runtime, so tests can block on the binary.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// How a site encodes its pages and what its Content-Type header says.
#[derive(Clone)]
pub struct Site {
    pub host: String,
    pub content_type: String,
    pub gbk: bool,
    pages: HashMap<String, Page>,
}

#[derive(Clone)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Hit {
    pub host: String,
    pub path: String,
    pub at: Instant,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

impl Site {
    /// A site from the files under tests/fixtures/web/<host>/; `dir/index.html` also
    /// answers for `dir/`.
    pub fn from_fixtures(host: &str, content_type: &str, gbk: bool) -> Site {
        let mut site = Site { host: host.to_string(), content_type: content_type.to_string(), gbk, pages: HashMap::new() };
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
        let body = if self.gbk {
            let text = text.replace(r#"<meta charset="utf-8">"#, r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#);
            encoding_rs::GBK.encode(&text).0.into_owned()
        } else {
            text.into_bytes()
        };
        let page = Page { status: 200, headers: vec![("Content-Type".into(), content_type)], body };
        if let Some(dir) = path.strip_suffix("index.html") {
            self.pages.insert(dir.to_string(), page.clone());
        }
        self.pages.insert(path.to_string(), page);
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
}

pub struct MockWeb {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Hit>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockWeb {
    pub fn start(sites: Vec<Site>) -> MockWeb {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let sites: Arc<HashMap<String, Site>> = Arc::new(sites.into_iter().map(|s| (s.host.clone(), s)).collect());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let server_log = log.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let (sites, log) = (sites.clone(), server_log.clone());
                            tokio::spawn(async move {
                                let service = service_fn(move |req| answer(req, sites.clone(), log.clone()));
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                            });
                        }
                    }
                }
            });
        });
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

async fn answer(req: Request<Incoming>, sites: Arc<HashMap<String, Site>>, log: Arc<Mutex<Vec<Hit>>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let host = req.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or("").split(':').next().unwrap_or("").to_string();
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_else(|| "/".into());
    log.lock().unwrap().push(Hit { host: host.clone(), path: path.clone(), at: Instant::now() });
    let page = sites.get(&host).and_then(|s| s.pages.get(&path));
    let mut response = match page {
        Some(page) => {
            let mut r = Response::new(Full::new(Bytes::from(page.body.clone())));
            *r.status_mut() = hyper::StatusCode::from_u16(page.status).unwrap();
            for (name, value) in &page.headers {
                r.headers_mut().insert(hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
            }
            r
        }
        None => {
            let mut r = Response::new(Full::new(Bytes::from_static(b"<html><body>404 Not Found</body></html>")));
            *r.status_mut() = hyper::StatusCode::NOT_FOUND;
            r
        }
    };
    response.headers_mut().insert("server", "mock-portal".parse().unwrap());
    Ok(response)
}
