//! Bots following a cluster's redirects, against fake nodes (no cluster, no Redis): the real
//! thing is in the cluster tests.

use super::*;
use crate::client::fake::{bind, joined, redirect, serve, welcome};
use crate::protocol::{ClientMsg, RedirectThen};

const TICKET: &[u8] = b"seat";

fn quick(url: String, mode: Mode) -> BotConfig {
    let mut cfg = BotConfig::new(url, mode);
    cfg.duration = Duration::from_millis(200);
    cfg.warmup = Duration::ZERO;
    cfg.setup_timeout = Duration::from_secs(5);
    cfg.threads = Some(2);
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_create_and_join_on_the_node_they_are_sent_to() {
    let (la, ua) = bind().await;
    let (lb, ub) = bind().await;
    let to_b = ub.clone();
    // "a" has room for no lobby (retry the create on "b") and sends joins to "b" with a ticket.
    let a = serve(
        la,
        ua,
        Arc::new(move |m: &ClientMsg| match m {
            ClientMsg::Hello(_) => vec![welcome("a")],
            ClientMsg::CreateLobby(_) => vec![redirect(&to_b, RedirectThen::Retry, &[])],
            ClientMsg::Join(_) => vec![redirect(&to_b, RedirectThen::Redeem, TICKET)],
            _ => vec![],
        }),
    );
    let b = serve(
        lb,
        ub,
        Arc::new(|m: &ClientMsg| match m {
            ClientMsg::Hello(_) => vec![welcome("b")],
            ClientMsg::CreateLobby(_) => vec![joined(7)],
            ClientMsg::Redeem { ticket } if ticket == TICKET => vec![joined(7)],
            _ => vec![],
        }),
    );
    let mode = Mode::Lobbies {
        lobbies: 1,
        players: 3,
        game: Game::Walkers,
    };
    let r = run(quick(a.url.clone(), mode), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((r.bots_connected, r.bots_failed), (3, 0), "{}", r.table());
    assert_eq!(r.redirects_followed, 3, "{}", r.table());
    assert_eq!(r.lobbies_formed, 1, "{}", r.table());
    assert!(r.table().contains("redirects followed  3"), "{}", r.table());
    let seen = b.seen();
    let count = |f: &dyn Fn(&ClientMsg) -> bool| seen.iter().filter(|m| f(m)).count();
    assert_eq!(count(&|m| matches!(m, ClientMsg::CreateLobby(_))), 1);
    assert_eq!(count(&|m| matches!(m, ClientMsg::Redeem { .. })), 2);
    // Each bot says hello there with the name it had on "a".
    for i in 0..3 {
        let name = format!("bot-{i}");
        assert_eq!(
            count(&|m| matches!(m, ClientMsg::Hello(h) if h.name == name)),
            1,
            "{name}"
        );
    }
    // And plays there, not on "a".
    assert!(count(&|m| matches!(m, ClientMsg::Input { .. })) > 0);
    assert!(!a
        .seen()
        .iter()
        .any(|m| matches!(m, ClientMsg::Input { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_fails_the_bot_after_three() {
    let (l, url) = bind().await;
    let me = url.clone();
    let _node = serve(
        l,
        url.clone(),
        Arc::new(move |m: &ClientMsg| match m {
            ClientMsg::Hello(_) => vec![welcome("c")],
            _ => vec![redirect(&me, RedirectThen::Redeem, TICKET)],
        }),
    );
    let mode = Mode::Fill {
        code: "ABCDEF".into(),
        players: 2,
    };
    let r = run(quick(url, mode), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((r.bots_connected, r.bots_failed), (0, 2), "{}", r.table());
    assert_eq!(
        r.errors.get("join:too many redirects"),
        Some(&2),
        "{}",
        r.table()
    );
    assert_eq!(
        r.redirects_followed,
        2 * u64::from(crate::client::MAX_REDIRECTS)
    );
}
