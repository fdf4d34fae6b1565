//! Entering and leaving lobbies: create, join by code or id, spectate, quick-join, resume with a
//! reconnect token, leave. Entering a lobby that runs on another shard moves the session there
//! first; the join itself always happens on the lobby's own thread, so capacity is exact.

use super::cluster_ops::{Ask, NewLobby};
use super::names::clean_text;
use super::{Exit, InLobby, Live, Pending};
use crate::cluster::token_node;
use crate::game::GameKind;
use crate::lobby::{normalize_code, JoinError, LobbyShared, MemberLink, Rounds};
use crate::protocol::{CreateLobby, ErrorCode, LobbyRef, ServerMsg, MAX_LOBBY_NAME_LEN};
use std::rc::Rc;
use std::sync::Arc;
use tracing::debug;

/// The largest kill goal and round length a lobby may be created with.
const MAX_KILL_GOAL: u16 = 1000;
const MAX_ROUND_SECONDS: u16 = 3600;

/// How many shards a quick-join tries before it opens a lobby of its own.
const QUICK_JOIN_HOPS: u8 = 3;

impl Live {
    fn refuse_if_in_lobby(&self) -> bool {
        if self.lobby.is_some() {
            self.error(ErrorCode::AlreadyInLobby, "leave your lobby first");
            return true;
        }
        false
    }

    pub(super) fn on_create(&mut self, c: CreateLobby) -> Result<(), Exit> {
        if self.refuse_if_in_lobby() {
            return Ok(());
        }
        let game = match c.game.parse::<GameKind>() {
            Ok(g) => g,
            Err(e) => {
                self.error(ErrorCode::BadRequest, e);
                return Ok(());
            }
        };
        if c.name.len() > MAX_LOBBY_NAME_LEN {
            self.error(
                ErrorCode::BadRequest,
                format!("lobby names are at most {MAX_LOBBY_NAME_LEN} bytes"),
            );
            return Ok(());
        }
        let defaults = Rounds::default();
        let rounds = Rounds {
            kill_goal: c.kill_goal.unwrap_or(defaults.kill_goal),
            round_seconds: c.round_seconds.unwrap_or(defaults.round_seconds),
        };
        if rounds.kill_goal > MAX_KILL_GOAL || rounds.round_seconds > MAX_ROUND_SECONDS {
            self.error(
                ErrorCode::BadRequest,
                format!(
                    "kill_goal is at most {MAX_KILL_GOAL} and round_seconds at most \
                     {MAX_ROUND_SECONDS} (0: none)"
                ),
            );
            return Ok(());
        }
        let name = clean_text(&c.name, MAX_LOBBY_NAME_LEN)
            .unwrap_or_else(|| format!("{}'s lobby", self.s.name));
        self.create_and_join(name, game, c.max_players, c.public, rounds)
    }

    fn create_and_join(
        &mut self,
        name: String,
        game: GameKind,
        max_players: u16,
        public: bool,
        rounds: Rounds,
    ) -> Result<(), Exit> {
        if self.cluster().is_some() {
            // The code is claimed across the cluster first (or the lobby opens elsewhere).
            self.ask(Ask::Create(NewLobby {
                name,
                game,
                max_players,
                public,
                rounds,
            }));
            return Ok(());
        }
        let created = self
            .shard
            .ctx
            .registry
            .create(name, game, max_players, public, rounds);
        self.enter_created(created)
    }

    /// Goes into a lobby just created (or says why it was not).
    pub(super) fn enter_created(
        &mut self,
        created: Result<crate::lobby::LobbyHandle, crate::lobby::RegistryError>,
    ) -> Result<(), Exit> {
        match created {
            // A new lobby starts on its shard through that shard's queue: go there the same way,
            // behind it (even when it is this shard).
            Ok(h) => Err(Exit::Move(
                h.shared.shard,
                Pending::Join {
                    lobby: h.shared.id,
                    spectate: false,
                    quick: None,
                },
            )),
            Err(e) => {
                self.error(e.code(), e.to_string());
                Ok(())
            }
        }
    }

    pub(super) fn on_join(&mut self, r: LobbyRef, spectate: bool) -> Result<(), Exit> {
        if self.refuse_if_in_lobby() {
            return Ok(());
        }
        let registry = &self.shard.ctx.registry;
        let found = match &r {
            LobbyRef::Id(id) => registry.get(*id),
            LobbyRef::Code(code) => normalize_code(code).and_then(|c| registry.find_code(&c)),
        };
        let Some(shared) = found else {
            if self.cluster().is_some() {
                let lobby = match r {
                    LobbyRef::Code(code) => match normalize_code(&code) {
                        Some(c) => LobbyRef::Code(c),
                        None => {
                            self.error(ErrorCode::LobbyNotFound, "that is not a join code");
                            return Ok(());
                        }
                    },
                    id => id,
                };
                self.ask(Ask::Find { lobby, spectate });
                return Ok(());
            }
            let what = match r {
                LobbyRef::Id(id) => format!("no lobby has id {id}"),
                LobbyRef::Code(code) => format!(
                    "no lobby has the code {:?}",
                    code.chars().take(16).collect::<String>()
                ),
            };
            self.error(ErrorCode::LobbyNotFound, what);
            return Ok(());
        };
        self.enter(
            &shared,
            Pending::Join {
                lobby: shared.id,
                spectate,
                quick: None,
            },
        )
    }

    pub(super) fn on_quick_join(&mut self, game: String) -> Result<(), Exit> {
        if self.refuse_if_in_lobby() {
            return Ok(());
        }
        match game.parse::<GameKind>() {
            Ok(g) => self.quick_join(g, 0),
            Err(e) => {
                self.error(ErrorCode::BadRequest, e);
                Ok(())
            }
        }
    }

    /// The fullest public lobby of `game` with a free seat; lobbies here are tried on the spot,
    /// one elsewhere costs a move (at most [`QUICK_JOIN_HOPS`]). None left: a new one.
    pub(super) fn quick_join(&mut self, game: GameKind, hops: u8) -> Result<(), Exit> {
        if hops == 0 && self.cluster().is_some() {
            // Every node's open lobbies first; the answer comes back here with hops 1.
            self.ask(Ask::Quick { game });
            return Ok(());
        }
        let registry = &self.shard.ctx.registry;
        // A draining node takes no quick-joins: only its current players play on.
        let candidates = if registry.is_draining() {
            Vec::new()
        } else {
            registry.quick_join_candidates(game)
        };
        for shared in candidates {
            if shared.shard != self.shard_index() {
                if hops >= QUICK_JOIN_HOPS {
                    continue;
                }
                return Err(Exit::Move(
                    shared.shard,
                    Pending::Join {
                        lobby: shared.id,
                        spectate: false,
                        quick: Some((game, hops + 1)),
                    },
                ));
            }
            match self.join_here(&shared, false) {
                Ok(()) => return Ok(()),
                // Filled up or closed since we looked: try the next one.
                Err(e) if matches!(e.code, ErrorCode::LobbyFull | ErrorCode::LobbyNotFound) => {
                    continue
                }
                Err(e) => {
                    self.error(e.code, e.message);
                    return Ok(());
                }
            }
        }
        self.create_and_join("Quick play".into(), game, 0, true, Rounds::default())
    }

    /// Resumes the seat `old_token` holds, wherever its lobby runs.
    pub(super) fn resume(&mut self, old_token: String) -> Result<(), Exit> {
        if let Some(cluster) = self.cluster() {
            if let Some(node) = token_node(&old_token).filter(|n| *n != cluster.node_id) {
                self.ask(Ask::Resume {
                    node: node.to_owned(),
                });
                return Ok(());
            }
        }
        let Some(shared) = self.shard.ctx.registry.lobby_for_token(&old_token) else {
            self.error(
                ErrorCode::ReconnectFailed,
                "unknown or expired reconnect token; join again",
            );
            return Ok(());
        };
        self.enter(
            &shared,
            Pending::Resume {
                lobby: shared.id,
                old_token,
            },
        )
    }

    /// Does `then` here if the lobby runs here, else moves to where it runs.
    pub(super) fn enter(&mut self, shared: &Arc<LobbyShared>, then: Pending) -> Result<(), Exit> {
        if shared.shard == self.shard_index() && self.shard.lobby(shared.id).is_some() {
            return self.perform(then);
        }
        Err(Exit::Move(shared.shard, then))
    }

    /// Carries out a join or resume on this shard (after a move, or when the lobby is local).
    pub(super) fn perform(&mut self, then: Pending) -> Result<(), Exit> {
        let registry = self.shard.ctx.registry.clone();
        match then {
            Pending::Join {
                lobby,
                spectate,
                quick,
            } => {
                let Some(shared) = registry.get(lobby) else {
                    return self.after_failed_join(
                        quick,
                        JoinError {
                            code: ErrorCode::LobbyNotFound,
                            message: "that lobby has closed".into(),
                        },
                    );
                };
                match self.join_here(&shared, spectate) {
                    Ok(()) => Ok(()),
                    Err(e) => self.after_failed_join(quick, e),
                }
            }
            Pending::Resume { lobby, old_token } => {
                let Some(cell) = self.shard.lobby(lobby) else {
                    self.error(
                        ErrorCode::ReconnectFailed,
                        "unknown or expired reconnect token; join again",
                    );
                    return Ok(());
                };
                let Some(link) = self.link() else {
                    return Err(Exit::Gone);
                };
                let r = cell
                    .borrow_mut()
                    .resume(self.s.id, &old_token, self.s.token.clone(), link);
                match r {
                    Ok(ok) => {
                        debug!(lobby = lobby.0, player = ?ok.player, "resumed");
                        self.lobby = Some(InLobby {
                            cell,
                            id: lobby,
                            member: ok.member,
                            player: ok.player,
                        });
                    }
                    Err(e) => self.error(e.code, e.message),
                }
                Ok(())
            }
        }
    }

    /// A quick-join that found its lobby full (or gone) looks again; anything else is an error.
    fn after_failed_join(
        &mut self,
        quick: Option<(GameKind, u8)>,
        e: JoinError,
    ) -> Result<(), Exit> {
        match quick {
            Some((game, hops))
                if matches!(e.code, ErrorCode::LobbyFull | ErrorCode::LobbyNotFound) =>
            {
                self.quick_join(game, hops)
            }
            _ => {
                self.error(e.code, e.message);
                Ok(())
            }
        }
    }

    /// Joins a lobby that runs on this shard, right now.
    fn join_here(&mut self, shared: &Arc<LobbyShared>, spectate: bool) -> Result<(), JoinError> {
        let Some(cell) = self.shard.lobby(shared.id) else {
            return Err(JoinError {
                code: ErrorCode::LobbyNotFound,
                message: "that lobby has closed".into(),
            });
        };
        let Some(link) = self.link() else {
            // Only while the session itself is being let go: nothing to join with.
            return Err(JoinError {
                code: ErrorCode::Overloaded,
                message: "this connection is closing".into(),
            });
        };
        let ok = cell.borrow_mut().join(
            self.s.id,
            self.s.name.clone(),
            spectate,
            Some(self.s.token.clone()),
            link,
        )?;
        debug!(lobby = shared.id.0, player = ?ok.player, "joined");
        self.lobby = Some(InLobby {
            cell,
            id: shared.id,
            member: ok.member,
            player: ok.player,
        });
        Ok(())
    }

    /// This session as its lobby will hold it.
    fn link(&self) -> Option<Rc<dyn MemberLink>> {
        self.me.upgrade().map(|l| l as Rc<dyn MemberLink>)
    }

    pub(super) fn on_leave(&mut self) {
        let Some(l) = self.lobby.take() else {
            return self.error(ErrorCode::NotAllowed, "you are not in a lobby");
        };
        l.cell.borrow_mut().leave(l.member, self.s.id);
        self.send(&ServerMsg::Left {
            lobby: l.id,
            reason: "you left".into(),
        });
    }
}
