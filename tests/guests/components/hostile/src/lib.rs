//! Test guest: a policy that attacks its sandbox, one way per run, chosen by
//! the `attack` setting. The hostile-policy suite (tests/e2e/hostile.rs)
//! pushes with each and checks that hookrt stops it with a typed cause, or
//! that the attempt fails inside the guest.
//!
//! Where an attack needs something safe Rust will not emit (bytes that are
//! not UTF-8 in a `string`, a forged resource handle) it calls the
//! component's imports directly, as any other language could.

use std::time::{Duration, Instant, SystemTime};

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Filter, Push, SettingError, Verdict, Veto};

struct Settings {
    attack: String,
    /// A loopback port the test listens on (the `network` attack).
    port: i64,
    /// The size of the text the `huge-*` attacks hand the host, in MiB.
    mib: i64,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let attack: String = s.required("attack");
        let port = s.or("port", 9);
        let mib = s.or("mib", 100);
        s.finish(Settings { attack, port, mib })
    }
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let update = &push.updates()[0];
    let huge = usize::try_from(settings.mib).unwrap_or(0) << 20;
    match settings.attack.as_str() {
        "recurse" => {
            let depth = recurse(std::hint::black_box(1));
            Verdict::Reject(vec![Veto::on_ref(update, format!("recursed {depth} deep"), "")])
        }
        "walk-forever" => loop {
            // Reopen the walk each time round: the host does the work.
            let walked = update.commits(Filter::AddedToRef).count();
            std::hint::black_box(walked);
        },
        "call-flood" => loop {
            std::hint::black_box(hookrt_guest::ref_target(&update.name));
        },
        "walk-flood" => {
            // Open walks and never close them.
            let mut walks = Vec::new();
            loop {
                walks.push(hookrt_guest::bindings::hookrt::policy::commits::open(&update.name, Filter::AddedToRef));
            }
        }
        "huge-veto" => Verdict::Reject(vec![Veto::on_ref(update, "x".repeat(huge), "y".repeat(1 << 20))]),
        "huge-line" => {
            hookrt_guest::write_line(&"z".repeat(huge));
            Verdict::Accept
        }
        "many-vetoes" => Verdict::Reject(
            (0..10_000).map(|i| Veto::on_ref(update, format!("veto number {i}"), "one of very many")).collect(),
        ),
        "invalid-utf8" => {
            raw::write_bytes_as_string(b"caf\xc3 \xff\xfe");
            Verdict::Accept
        }
        "forged-handle" => {
            raw::drop_walk(0x00c0_ffee);
            Verdict::Accept
        }
        "read-blobs" => {
            // Every file the push adds or changes, read as far as the host
            // lets a policy read (`blob_read_kib`).
            for commit in update.commits(Filter::AddedToRef) {
                for change in commit.changes().unwrap_or_default() {
                    let Some(id) = change.new_id.as_deref() else { continue };
                    match hookrt_guest::read_blob(id, u64::MAX) {
                        Ok(blob) => hookrt_guest::write_line(&format!(
                            "read-blobs: {}: read {} of {} bytes",
                            change.path,
                            blob.data.len(),
                            blob.size
                        )),
                        Err(err) => hookrt_guest::write_line(&format!("read-blobs: {}: {err:?}", change.path)),
                    }
                }
            }
            Verdict::Accept
        }
        "escape" => {
            escape(settings.port);
            Verdict::Accept
        }
        other => Verdict::Reject(vec![Veto::on_ref(update, format!("unknown attack {other:?}"), "")]),
    }
}

/// Recursion the optimizer cannot turn into a loop; the depth test is
/// never true, so only the stack limit ends it. The frames are small and
/// live on wasm's own stack: big ones would overflow the shadow stack Rust
/// keeps in linear memory first, which shows as an out-of-bounds access.
fn recurse(n: u64) -> u64 {
    if std::hint::black_box(n) == 0 {
        return 0;
    }
    std::hint::black_box(recurse(n + 1)).wrapping_mul(3)
}

/// Tries the ways out of the sandbox a policy might, and writes what each
/// got, one line apiece, for the test to read.
fn escape(port: i64) {
    let say = |what: &str, outcome: String| hookrt_guest::write_line(&format!("escape: {what}: {outcome}"));
    let result = |r: Result<String, std::io::Error>| match r {
        Ok(got) => format!("GOT {got:?}"),
        Err(err) => format!("denied ({err})"),
    };
    say("read /etc/passwd", result(std::fs::read_to_string("/etc/passwd")));
    say("list /", result(std::fs::read_dir("/").map(|d| format!("{} entries", d.count()))));
    say("write /tmp/hookrt-escape", result(std::fs::write("/tmp/hookrt-escape", b"out").map(|()| "written".into())));
    let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    say("environment", if vars.is_empty() { "empty".into() } else { format!("GOT {vars:?}") });
    say("arguments", format!("{}", std::env::args().count()));
    let wall = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    say("wall clock", format!("{} s since 1970", wall.as_secs()));
    let start = Instant::now();
    // An hour's sleep: with nothing granted it returns at once, and it
    // cannot hold the host past the deadline either way.
    std::thread::sleep(Duration::from_secs(3600));
    say("sleep an hour", format!("returned, monotonic clock moved {} ns", start.elapsed().as_nanos()));
    let addr = format!("127.0.0.1:{port}");
    say("connect", result(std::net::TcpStream::connect(&addr).map(|_| format!("connected to {addr}"))));
    say(
        "resolve",
        result(
            std::net::ToSocketAddrs::to_socket_addrs("localhost:80").map(|a| format!("{:?}", a.collect::<Vec<_>>())),
        ),
    );
}

/// Calls into the host as the canonical ABI allows but safe Rust bindings
/// never would.
mod raw {
    #[link(wasm_import_module = "hookrt:policy/output@0.1.0")]
    unsafe extern "C" {
        #[link_name = "write-line"]
        fn write_line(ptr: *const u8, len: usize);
    }

    #[link(wasm_import_module = "hookrt:policy/commits@0.1.0")]
    unsafe extern "C" {
        #[link_name = "[resource-drop]commit-walk"]
        fn drop_commit_walk(handle: i32);
    }

    /// `write-line` with `bytes` as its string, UTF-8 or not.
    pub fn write_bytes_as_string(bytes: &[u8]) {
        // SAFETY: the import takes a pointer and length into this module's
        // memory, which `bytes` is; the host validates the contents.
        unsafe { write_line(bytes.as_ptr(), bytes.len()) }
    }

    /// Drops a walk handle this instance was never given.
    pub fn drop_walk(handle: i32) {
        // SAFETY: the call only passes an integer; the component model
        // checks it against the instance's handle table.
        unsafe { drop_commit_walk(handle) }
    }
}

hookrt_guest::policy!(check, Settings);
