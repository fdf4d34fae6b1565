//! The plain HTTP side: the browser client or a how-to-build page, and config errors at start.

mod common;

use common::{within, TestServer};
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_built_client_the_page_says_how_to_build_it() {
    let server = TestServer::start().await;
    let (status, body) = within(10, server.get("/")).await;
    assert_eq!(status, 200);
    assert!(body.contains("make run"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_client_is_served_from_the_client_dir() {
    let dir = std::env::temp_dir().join(format!("tickrelay-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<title>the game</title>").unwrap();
    std::fs::write(dir.join("main.js"), "console.log('hi')").unwrap();
    let d = dir.clone();
    let server = TestServer::with(move |c| c.server.client_dir = d).await;
    let (status, body) = within(10, server.get("/")).await;
    assert_eq!((status, body.as_str()), (200, "<title>the game</title>"));
    let (status, body) = within(10, server.get("/main.js")).await;
    assert_eq!((status, body.as_str()), (200, "console.log('hi')"));
    let (status, _) = within(10, server.get("/missing.js")).await;
    assert_eq!(status, 404);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_invalid_setting_stops_the_binary_with_a_message_naming_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_tickrelay"))
        .args(["--bind", "127.0.0.1:0"])
        .env("TICKRELAY__LOBBY__TICK_RATE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lobby.tick_rate"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_tickrelay"))
        .args(["--bind", "127.0.0.1:0"])
        .env("TICKRELAY__LIMITS__IDLE_TIMEOUT", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("idle_timeout"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_tickrelay"))
        .args(["--config", "/nonexistent/tickrelay.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}
