//! A session on a cluster node: what needs the shared directory (a lobby that lives elsewhere,
//! every node's lobby list, where to open a lobby, whose reconnect token this is), asked by the
//! session's task between two passes, and the seat tickets that bring redirected players in.
//! One node on its own never gets here.

use super::{Exit, Live};
use crate::cluster::{Cluster, DirError, Listing, NodeInfo, SeatKind};
use crate::game::GameKind;
use crate::lobby::{Registry, RegistryError, Rounds};
use crate::protocol::{ErrorCode, LobbyId, LobbyRef, LobbySummary, RedirectThen, ServerMsg};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tracing::{debug, warn};

/// How many fresh ids and codes a create tries to claim before it gives up.
const CLAIM_TRIES: usize = 5;

/// What a new lobby is to be.
#[derive(Debug)]
pub(super) struct NewLobby {
    pub name: String,
    pub game: GameKind,
    pub max_players: u16,
    pub public: bool,
    pub rounds: Rounds,
}

/// A question for the directory, asked while the session reads nothing else.
#[derive(Debug)]
pub(super) enum Ask {
    Find { lobby: LobbyRef, spectate: bool },
    Quick { game: GameKind },
    List { game: Option<GameKind> },
    Create(NewLobby),
    Resume { node: String },
}

/// The directory's answer, to act on back in the session.
pub(super) enum Answer {
    Found(Result<Option<Listing>, DirError>, bool),
    Quick(GameKind, Result<Vec<Listing>, DirError>),
    List(Option<GameKind>, Result<Vec<Listing>, DirError>),
    /// A lobby id and code claimed (or chosen unclaimed while the directory is away).
    Claimed(NewLobby, (LobbyId, String)),
    /// This node opens no lobby now: here is where it may open instead.
    Elsewhere(RegistryError, Result<Option<NodeInfo>, DirError>),
    Refused(RegistryError),
    ResumeAt(Result<Option<NodeInfo>, DirError>),
}

/// Asks the directory (the session's task awaits this, boxed: a session's own future stays small).
pub(super) fn resolve(
    cluster: Arc<Cluster>,
    registry: Arc<Registry>,
    ask: Ask,
) -> Pin<Box<dyn Future<Output = Answer>>> {
    Box::pin(async move {
        match ask {
            Ask::Find { lobby, spectate } => Answer::Found(cluster.find(&lobby).await, spectate),
            Ask::Quick { game } => Answer::Quick(game, cluster.open(game.name()).await),
            Ask::List { game } => {
                let games: Vec<&str> = match game {
                    Some(g) => vec![g.name()],
                    None => GameKind::ALL.iter().map(|g| g.name()).collect(),
                };
                Answer::List(game, cluster.public(&games).await)
            }
            Ask::Create(new) => match registry.can_open() {
                Ok(()) => {
                    let identity = claim(&cluster, &registry, &new).await;
                    Answer::Claimed(new, identity)
                }
                Err(e @ (RegistryError::Draining | RegistryError::LobbyLimit(_))) => {
                    Answer::Elsewhere(e, cluster.emptiest_other().await)
                }
                Err(e) => Answer::Refused(e),
            },
            Ask::Resume { node } => Answer::ResumeAt(cluster.node(&node).await),
        }
    })
}

/// Claims a fresh id and code across the cluster. With the directory away the lobby opens
/// anyway (this node keeps serving its own players) and the heartbeat claims it once it is back.
async fn claim(cluster: &Cluster, registry: &Registry, new: &NewLobby) -> (LobbyId, String) {
    let max_players = registry.max_players_for(new.max_players).unwrap_or(0);
    let mut last = registry.fresh_identity();
    for _ in 0..CLAIM_TRIES {
        let (id, code) = last.clone();
        let listing = Listing {
            id: id.0,
            code,
            name: new.name.clone(),
            game: new.game.name().to_owned(),
            players: 0,
            max_players,
            public: new.public,
            node: cluster.node_id.clone(),
            url: cluster.url().to_owned(),
        };
        match cluster.claim(&listing).await {
            Ok(true) => return last,
            Ok(false) => last = registry.fresh_identity(),
            Err(e) => {
                warn!(error = %e, "opening a lobby without claiming its code in the cluster directory");
                return last;
            }
        }
    }
    last
}

impl Live {
    pub(super) fn cluster(&self) -> Option<Arc<Cluster>> {
        self.shard.ctx.cluster.clone()
    }

    /// Where the session's next question for the directory goes.
    pub(super) fn ask(&mut self, ask: Ask) {
        self.ask = Some(ask);
    }

    pub(super) fn redirect(
        &self,
        url: String,
        then: RedirectThen,
        lobby: LobbyId,
        ticket: Vec<u8>,
    ) {
        debug!(%url, ?then, lobby = lobby.0, "redirecting");
        self.send(&ServerMsg::Redirect {
            url,
            then,
            lobby,
            ticket,
        });
    }

    fn unreachable(&self, e: &DirError) {
        self.error(
            ErrorCode::ClusterUnavailable,
            format!(
                "this node cannot reach the cluster directory, so lobbies on other nodes cannot be \
                 found or joined from here right now ({}); lobbies on this node still can",
                e.0
            ),
        );
    }

    /// Acts on what the directory said.
    pub(super) fn on_answer(&mut self, answer: Answer) -> Result<(), Exit> {
        let Some(cluster) = self.cluster() else {
            return Ok(());
        };
        match answer {
            Answer::Found(Ok(Some(l)), spectate) => {
                let kind = if spectate {
                    SeatKind::Spectate
                } else {
                    SeatKind::Play
                };
                let ticket = cluster.issue(LobbyId(l.id), &self.s.name, kind);
                self.redirect(l.url, RedirectThen::Redeem, LobbyId(l.id), ticket);
            }
            Answer::Found(Ok(None), _) => self.error(
                ErrorCode::LobbyNotFound,
                "no lobby on any node has that id or code",
            ),
            Answer::Found(Err(e), _) => self.unreachable(&e),
            Answer::Quick(game, remote) => {
                // The directory away: quick-join among this node's lobbies only.
                let remote = remote.unwrap_or_default();
                let draining = self.shard.ctx.registry.is_draining();
                let local_best = if draining {
                    None
                } else {
                    self.shard
                        .ctx
                        .registry
                        .quick_join_candidates(game)
                        .first()
                        .map(|l| l.players.load(std::sync::atomic::Ordering::Relaxed))
                };
                match remote.first() {
                    Some(r) if local_best.is_none_or(|p| r.players > p) => {
                        let ticket = cluster.issue(LobbyId(r.id), &self.s.name, SeatKind::Quick);
                        self.redirect(r.url.clone(), RedirectThen::Redeem, LobbyId(r.id), ticket);
                    }
                    _ => return self.quick_join(game, 1),
                }
            }
            Answer::List(game, remote) => {
                let mut list = self.shard.ctx.registry.list(game);
                if let Ok(remote) = remote {
                    merge_listing(&mut list, remote, &cluster.node_id);
                }
                self.send(&ServerMsg::LobbyList(list));
            }
            Answer::Claimed(new, identity) => {
                let (id, code) = identity.clone();
                let game = new.game;
                let created = self.shard.ctx.registry.create_as(
                    new.name,
                    new.game,
                    new.max_players,
                    new.public,
                    new.rounds,
                    Some(identity),
                );
                if created.is_err() {
                    // Claimed but not opened (the node filled up or began to stop meanwhile):
                    // free the code and id now rather than when they expire.
                    cluster.withdraw(Listing {
                        id: id.0,
                        code,
                        name: String::new(),
                        game: game.name().to_owned(),
                        players: 0,
                        max_players: 0,
                        public: false,
                        node: cluster.node_id.clone(),
                        url: String::new(),
                    });
                }
                return self.enter_created(created);
            }
            Answer::Elsewhere(_, Ok(Some(node))) => {
                self.redirect(node.url, RedirectThen::Retry, LobbyId(0), Vec::new());
            }
            Answer::Elsewhere(e, _) | Answer::Refused(e) => self.error(e.code(), e.to_string()),
            Answer::ResumeAt(Ok(Some(node))) => {
                self.redirect(node.url, RedirectThen::Resume, LobbyId(0), Vec::new());
            }
            Answer::ResumeAt(Ok(None)) => self.error(
                ErrorCode::ReconnectFailed,
                "the node that held your seat is gone; join again",
            ),
            Answer::ResumeAt(Err(e)) => self.unreachable(&e),
        }
        Ok(())
    }

    /// `Redeem`: a seat another node reserved here with a signed ticket.
    pub(super) fn on_redeem(&mut self, ticket: &[u8]) -> Result<(), Exit> {
        if self.lobby.is_some() {
            self.error(ErrorCode::AlreadyInLobby, "leave your lobby first");
            return Ok(());
        }
        let Some(cluster) = self.cluster() else {
            self.error(
                ErrorCode::NotAllowed,
                "this server is not part of a cluster",
            );
            return Ok(());
        };
        let t = match cluster.redeem(ticket, &self.s.name) {
            Ok(t) => t,
            Err(why) => {
                self.error(ErrorCode::TicketRefused, why);
                return Ok(());
            }
        };
        let registry = self.shard.ctx.registry.clone();
        let Some(shared) = registry.get(t.lobby) else {
            self.shard.ctx.metrics.tickets_refused.inc();
            self.error(
                ErrorCode::TicketRefused,
                "seat ticket refused: that lobby is not on this node (it may have closed)",
            );
            return Ok(());
        };
        cluster.followed();
        let quick = (t.kind == SeatKind::Quick).then_some((shared.game, 1));
        self.enter(
            &shared,
            super::Pending::Join {
                lobby: shared.id,
                spectate: t.kind == SeatKind::Spectate,
                quick,
            },
        )
    }

    /// A lobby list from every node: this node's own lobbies as they are now, the others' as
    /// last published.
    pub(super) fn list_everywhere(&mut self, game: Option<GameKind>) {
        self.ask(Ask::List { game });
    }
}

/// Adds other nodes' lobbies to this node's list (its own come fresh from the registry), fullest
/// first, at most [`crate::lobby::MAX_LISTED`].
pub fn merge_listing(list: &mut Vec<LobbySummary>, remote: Vec<Listing>, me: &str) {
    list.extend(
        remote
            .into_iter()
            .filter(|l| l.node != me)
            .map(|l| LobbySummary {
                id: LobbyId(l.id),
                code: l.code,
                name: l.name,
                game: l.game,
                players: l.players,
                max_players: l.max_players,
                url: Some(l.url),
            }),
    );
    list.sort_by(|a, b| b.players.cmp(&a.players).then(a.id.cmp(&b.id)));
    list.truncate(crate::lobby::MAX_LISTED);
}
