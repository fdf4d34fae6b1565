//! `Welcome` tells a client the limits it must respect, as configured, and an id that is the same
//! for every connection to one server process and differs between processes.

mod common;

use common::process::ServerProcess;
use common::{within, TestServer};
use std::time::Duration;
use tickrelay::client::Client;
use tickrelay::protocol::ClientLimits;

fn is_server_id(id: &str) -> bool {
    id.len() == 16 && id.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_carries_the_configured_limits_and_the_processs_id() {
    // Every value distinct from its default and from the others, so a mix-up shows.
    let server = TestServer::with(|c| {
        c.limits.max_message_bytes = 2048;
        c.limits.messages_per_second = 90;
        c.limits.message_burst = 45;
        c.lobby.chat_burst = 3;
        c.lobby.chat_refill = Duration::from_millis(1500);
        c.lobby.reconnect_grace = Duration::from_secs(12);
        c.lobby.slow_client_timeout = Duration::from_millis(2500);
        c.limits.idle_timeout = Duration::from_secs(20);
        c.limits.max_decode_errors = 7;
    })
    .await;
    within(10, async {
        let (_a, wa) = server.client("ann").await;
        assert_eq!(
            wa.limits,
            ClientLimits {
                max_message_bytes: 2048,
                messages_per_second: 90,
                message_burst: 45,
                chat_burst: 3,
                chat_refill_ms: 1500,
                reconnect_grace_ms: 12_000,
                slow_client_timeout_ms: 2500,
                idle_timeout_ms: 20_000,
                max_decode_errors: 7,
            }
        );
        assert!(is_server_id(&wa.server_id), "{:?}", wa.server_id);
        // Another connection to the same process: the same id.
        let (_b, wb) = server.client("bob").await;
        assert_eq!(wb.server_id, wa.server_id);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_server_process_has_its_own_id() {
    let first = ServerProcess::start(&[("TICKRELAY__LIMITS__MESSAGE_BURST", "33")]);
    let second = ServerProcess::start(&[]);
    within(20, async {
        let mut a = Client::connect(&first.url()).await.unwrap();
        let wa = a.hello("ann", None).await.unwrap();
        let mut b = Client::connect(&second.url()).await.unwrap();
        let wb = b.hello("bob", None).await.unwrap();
        assert!(is_server_id(&wa.server_id) && is_server_id(&wb.server_id));
        assert_ne!(wa.server_id, wb.server_id, "two processes, one id");
        // The binary's configuration reaches Welcome.
        assert_eq!(wa.limits.message_burst, 33);
        assert_eq!(wb.limits.message_burst, 60);
    })
    .await;
}
