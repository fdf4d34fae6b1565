//! Seat tickets: what one node signs when it sends a client to another, and what that node checks
//! without asking anyone. Pure: the clock and the key are arguments.
//!
//! A ticket is a MessagePack array `[1, lobby, name, expires_ms, nonce, kind]` followed by its
//! 32-byte HMAC-SHA256 under `cluster.secret`. Clients treat it as opaque bytes.

use crate::protocol::LobbyId;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const VERSION: u8 = 1;
const MAC_LEN: usize = 32;
/// A ticket longer than this is not one of ours (the longest name is 24 bytes).
pub const MAX_TICKET_BYTES: usize = 160;

/// What the seat is for once the client gets there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SeatKind {
    Play = 0,
    Spectate = 1,
    /// A quick-join: if the lobby filled up meanwhile, quick-join on that node instead.
    Quick = 2,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub lobby: LobbyId,
    /// The player's name as the issuing node cleaned it: the redeeming hello must say the same.
    pub name: String,
    /// Unix time in milliseconds after which the ticket is refused.
    pub expires_ms: u64,
    /// Unique per ticket, so the redeeming node can refuse a second use.
    pub nonce: u64,
    pub kind: SeatKind,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("not a seat ticket")]
    Malformed,
    #[error("the ticket's signature does not match")]
    BadSignature,
    #[error("the ticket expired")]
    Expired,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length")
}

impl Ticket {
    /// The ticket's bytes, signed with `secret`.
    pub fn sign(&self, secret: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.name.len());
        let body = (
            VERSION,
            self.lobby.0,
            &self.name,
            self.expires_ms,
            self.nonce,
            self.kind as u8,
        );
        // Writing into a Vec cannot fail.
        rmp_serde::encode::write(&mut out, &body).expect("encoding into a Vec");
        let mut m = mac(secret);
        m.update(&out);
        out.extend_from_slice(&m.finalize().into_bytes());
        out
    }

    /// Checks the signature first (nothing unsigned is even parsed), then the expiry.
    pub fn verify(bytes: &[u8], secret: &[u8], now_ms: u64) -> Result<Ticket, TicketError> {
        if bytes.len() <= MAC_LEN || bytes.len() > MAX_TICKET_BYTES {
            return Err(TicketError::Malformed);
        }
        let (body, sig) = bytes.split_at(bytes.len() - MAC_LEN);
        let mut m = mac(secret);
        m.update(body);
        m.verify_slice(sig).map_err(|_| TicketError::BadSignature)?;
        type Body = (u8, u32, String, u64, u64, u8);
        let (version, lobby, name, expires_ms, nonce, kind): Body =
            rmp_serde::from_slice(body).map_err(|_| TicketError::Malformed)?;
        let kind = match kind {
            0 => SeatKind::Play,
            1 => SeatKind::Spectate,
            2 => SeatKind::Quick,
            _ => return Err(TicketError::Malformed),
        };
        if version != VERSION {
            return Err(TicketError::Malformed);
        }
        if now_ms > expires_ms {
            return Err(TicketError::Expired);
        }
        Ok(Ticket {
            lobby: LobbyId(lobby),
            name,
            expires_ms,
            nonce,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a test secret of some length";

    fn ticket() -> Ticket {
        Ticket {
            lobby: LobbyId(7),
            name: "ana".into(),
            expires_ms: 10_000,
            nonce: 42,
            kind: SeatKind::Play,
        }
    }

    #[test]
    fn a_signed_ticket_verifies_until_it_expires() {
        let b = ticket().sign(KEY);
        assert_eq!(Ticket::verify(&b, KEY, 10_000), Ok(ticket()));
        assert_eq!(Ticket::verify(&b, KEY, 10_001), Err(TicketError::Expired));
    }

    #[test]
    fn any_changed_byte_or_another_key_is_refused() {
        let b = ticket().sign(KEY);
        for i in 0..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 1;
            assert!(Ticket::verify(&bad, KEY, 0).is_err(), "byte {i} flipped");
        }
        assert_eq!(
            Ticket::verify(&b, b"another key entirely", 0),
            Err(TicketError::BadSignature)
        );
    }

    #[test]
    fn another_lobby_needs_another_signature() {
        // A client cannot turn a ticket for lobby 7 into one for lobby 8: the lobby is signed.
        let mut t = ticket();
        t.lobby = LobbyId(8);
        let forged_body = t.sign(b"guessed key");
        assert_eq!(
            Ticket::verify(&forged_body, KEY, 0),
            Err(TicketError::BadSignature)
        );
    }

    #[test]
    fn short_long_and_empty_inputs_are_malformed() {
        assert_eq!(Ticket::verify(&[], KEY, 0), Err(TicketError::Malformed));
        assert_eq!(
            Ticket::verify(&[0; 32], KEY, 0),
            Err(TicketError::Malformed)
        );
        assert_eq!(
            Ticket::verify(&[0; MAX_TICKET_BYTES + 1], KEY, 0),
            Err(TicketError::Malformed)
        );
    }
}
