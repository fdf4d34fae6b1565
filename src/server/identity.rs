//! The server's id in `Welcome`: random per process start, so a client can tell a restart from an expired seat.

/// 64 bits from the OS as 16 hex characters. Without the OS's random source there is no id (and
/// the server does not start): a predictable id could repeat across restarts and hide one.
pub fn new_server_id() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_16_hex_characters_and_distinct() {
        let (a, b) = (new_server_id().unwrap(), new_server_id().unwrap());
        assert_eq!(a.len(), 16);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }
}
