//! Reading a flat message array one element at a time, with errors that name the missing field.

use serde::de::{self, IgnoredAny, SeqAccess};
use serde::Deserialize;

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
