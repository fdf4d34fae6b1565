//! The one table of error codes (sent in `Error` frames) and WebSocket close codes with their reasons.

/// Why a request failed. Sent as `[7, code, message]`; the connection stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    /// `Hello` named a protocol version this server does not speak (the socket then closes with 4000).
    BadVersion = 1,
    /// The frame was not a valid MessagePack message of this protocol.
    Malformed = 2,
    /// The message is not allowed in this state (before `Hello`, input outside a lobby, ...).
    NotAllowed = 3,
    /// No lobby has that id or join code.
    LobbyNotFound = 4,
    /// The lobby has no free seat.
    LobbyFull = 5,
    /// The server already runs as many lobbies as it may.
    LobbyLimit = 6,
    /// A field is out of range: unknown game, name too long, bad max players.
    BadRequest = 7,
    /// Too many messages of this kind; the excess was dropped.
    RateLimited = 8,
    /// The reconnect token is unknown, used, or its seat has expired.
    ReconnectFailed = 9,
    /// Only the lobby's host may do that.
    NotHost = 10,
    /// Leave the current lobby first.
    AlreadyInLobby = 11,
    /// The server is shutting down and takes no new lobbies.
    ShuttingDown = 12,
    /// An input value is out of range or not finite (NaN, infinity).
    BadInput = 13,
    /// The message type number is not one this version knows.
    UnknownMessage = 14,
    /// The lobby is overloaded and dropped the request; try again.
    Overloaded = 15,
    /// A cluster node cannot reach the directory other nodes share: lobbies elsewhere cannot be
    /// found or joined from here until it can (this node's own lobbies still can).
    ClusterUnavailable = 16,
    /// A seat ticket was forged, expired, already used, or is for a lobby not on this node.
    TicketRefused = 17,
}

impl ErrorCode {
    pub fn as_u16(self) -> u16 {
        self as u16
    }

    pub fn from_u16(v: u16) -> Option<Self> {
        use ErrorCode::*;
        Some(match v {
            1 => BadVersion,
            2 => Malformed,
            3 => NotAllowed,
            4 => LobbyNotFound,
            5 => LobbyFull,
            6 => LobbyLimit,
            7 => BadRequest,
            8 => RateLimited,
            9 => ReconnectFailed,
            10 => NotHost,
            11 => AlreadyInLobby,
            12 => ShuttingDown,
            13 => BadInput,
            14 => UnknownMessage,
            15 => Overloaded,
            16 => ClusterUnavailable,
            17 => TicketRefused,
            _ => return None,
        })
    }
}

/// Why the server closed the WebSocket. The close frame carries the code and [`CloseCode::reason`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: the client asked to close.
    Normal,
    /// 1001: the server is shutting down.
    GoingAway,
    /// 1003: a text frame; this protocol is binary MessagePack only.
    UnsupportedData,
    /// 1008: the Origin header is not allowed.
    OriginNotAllowed,
    /// 1009: a frame or message larger than the configured limit.
    MessageTooBig,
    /// 1011: the server hit an internal error serving this connection.
    InternalError,
    /// 4000: `Hello` named another protocol version.
    BadVersion,
    /// 4001: too many malformed frames, or the first message was not `Hello`.
    ProtocolViolation,
    /// 4002: the client did not read its snapshots for longer than the slow-client limit.
    TooSlow,
    /// 4003: the client kept sending faster than its rate limit.
    RateLimited,
    /// 4004: no `Hello` in time, or nothing heard (not even a pong) for the idle timeout.
    Timeout,
    /// 4005: the same seat was resumed from another connection with its reconnect token.
    Replaced,
    /// 4006: the server or this address has too many connections.
    ServerFull,
    /// 4007: an operator removed this player (the operator's reason came just before, in `Left`).
    Kicked,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        use CloseCode::*;
        match self {
            Normal => 1000,
            GoingAway => 1001,
            UnsupportedData => 1003,
            OriginNotAllowed => 1008,
            MessageTooBig => 1009,
            InternalError => 1011,
            BadVersion => 4000,
            ProtocolViolation => 4001,
            TooSlow => 4002,
            RateLimited => 4003,
            Timeout => 4004,
            Replaced => 4005,
            ServerFull => 4006,
            Kicked => 4007,
        }
    }

    pub fn reason(self) -> &'static str {
        use CloseCode::*;
        match self {
            Normal => "bye",
            GoingAway => "server shutting down",
            UnsupportedData => "binary MessagePack frames only",
            OriginNotAllowed => "origin not allowed",
            MessageTooBig => "message too big",
            InternalError => "internal error",
            BadVersion => "protocol version mismatch",
            ProtocolViolation => "protocol violation",
            TooSlow => "too slow: snapshots not read in time",
            RateLimited => "rate limit exceeded",
            Timeout => "timed out",
            Replaced => "resumed from another connection",
            ServerFull => "server full",
            Kicked => "kicked by an operator",
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        use CloseCode::*;
        [
            Normal,
            GoingAway,
            UnsupportedData,
            OriginNotAllowed,
            MessageTooBig,
            InternalError,
            BadVersion,
            ProtocolViolation,
            TooSlow,
            RateLimited,
            Timeout,
            Replaced,
            ServerFull,
            Kicked,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_round_trip() {
        for v in 0..=20u16 {
            if let Some(code) = ErrorCode::from_u16(v) {
                assert_eq!(code.as_u16(), v);
            }
        }
        assert_eq!(ErrorCode::from_u16(15), Some(ErrorCode::Overloaded));
        assert_eq!(ErrorCode::from_u16(17), Some(ErrorCode::TicketRefused));
        assert_eq!(ErrorCode::from_u16(18), None);
    }

    #[test]
    fn close_codes_round_trip_and_reasons_fit_a_close_frame() {
        for v in 1000..5000u16 {
            if let Some(c) = CloseCode::from_code(v) {
                assert_eq!(c.code(), v);
                // A close frame's reason must fit in 123 bytes.
                assert!(c.reason().len() <= 123);
            }
        }
    }
}
