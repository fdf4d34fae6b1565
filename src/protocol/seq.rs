//! Reading a flat message array one element at a time, with errors that name the missing field.

use serde::de::{self, IgnoredAny, SeqAccess};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Reads the next element, failing with a message that names the missing field.
pub(super) fn req<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
    seq: &mut A,
    field: &'static str,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::custom(format_args!("missing field `{field}`")))
}

/// Reads a message's type tag. It is read wide, so any unknown number, not just one that fits a
/// u8, is "unknown type".
pub(super) fn message_type<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<u8, A::Error> {
    let wide: u64 = req(seq, "type")?;
    u8::try_from(wide).map_err(|_| de::Error::custom(format_args!("unknown message type {wide}")))
}

/// Reads an optional trailing element: absent and nil both mean `None`.
pub(super) fn opt<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
    seq: &mut A,
) -> Result<Option<T>, A::Error> {
    Ok(seq.next_element::<Option<T>>()?.flatten())
}

/// Later protocol versions may append fields; skip them (depth-limited by the codec).
pub(super) fn skip_rest<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Bytes written as MessagePack `bin` (serde would write a `Vec<u8>` as an array of ints).
pub(super) struct Bin<'a>(pub &'a [u8]);

impl Serialize for Bin<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// Bytes read from a MessagePack `bin` (only `bin`: an array of ints is not a byte string here).
pub(super) struct BinBuf(pub Vec<u8>);

impl<'de> Deserialize<'de> for BinBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = BinBuf;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a byte string (bin)")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<BinBuf, E> {
                Ok(BinBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<BinBuf, E> {
                Ok(BinBuf(v))
            }
        }
        d.deserialize_bytes(V)
    }
}
