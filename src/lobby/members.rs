//! Who is in a lobby: seated players and spectators, their connection and send state, their
//! inputs and chat allowance, the host, and who takes over when the host leaves or drops.

use super::input_queue::InputQueue;
use crate::protocol::{EntityId, RosterEntry, SessionId, Tick};
use slab::Slab;
use std::time::Duration;

/// One member: a seated player (with an entity) or a spectator.
#[derive(Debug)]
pub struct Member {
    pub session: SessionId,
    pub name: String,
    pub player: Option<EntityId>,
    pub token: Option<String>,
    /// False while a player's connection is gone and its seat is held.
    pub connected: bool,
    /// On the lobby's clock (time since it started), like every deadline here.
    pub away_since: Duration,
    joined_at: u64,
    pub send: SendState,
    pub inputs: InputQueue,
    pub chat: ChatBucket,
}

/// Where a member's stream of frames stands.
#[derive(Debug, Default)]
pub struct SendState {
    /// Waiting for its `Joined` frame (a new or resumed member).
    pub needs_joined: bool,
    /// Missed a lobby event or chat line: its roster must be sent again before the next snapshot.
    pub needs_roster: bool,
    /// The tick of the last snapshot it was really sent (deltas are built from it).
    pub last_sent: Option<Tick>,
    /// Since when (on the lobby's clock) it could not be sent a snapshot.
    pub behind_since: Option<Duration>,
}

impl SendState {
    fn fresh() -> SendState {
        SendState {
            needs_joined: true,
            ..SendState::default()
        }
    }
}

/// A member's chat allowance: a token bucket on the lobby's clock, and when it was last told
/// it is empty.
#[derive(Debug)]
pub struct ChatBucket {
    tokens: u32,
    refill_at: Duration,
    limited_at: Option<Duration>,
}

/// A refusal is said at most this often.
const SAY_LIMITED_EVERY: Duration = Duration::from_secs(1);

/// What the bucket says about one more chat line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatAllowance {
    Send,
    /// Dropped: say so (at most once a second: the answer to a flood must not be a flood).
    Refuse,
    /// Dropped without a word (told within the last second already).
    DropSilently,
}

impl ChatBucket {
    fn new(burst: u32, now: Duration) -> ChatBucket {
        ChatBucket {
            tokens: burst,
            refill_at: now,
            limited_at: None,
        }
    }

    /// Takes a token for a line at `now`: `burst` at most, one more per `refill`.
    pub fn take(&mut self, now: Duration, burst: u32, refill: Duration) -> ChatAllowance {
        let refill = refill.max(Duration::from_millis(1));
        let periods = now.saturating_sub(self.refill_at).as_nanos() / refill.as_nanos();
        if periods > 0 {
            let periods = u32::try_from(periods).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(periods).min(burst);
            self.refill_at = self
                .refill_at
                .saturating_add(refill.saturating_mul(periods));
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            return ChatAllowance::Send;
        }
        if self
            .limited_at
            .is_some_and(|t| now.saturating_sub(t) < SAY_LIMITED_EVERY)
        {
            return ChatAllowance::DropSilently;
        }
        self.limited_at = Some(now);
        ChatAllowance::Refuse
    }
}

/// Every member, by the key their connection passes back with each command.
#[derive(Debug, Default)]
pub struct Members {
    slab: Slab<Member>,
    join_counter: u64,
    players: u16,
    spectators: u16,
    host: Option<usize>,
}

impl Members {
    pub fn players(&self) -> u16 {
        self.players
    }

    pub fn spectators(&self) -> u16 {
        self.spectators
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    /// Seats a member and returns its key. Who hosts is [`Members::settle_host`]'s business.
    pub fn insert(
        &mut self,
        session: SessionId,
        name: String,
        player: Option<EntityId>,
        token: Option<String>,
        chat_burst: u32,
        now: Duration,
    ) -> usize {
        self.join_counter += 1;
        let key = self.slab.insert(Member {
            session,
            name,
            player,
            token,
            connected: true,
            away_since: Duration::ZERO,
            joined_at: self.join_counter,
            send: SendState::fresh(),
            inputs: InputQueue::default(),
            chat: ChatBucket::new(chat_burst, now),
        });
        if player.is_some() {
            self.players += 1;
        } else {
            self.spectators += 1;
        }
        key
    }

    /// Removes a member (call [`Members::settle_host`] next: it may have been the host).
    pub fn remove(&mut self, key: usize) -> Member {
        let m = self.slab.remove(key);
        if m.player.is_some() {
            self.players -= 1;
        } else {
            self.spectators -= 1;
        }
        if self.host == Some(key) {
            // Cleared at once: the slab reuses keys.
            self.host = None;
        }
        m
    }

    /// Keeps the host a connected player whenever one is seated, so a lobby is never stuck with
    /// a host who cannot restart its round: when the host is gone (left, seat expired) or away
    /// (connection dropped, seat held), the longest-seated connected player takes over. With no
    /// player connected an away host stays; with none at all, the longest-seated away player
    /// hosts (or nobody). A host who comes back does not get the lobby back: hosts change only
    /// when they must. Call after every change of who is seated or connected; returns the new
    /// host's key when it changed to a player.
    pub fn settle_host(&mut self) -> Option<usize> {
        let current = self.host.filter(|k| self.slab.contains(*k));
        if current.is_some_and(|k| self.slab[k].connected) {
            return None;
        }
        let longest = |connected_only: bool| {
            self.slab
                .iter()
                .filter(|(_, m)| m.player.is_some() && (m.connected || !connected_only))
                .min_by_key(|(_, m)| m.joined_at)
                .map(|(k, _)| k)
        };
        let next = longest(true).or(current).or_else(|| longest(false));
        if next == self.host {
            return None;
        }
        self.host = next;
        next
    }

    /// Makes `key` the member its connection is: it is re-bound to a new session (a resume).
    pub fn rebind(&mut self, key: usize, session: SessionId, token: String) {
        if let Some(m) = self.slab.get_mut(key) {
            m.session = session;
            m.connected = true;
            m.send = SendState::fresh();
            m.token = Some(token);
        }
    }

    pub fn host_key(&self) -> Option<usize> {
        self.host
    }

    /// The host's player id.
    pub fn host(&self) -> Option<EntityId> {
        self.host
            .and_then(|k| self.slab.get(k))
            .and_then(|m| m.player)
    }

    pub fn get(&self, key: usize) -> Option<&Member> {
        self.slab.get(key)
    }

    /// The member `key` if `session` is its current, connected session: commands from a
    /// connection that was replaced or dropped are ignored.
    pub fn active(&mut self, key: usize, session: SessionId) -> Option<&mut Member> {
        self.slab
            .get_mut(key)
            .filter(|m| m.session == session && m.connected)
    }

    /// The member that holds `token`, if any.
    pub fn by_token(&self, token: &str) -> Option<usize> {
        self.slab
            .iter()
            .find(|(_, m)| m.token.as_deref() == Some(token))
            .map(|(k, _)| k)
    }

    pub fn iter(&self) -> slab::Iter<'_, Member> {
        self.slab.iter()
    }

    pub fn iter_mut(&mut self) -> slab::IterMut<'_, Member> {
        self.slab.iter_mut()
    }

    /// The seated players by id, for `Joined` and `Roster`.
    pub fn roster(&self) -> Vec<RosterEntry> {
        let mut r: Vec<RosterEntry> = self
            .slab
            .iter()
            .filter_map(|(_, m)| {
                m.player.map(|id| RosterEntry {
                    id,
                    name: m.name.clone(),
                })
            })
            .collect();
        r.sort_by_key(|e| e.id);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(m: &mut Members, n: u32) -> usize {
        let name = format!("p{n}");
        m.insert(
            SessionId(n.into()),
            name,
            Some(EntityId(n)),
            None,
            1,
            Duration::ZERO,
        )
    }

    #[test]
    fn the_first_player_hosts_and_the_longest_seated_inherits() {
        let mut m = Members::default();
        m.insert(SessionId(9), "s".into(), None, None, 1, Duration::ZERO);
        assert_eq!(m.settle_host(), None, "a spectator never hosts");
        let a = seat(&mut m, 1);
        assert_eq!(m.settle_host(), Some(a));
        let b = seat(&mut m, 2);
        let _c = seat(&mut m, 3);
        assert_eq!(m.settle_host(), None, "the first player keeps it");
        assert_eq!((m.players(), m.spectators()), (3, 1));
        m.remove(a);
        assert_eq!(m.settle_host(), Some(b));
        assert_eq!(m.host(), Some(EntityId(2)));
        assert_eq!(m.roster().len(), 2);
    }

    #[test]
    fn an_away_host_hands_over_to_the_longest_seated_connected_player() {
        let mut m = Members::default();
        let (a, b, c) = (seat(&mut m, 1), seat(&mut m, 2), seat(&mut m, 3));
        m.settle_host();
        // B is away too: C, though seated last, is the one who can act.
        m.slab[b].connected = false;
        m.slab[a].connected = false;
        assert_eq!(m.settle_host(), Some(c));
        // A comes back: C keeps the lobby.
        m.rebind(a, SessionId(11), "t".into());
        assert_eq!(m.settle_host(), None);
        assert_eq!(m.host_key(), Some(c));
        // C leaves: A (connected, seated before B) takes over, not the away B.
        m.remove(c);
        assert_eq!(m.settle_host(), Some(a));
        // Everyone away: the away host stays; when nobody is seated, nobody hosts.
        m.slab[a].connected = false;
        assert_eq!(m.settle_host(), None);
        assert_eq!(m.host_key(), Some(a));
        m.remove(a);
        assert_eq!(m.settle_host(), Some(b), "the only one left, away");
        m.remove(b);
        assert_eq!(m.settle_host(), None);
        assert_eq!(m.host(), None);
        // A newcomer to a lobby whose host is away takes over at once.
        let d = seat(&mut m, 4);
        m.slab[d].connected = false;
        m.settle_host();
        let e = seat(&mut m, 5);
        assert_eq!(m.settle_host(), Some(e));
    }

    #[test]
    fn commands_from_a_replaced_or_dropped_connection_are_ignored() {
        let mut m = Members::default();
        let k = seat(&mut m, 1);
        assert!(m.active(k, SessionId(1)).is_some());
        m.rebind(k, SessionId(2), "t".into());
        assert!(m.active(k, SessionId(1)).is_none());
        assert!(m.active(k, SessionId(2)).is_some());
        assert_eq!(m.by_token("t"), Some(k));
    }

    #[test]
    fn chat_refills_by_whole_periods_and_refuses_once_a_second() {
        let ms = Duration::from_millis;
        let refill = ms(1000);
        let mut c = ChatBucket::new(2, ms(0));
        assert_eq!(c.take(ms(0), 2, refill), ChatAllowance::Send);
        assert_eq!(c.take(ms(0), 2, refill), ChatAllowance::Send);
        assert_eq!(c.take(ms(33), 2, refill), ChatAllowance::Refuse);
        assert_eq!(c.take(ms(990), 2, refill), ChatAllowance::DropSilently);
        assert_eq!(
            c.take(ms(1000), 2, refill),
            ChatAllowance::Send,
            "one refilled"
        );
        assert_eq!(
            c.take(ms(1033), 2, refill),
            ChatAllowance::Refuse,
            "a second since"
        );
        // A long quiet spell refills to the burst, not past it.
        assert_eq!(c.take(ms(60_000), 2, refill), ChatAllowance::Send);
        assert_eq!(c.take(ms(60_000), 2, refill), ChatAllowance::Send);
        assert_eq!(c.take(ms(60_000), 2, refill), ChatAllowance::Refuse);
    }
}
