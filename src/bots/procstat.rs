//! CPU time and peak memory of a process, read from /proc (Linux), so a benchmark can charge the
//! server and the bots for exactly the measured window.

/// Clock ticks per second of /proc/PID/stat times. USER_HZ is 100 in the Linux user ABI on every
/// mainstream architecture (and this crate forbids the unsafe `sysconf` call to ask).
const CLK_TCK: f64 = 100.0;

/// utime + stime of `pid` ("self" for this process), in seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 (1-based) of the whole line; `rest` starts at field 3.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLK_TCK)
}

/// Peak resident set size (VmHWM) of `pid`, in MiB.
pub fn peak_rss_mib(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_our_own_process() {
        if cfg!(target_os = "linux") {
            assert!(super::cpu_seconds("self").is_some());
            assert!(super::peak_rss_mib("self").unwrap() > 0.0);
        }
    }
}
