//! Fake tickrelay nodes for tests of redirect following (the client's and the bots'): each
//! answers a client's messages from a script and records what it received. No cluster, no Redis.

use crate::protocol::{
    decode_client, encode, ClientLimits, ClientMsg, EntityId, JoinedInfo, LobbyId, RedirectThen,
    ServerMsg, SessionId, SnapshotBody, PROTOCOL_VERSION,
};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// What a node answers to each message.
pub type Script = Arc<dyn Fn(&ClientMsg) -> Vec<ServerMsg> + Send + Sync>;

/// A fake node: its URL and everything it received, in order.
pub struct Node {
    pub url: String,
    seen: Arc<Mutex<Vec<ClientMsg>>>,
}

impl Node {
    pub fn seen(&self) -> Vec<ClientMsg> {
        self.seen.lock().unwrap().clone()
    }
}

/// A listener on 127.0.0.1 and its WebSocket URL.
pub async fn bind() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", l.local_addr().unwrap());
    (l, url)
}

/// Serves every connection to `listener` with `script`.
pub fn serve(listener: TcpListener, url: String, script: Script) -> Node {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (script, log) = (script.clone(), log.clone());
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    let Message::Binary(b) = m else { continue };
                    let msg = decode_client(&b).unwrap();
                    log.lock().unwrap().push(msg.clone());
                    for reply in script(&msg) {
                        let bytes = Bytes::from(encode(&reply));
                        if ws.send(Message::Binary(bytes)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    Node { url, seen }
}

/// A `Welcome` from node `node` (its token `NODE.fresh`).
pub fn welcome(node: &str) -> ServerMsg {
    ServerMsg::Welcome {
        version: PROTOCOL_VERSION,
        session: SessionId(1),
        reconnect_token: format!("{node}.fresh"),
        tick_rate: 30,
        snapshot_rate: 30,
        server_id: node.into(),
        limits: ClientLimits::default(),
    }
}

/// A seat in walkers lobby `lobby` (code ABCDEF) with an empty world.
pub fn joined(lobby: u32) -> ServerMsg {
    ServerMsg::Joined(Box::new(JoinedInfo {
        lobby: LobbyId(lobby),
        code: "ABCDEF".into(),
        name: "lobby".into(),
        game: "walkers".into(),
        you: Some(EntityId(1)),
        host: Some(EntityId(1)),
        tick_rate: 30,
        snapshot_rate: 30,
        max_players: 8,
        field_count: 3,
        roster: Vec::new(),
        snapshot: SnapshotBody::default(),
    }))
}

/// A `Redirect` to `url` (for lobby 7).
pub fn redirect(url: &str, then: RedirectThen, ticket: &[u8]) -> ServerMsg {
    ServerMsg::Redirect {
        url: url.into(),
        then,
        lobby: LobbyId(7),
        ticket: ticket.to_vec(),
    }
}
