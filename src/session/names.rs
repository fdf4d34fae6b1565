//! What the server accepts as a name, and the reconnect tokens it hands out.

/// Trims, drops control characters and cuts to `max` bytes on a character boundary.
pub fn clean_text(s: &str, max: usize) -> Option<String> {
    let cleaned: String = s.chars().filter(|c| !c.is_control()).collect();
    let mut t = cleaned.trim().to_owned();
    while t.len() > max {
        t.pop();
    }
    let t = t.trim_end().to_owned();
    (!t.is_empty()).then_some(t)
}

/// 128 bits from the OS, as hex: unguessable, so a token is as good as the seat. Without the OS's
/// random source there is no token (and no connection): a guessable token would hand seats to
/// whoever guesses it.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_trims_strips_and_cuts_on_char_boundaries() {
        assert_eq!(clean_text("  ann\n ", 24), Some("ann".into()));
        assert_eq!(clean_text("\u{1}\u{2}", 24), None);
        assert_eq!(clean_text("ééééé", 5), Some("éé".into()));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
