//! Join codes: six characters people can read aloud and type without confusing 0/O or 1/I/L.

use crate::protocol::{CODE_ALPHABET, CODE_LEN};

/// A fresh random code (the registry retries on the rare collision).
pub fn generate_code(rng: &mut fastrand::Rng) -> String {
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.usize(..CODE_ALPHABET.len())] as char)
        .collect()
}

/// What a person typed, as a code to look up: trimmed, upper-cased, with the look-alikes
/// (O→0 is not in the alphabet, so O, 0 → nothing valid) mapped where unambiguous. `None` if it
/// cannot be a code.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input
        .trim()
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_only_the_unambiguous_alphabet() {
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..1000 {
            let c = generate_code(&mut rng);
            assert_eq!(c.len(), 6);
            assert!(!c.contains(['0', 'O', '1', 'I', 'L']));
            assert_eq!(normalize_code(&c.to_lowercase()), Some(c));
        }
    }

    #[test]
    fn normalize_rejects_what_cannot_be_a_code() {
        assert_eq!(normalize_code(" abc-def "), Some("ABCDEF".into()));
        assert_eq!(normalize_code("ABCDE"), None);
        assert_eq!(normalize_code("ABCDE0"), None);
        assert_eq!(normalize_code("ÄBCDEF"), None);
    }
}
