//! A real `redis-server` child process on a free 127.0.0.1 port with a throwaway directory, killed on drop.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Start attempts before giving up: a free port found by binding port 0 can be taken by another
/// process (a parallel test's redis) between our probe and redis-server's own bind.
const ATTEMPTS: usize = 5;
/// How long a fresh redis-server gets to answer PING (it needs milliseconds; CI machines vary).
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A running `redis-server` without persistence. `stop` and `restart` keep the port, so a test can
/// take Redis away and bring it back empty at the same URL, as after a crash.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

/// `Some(server)` when `redis-server` is installed. Otherwise prints a loud skip line and returns
/// `None`, or panics if `REQUIRE_REDIS=1` (CI sets it so a missing package cannot pass silently).
pub fn redis_or_skip(test: &str) -> Option<RedisServer> {
    if installed() {
        return Some(RedisServer::start());
    }
    if std::env::var("REQUIRE_REDIS").as_deref() == Ok("1") {
        panic!(
            "{test}: redis-server not installed (apt-get install redis-server) and REQUIRE_REDIS=1"
        );
    }
    eprintln!(
        "SKIPPED {test}: redis-server not installed (apt-get install redis-server); \
         set REQUIRE_REDIS=1 to fail instead"
    );
    None
}

/// Whether `redis-server` is on PATH and runs.
pub fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl RedisServer {
    /// Starts redis-server on a free port and waits until it answers PING. Panics (with its log)
    /// if it cannot.
    pub fn start() -> RedisServer {
        let mut server = RedisServer {
            child: None,
            port: 0,
            dir: fresh_dir(),
        };
        let mut last_error = String::new();
        for _ in 0..ATTEMPTS {
            server.port = free_port();
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start after {ATTEMPTS} attempts: {last_error}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills redis-server and waits for it (its data is gone: nothing is persisted). The port is
    /// kept for `restart`. Does nothing if it is already stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops it if running, then starts a fresh, empty redis-server on the same port.
    pub fn restart(&mut self) {
        self.stop();
        // The port was ours a moment ago; retry briefly in case the kernel has not let go of it.
        let mut last_error = String::new();
        for _ in 0..ATTEMPTS {
            match self.spawn() {
                Ok(()) => return,
                Err(e) => last_error = e,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "redis-server did not restart on port {}: {last_error}",
            self.port
        );
    }

    /// Runs `redis-cli -p PORT ARGS...` and returns its trimmed stdout (for assertions:
    /// DBSIZE, KEYS, INFO commandstats). Piped, redis-cli prints raw replies ("0", not "(integer) 0").
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("run redis-cli (installed with redis-server)");
        assert!(
            out.status.success(),
            "redis-cli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Starts redis-server on `self.port` and waits until *it* answers. Err (after killing it) if
    /// it exits or does not answer in time; the error carries its log.
    fn spawn(&mut self) -> Result<(), String> {
        let log_path = self.dir.join("redis.log");
        // One log per start, so a failure shows that start's lines only.
        let log = File::create(&log_path).expect("create redis log");
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn redis-server: {e}"))?;
        let deadline = Instant::now() + READY_WITHIN;
        let failure = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break format!("redis-server exited with {status}");
            }
            if answers(self.port, child.id()) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break format!("no PONG within {READY_WITHIN:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        Err(format!("port {}: {failure}; log:\n{log}", self.port))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// PING answered with +PONG by the redis-server whose pid is `pid` (INFO's process_id): a
/// different process that grabbed the port first must not pass for ours.
fn answers(port: u16, pid: u32) -> bool {
    let probe = || -> std::io::Result<String> {
        let addr = ([127, 0, 0, 1], port).into();
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
        s.set_read_timeout(Some(Duration::from_secs(1)))?;
        // Inline commands; QUIT makes the server close after replying, so read_to_string ends.
        s.write_all(b"PING\r\nINFO server\r\nQUIT\r\n")?;
        let mut reply = String::new();
        s.read_to_string(&mut reply)?;
        Ok(reply)
    };
    match probe() {
        Ok(reply) => reply.starts_with("+PONG") && reply.contains(&format!("process_id:{pid}\r\n")),
        Err(_) => false,
    }
}

/// A port nothing listens on right now (the OS picks it; we release it for redis-server to bind).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// A new empty directory under the system temp dir, unique across tests and processes.
fn fresh_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "tickrelay-redis-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let dir = std::env::temp_dir().join(name);
    fs::create_dir(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}
