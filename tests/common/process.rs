//! The real `tickrelay` binary as a child process on 127.0.0.1:0, killed on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The server binary as a child process (for what only a separate process shows: its memory,
/// signals, its exit status). Killed on drop if still running.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    /// Everything the server wrote to stderr (a panic message would land here).
    stderr: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Starts the binary with the test defaults plus `env` (`TICKRELAY__SECTION__KEY` pairs) and
    /// waits for the address it prints: "tickrelay listening on http://ADDR".
    pub fn start(env: &[(&str, &str)]) -> ServerProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickrelay"));
        cmd.args(["--bind", "127.0.0.1:0"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("RUST_LOG")
            .env("TICKRELAY__SERVER__LOG", "error")
            // config/default.toml records replays (for `make run`); tests write none unless asked.
            .env("TICKRELAY__REPLAY__ENABLED", "false")
            .env(
                "TICKRELAY__SERVER__CLIENT_DIR",
                "/nonexistent-tickrelay-client",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start the server binary");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("tickrelay listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                log.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        ServerProcess {
            child,
            addr,
            stderr,
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// What the server has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// The current value of a metric line from /metrics (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        super::metric_at(self.addr, name).await
    }

    /// Sends the signal `name` ("TERM", "INT", ...) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit (bounded by the caller's `within`).
    pub async fn exited(&mut self) -> ExitStatus {
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
