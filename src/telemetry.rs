//! Logging through tracing: one subscriber for the binaries; tests log only when TEST_LOG is set.

use tracing_subscriber::EnvFilter;

/// Installs a formatting subscriber with `filter` (RUST_LOG wins when set). Safe to call twice.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// For tests: logs to the test writer only when `TEST_LOG` is set, so runs stay quiet by default.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(
                std::env::var("TEST_LOG").unwrap_or_else(|_| "debug".into()),
            ))
            .with_test_writer()
            .try_init();
    }
}
