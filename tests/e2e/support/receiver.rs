//! A webhook receiver for the tests: a real HTTP server on a loopback port,
//! in a thread, that answers 200 and hands each request to the test.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
}

pub struct Receiver {
    pub port: u16,
    server: Arc<tiny_http::Server>,
    requests: mpsc::Receiver<Request>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// A receiver on a free port.
    pub fn start() -> Self {
        Self::on(0)
    }

    /// A receiver on `port` (0: any free one).
    pub fn on(port: u16) -> Self {
        let server = Arc::new(tiny_http::Server::http(("127.0.0.1", port)).expect("listen on loopback"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let (send, requests) = mpsc::channel();
        let serving = Arc::clone(&server);
        let thread = std::thread::spawn(move || {
            for mut request in serving.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let headers = request.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect();
                let _ = send.send(Request { path: request.url().to_owned(), headers, body });
                let _ = request.respond(tiny_http::Response::from_string("ok"));
            }
        });
        Receiver { port, server, requests, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/git", self.port)
    }

    /// The next request, waiting up to `within`.
    pub fn next(&self, within: Duration) -> Request {
        self.requests
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("no request reached the receiver within {within:?}"))
    }

    /// Every request that arrives within `within`.
    pub fn all(&self, within: Duration) -> Vec<Request> {
        let end = Instant::now() + within;
        let mut all = Vec::new();
        while let Ok(request) = self.requests.recv_timeout(end.saturating_duration_since(Instant::now())) {
            all.push(request);
        }
        all
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A loopback port nothing listens on (it was free a moment ago).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// `sha256=<hex>` HMAC-SHA256 of `body` under `secret`, computed here, not
/// by hookrt.
pub fn signature(secret: &str, body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Polls `probe` until it returns something, for up to `within`.
pub fn wait_for<T>(within: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + within;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < end, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
