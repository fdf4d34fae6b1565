//! Following redirects, against fake nodes (no cluster, no Redis).

use super::fake::{bind, joined, redirect, serve, welcome, Node};
use super::*;
use crate::protocol::LobbyId;
use std::sync::Arc;

const TICKET: &[u8] = &[1, 2, 3, 0, 255];

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
