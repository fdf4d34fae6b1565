//! The snapshot's wire layout, in one place: borrowed for writing (`SnapshotRef`, `SnapshotMsg`)
//! and owned for reading (`SnapshotBody`).

use super::ids::{EntityId, Tick};
use super::messages::{GameEvent, ServerMsg, SnapshotBody};
use super::seq::{req, skip_rest};
use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A snapshot borrowed from wherever it was computed (the delta encoder's scratch space, or a
/// [`SnapshotBody`]): the one place the snapshot's fields are laid out on the wire.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotRef<'a> {
    pub tick: Tick,
    pub base_delta: u32,
    pub removed: &'a [EntityId],
    pub entities: &'a [i64],
    pub events: &'a [GameEvent],
}

impl SnapshotRef<'_> {
    const FIELDS: usize = 5;

    fn fields<T: SerializeTuple>(&self, t: &mut T) -> Result<(), T::Error> {
        t.serialize_element(&self.tick)?;
        t.serialize_element(&self.base_delta)?;
        t.serialize_element(self.removed)?;
        t.serialize_element(self.entities)?;
        t.serialize_element(self.events)
    }
}

/// The body alone, `[tick, base_delta, removed, entities, events]`, as `Joined` embeds it.
impl Serialize for SnapshotRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(Self::FIELDS)?;
        self.fields(&mut t)?;
        t.end()
    }
}

/// A whole `Snapshot` message, `[3, tick, base_delta, removed, entities, events]`.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotMsg<'a>(pub SnapshotRef<'a>);

impl Serialize for SnapshotMsg<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(1 + SnapshotRef::FIELDS)?;
        t.serialize_element(&ServerMsg::SNAPSHOT)?;
        self.0.fields(&mut t)?;
        t.end()
    }
}

impl SnapshotBody {
    pub fn as_ref(&self) -> SnapshotRef<'_> {
        SnapshotRef {
            tick: self.tick,
            base_delta: self.base_delta,
            removed: &self.removed,
            entities: &self.entities,
            events: &self.events,
        }
    }
}

impl Serialize for SnapshotBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_ref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for SnapshotBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SnapshotBody;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a snapshot array [tick, base_delta, removed, entities, events]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SnapshotBody, A::Error> {
                let body = snapshot_fields(&mut seq)?;
                skip_rest(&mut seq)?;
                Ok(body)
            }
        }
        d.deserialize_seq(V)
    }
}

pub(super) fn snapshot_fields<'de, A: SeqAccess<'de>>(
    seq: &mut A,
) -> Result<SnapshotBody, A::Error> {
    Ok(SnapshotBody {
        tick: req(seq, "tick")?,
        base_delta: req(seq, "base_delta")?,
        removed: req(seq, "removed")?,
        entities: req(seq, "entities")?,
        events: req(seq, "events")?,
    })
}
