//! What a bot run is asked to do: the server, the lobbies to form (or the lobby to fill), the game,
//! the timing of the run, and a few parsers the command line shares with the tests.

use std::time::Duration;

/// The game the bots play when they create lobbies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Game {
    /// The benchmark workload (WORKLOAD.md): random walking, one input per tick.
    Walkers,
    /// The shooter: move randomly, aim at the nearest player, fire.
    Arena,
}

impl Game {
    pub fn name(self) -> &'static str {
        match self {
            Game::Walkers => "walkers",
            Game::Arena => "arena",
        }
    }

    pub fn from_name(s: &str) -> Option<Game> {
        match s {
            "walkers" => Some(Game::Walkers),
            "arena" => Some(Game::Arena),
            _ => None,
        }
    }
}

impl std::str::FromStr for Game {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Game::from_name(s).ok_or_else(|| format!("unknown game {s:?} (walkers or arena)"))
    }
}

/// How the bots get into lobbies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Form exactly `lobbies` private lobbies of `players` bots: the first bot of each creates
    /// it (with `max_players = players`), the others join it by its code.
    Lobbies {
        lobbies: usize,
        players: usize,
        game: Game,
    },
    /// Join `players` bots into an existing lobby by its join code (AI fill); they play whatever
    /// game that lobby runs.
    Fill { code: String, players: usize },
}

/// One bot run.
#[derive(Clone, Debug)]
pub struct BotConfig {
    /// `ws://host:port/ws`.
    pub url: String,
    pub mode: Mode,
    /// The measured window, after everyone joined and the warm-up.
    pub duration: Duration,
    /// Played but not measured, after the last bot joined.
    pub warmup: Duration,
    /// Inputs per second per bot. `None`: the lobby's tick rate from `Joined` (one input per tick,
    /// as WORKLOAD.md defines it); set it to test a mismatch on purpose (a warning is reported).
    pub tick_rate: Option<u16>,
    /// New connections per second, at most (thousands of simultaneous handshakes would measure
    /// the accept backlog instead of the game).
    pub ramp_per_s: f64,
    /// Live progress on stderr (shown only when stderr is a terminal).
    pub progress: bool,
    /// Seed for the bots' random walks; `None`: from the clock.
    pub seed: Option<u64>,
    /// A server process on this machine whose CPU time and peak RSS to sample at the window's
    /// edges (from /proc), so a benchmark's figures cover exactly the measured window.
    pub server_pid: Option<u32>,
    /// Give up on a connect, a handshake or a join after this long.
    pub setup_timeout: Duration,
    /// Bot threads; `None`: one per core.
    pub threads: Option<usize>,
}

impl BotConfig {
    /// A run with the defaults of the command line.
    pub fn new(url: impl Into<String>, mode: Mode) -> BotConfig {
        let fill = matches!(mode, Mode::Fill { .. });
        BotConfig {
            url: url.into(),
            mode,
            duration: Duration::from_secs(30),
            warmup: if fill {
                Duration::ZERO
            } else {
                Duration::from_secs(5)
            },
            tick_rate: None,
            ramp_per_s: 500.0,
            progress: false,
            seed: None,
            server_pid: None,
            setup_timeout: Duration::from_secs(15),
            threads: None,
        }
    }

    /// How many bot threads this run starts: one per core (or as asked), never more than bots.
    pub fn thread_count(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.threads.unwrap_or(cores).clamp(1, self.bots().max(1))
    }

    /// How many bots this run starts.
    pub fn bots(&self) -> usize {
        match &self.mode {
            Mode::Lobbies {
                lobbies, players, ..
            } => lobbies * players,
            Mode::Fill { players, .. } => *players,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("ws://") || self.url.starts_with("wss://")) {
            return Err(format!(
                "--url must be ws://HOST:PORT/ws, not {:?}",
                self.url
            ));
        }
        match &self.mode {
            Mode::Lobbies {
                lobbies, players, ..
            } => {
                if *lobbies == 0 || *players == 0 {
                    return Err("--lobbies and --players must be at least 1".into());
                }
                if *players > usize::from(u16::MAX) {
                    return Err("--players must fit a lobby's max_players (u16)".into());
                }
            }
            Mode::Fill { code, players } => {
                if code.trim().is_empty() || *players == 0 {
                    return Err("--fill needs a join code and --players of at least 1".into());
                }
            }
        }
        if self.threads == Some(0) {
            return Err("--threads must be at least 1".into());
        }
        if self.tick_rate == Some(0) {
            return Err("--tick-rate must be at least 1".into());
        }
        if !(self.ramp_per_s > 0.0 && self.ramp_per_s.is_finite()) {
            return Err("--ramp must be a positive rate".into());
        }
        Ok(())
    }
}

/// Parses a duration such as `30s`, `500ms`, `2m`, `1h`, `1.5s`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 30s or 500ms)"))?;
    let secs = match unit.trim() {
        "" | "s" => v,
        "ms" => v / 1000.0,
        "m" | "min" => v * 60.0,
        "h" => v * 3600.0,
        u => return Err(format!("unknown unit {u:?} in {s:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("duration out of range: {s:?}"))
}

/// Parses a connection rate such as `500/s`, `500` or `30000/m`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let (num, per) = s.split_once('/').unwrap_or((s, "s"));
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a rate: {s:?} (try 500/s)"))?;
    let per_s = match per.trim() {
        "s" => v,
        "m" | "min" => v / 60.0,
        u => return Err(format!("unknown rate unit {u:?} in {s:?} (/s or /m)")),
    };
    if per_s > 0.0 && per_s.is_finite() {
        Ok(per_s)
    } else {
        Err(format!("the rate must be positive: {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3 parsecs").is_err());
        assert_eq!(parse_rate("500/s"), Ok(500.0));
        assert_eq!(parse_rate("60/m"), Ok(1.0));
        assert_eq!(parse_rate("20"), Ok(20.0));
        assert!(parse_rate("0/s").is_err());
    }
}
