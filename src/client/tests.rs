//! Following redirects, against fake nodes (no cluster, no Redis): each fake node answers a
//! client's messages from a script and records what it received.

use super::*;
use crate::protocol::{decode_client, EntityId, JoinedInfo, LobbyId, SnapshotBody};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

const TICKET: &[u8] = &[1, 2, 3, 0, 255];

type Script = Arc<dyn Fn(&ClientMsg) -> Vec<ServerMsg> + Send + Sync>;

struct Node {
    url: String,
    seen: Arc<Mutex<Vec<ClientMsg>>>,
}

impl Node {
    fn seen(&self) -> Vec<ClientMsg> {
        self.seen.lock().unwrap().clone()
    }
}

async fn bind() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", l.local_addr().unwrap());
    (l, url)
}

/// Serves every connection to `listener` with `script`.
fn serve(listener: TcpListener, url: String, script: Script) -> Node {
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

fn welcome(node: &str) -> ServerMsg {
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

fn joined(lobby: u32) -> ServerMsg {
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

fn redirect(url: &str, then: RedirectThen, ticket: &[u8]) -> ServerMsg {
    ServerMsg::Redirect {
        url: url.into(),
        then,
        lobby: LobbyId(7),
        ticket: ticket.to_vec(),
    }
}

/// Node "a" sends everything elsewhere: joins to "b" with a ticket, creates to "b" to retry,
/// a "b." token to "b" to resume, spectates to "b" with a bad ticket, quick-joins to "c".
/// Node "b" seats whoever comes right; node "c" sends everyone back to itself, forever.
async fn cluster() -> (Node, Node, Node) {
    let (la, ua) = bind().await;
    let (lb, ub) = bind().await;
    let (lc, uc) = bind().await;
    let (to_b, to_c) = (ub.clone(), uc.clone());
    let a = serve(
        la,
        ua,
        Arc::new(move |m: &ClientMsg| match m {
            ClientMsg::Hello(h) if h.reconnect_token.as_deref() == Some("b.seat") => {
                vec![welcome("a"), redirect(&to_b, RedirectThen::Resume, &[])]
            }
            ClientMsg::Hello(_) => vec![welcome("a")],
            // Something else on the way first: the helpers skip it.
            ClientMsg::Join(_) => vec![
                ServerMsg::Pong { nonce: 1 },
                redirect(&to_b, RedirectThen::Redeem, TICKET),
            ],
            ClientMsg::CreateLobby(_) => vec![redirect(&to_b, RedirectThen::Retry, &[])],
            ClientMsg::Spectate(_) => vec![redirect(&to_b, RedirectThen::Redeem, b"forged")],
            ClientMsg::QuickJoin { .. } => vec![redirect(&to_c, RedirectThen::Redeem, &[9])],
            _ => vec![],
        }),
    );
    let b = serve(
        lb,
        ub,
        Arc::new(|m: &ClientMsg| match m {
            ClientMsg::Hello(h) if h.reconnect_token.as_deref() == Some("b.seat") => {
                vec![welcome("b"), joined(7)]
            }
            ClientMsg::Hello(_) => vec![welcome("b")],
            ClientMsg::Redeem { ticket } if ticket == TICKET => vec![joined(7)],
            ClientMsg::Redeem { .. } => vec![ServerMsg::error(ErrorCode::TicketRefused, "no")],
            ClientMsg::CreateLobby(_) => vec![joined(8)],
            _ => vec![],
        }),
    );
    let c = serve(
        lc,
        uc.clone(),
        Arc::new(move |m: &ClientMsg| match m {
            ClientMsg::Hello(_) => vec![welcome("c")],
            _ => vec![redirect(&uc, RedirectThen::Redeem, &[9])],
        }),
    );
    (a, b, c)
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out")
}

fn hello(name: &str, token: Option<&str>) -> ClientMsg {
    ClientMsg::Hello(Hello {
        version: PROTOCOL_VERSION,
        name: name.into(),
        reconnect_token: token.map(str::to_owned),
    })
}

#[tokio::test]
async fn a_join_redeems_its_ticket_on_the_node_it_is_sent_to() {
    let (a, b, _) = cluster().await;
    let mut c = within(Client::connect(&a.url)).await.unwrap();
    within(c.hello("ann", None)).await.unwrap();
    let j = within(c.join(LobbyRef::Code("ABCDEF".into())))
        .await
        .unwrap();
    assert_eq!(j.lobby, LobbyId(7));
    assert_eq!(c.url(), Some(b.url.as_str()));
    assert_eq!(c.redirects_followed(), 1);
    assert_eq!(c.reconnect_token(), Some("b.fresh"));
    assert_eq!(
        b.seen(),
        vec![
            hello("ann", None),
            ClientMsg::Redeem {
                ticket: TICKET.to_vec()
            }
        ]
    );
    // The client talks to the new node now.
    within(c.send(&ClientMsg::Ping { nonce: 5 })).await.unwrap();
    within(c.close()).await;
    assert_eq!(b.seen().last(), Some(&ClientMsg::Ping { nonce: 5 }));
}

#[tokio::test]
async fn a_create_is_sent_again_where_it_is_retried() {
    let (a, b, _) = cluster().await;
    let mut c = within(Client::connect(&a.url)).await.unwrap();
    within(c.hello("bob", None)).await.unwrap();
    let j = within(c.create("mine", "walkers", 4, true)).await.unwrap();
    assert_eq!(j.lobby, LobbyId(8));
    let create = a.seen()[1].clone();
    assert!(matches!(create, ClientMsg::CreateLobby(_)));
    assert_eq!(b.seen(), vec![hello("bob", None), create]);
}

#[tokio::test]
async fn a_resume_says_hello_with_the_same_token_where_the_seat_is() {
    let (a, b, _) = cluster().await;
    let mut c = within(Client::connect(&a.url)).await.unwrap();
    let w = within(c.hello("cy", Some("b.seat".into()))).await.unwrap();
    assert_eq!(w.server_id, "a");
    let j = within(c.joined()).await.unwrap();
    assert_eq!(j.lobby, LobbyId(7));
    assert_eq!(b.seen(), vec![hello("cy", Some("b.seat"))]);
    assert_eq!(c.welcome().unwrap().server_id, "b");
}

#[tokio::test]
async fn follow_returns_the_far_nodes_error_as_the_outcome() {
    let (a, _, _) = cluster().await;
    let mut c = within(Client::connect(&a.url)).await.unwrap();
    // A raw Hello is remembered as well as `hello`'s.
    within(c.send(&hello("dee", None))).await.unwrap();
    assert!(matches!(
        within(c.recv()).await.unwrap(),
        ServerMsg::Welcome { .. }
    ));
    let out = within(c.follow(&ClientMsg::Spectate(LobbyRef::Id(LobbyId(7)))))
        .await
        .unwrap();
    let ServerMsg::Error { code, .. } = out else {
        panic!("{out:?}");
    };
    assert_eq!(ErrorCode::from_u16(code), Some(ErrorCode::TicketRefused));
    assert_eq!(c.redirects_followed(), 1);
}

#[tokio::test]
async fn a_redirect_loop_gives_up_after_three() {
    let (a, _, far) = cluster().await;
    let mut c = within(Client::connect(&a.url)).await.unwrap();
    within(c.hello("eve", None)).await.unwrap();
    let e = within(c.quick_join("walkers")).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::TooManyRedirects { url } if *url == far.url),
        "{e}"
    );
    assert_eq!(c.redirects_followed(), MAX_REDIRECTS);
}

#[tokio::test]
async fn recv_hands_a_redirect_over_unfollowed() {
    let (a, _, _) = cluster().await;
    let mut c = within(Client::connect(&a.url)).await.unwrap();
    within(c.hello("fay", None)).await.unwrap();
    within(c.send(&ClientMsg::Join(LobbyRef::Id(LobbyId(7)))))
        .await
        .unwrap();
    assert_eq!(
        within(c.recv()).await.unwrap(),
        ServerMsg::Pong { nonce: 1 }
    );
    assert!(matches!(
        within(c.recv()).await.unwrap(),
        ServerMsg::Redirect {
            then: RedirectThen::Redeem,
            ..
        }
    ));
    assert_eq!(c.url(), Some(a.url.as_str()));
}
