//! The delta between two entity tables, written straight to MessagePack, and its application.
//!
//! Layout of the `entities` ints (PROTOCOL.md has the byte-level version): entities that changed,
//! ascending by id, each as a header `(id - previous_id) << field_count | mask` followed by one
//! wrapping i32 difference per set bit of `mask`, lowest bit first. An id the client does not hold
//! is new and its differences are from all-zero fields. Removed ids are listed apart.

use super::table::{EntityTable, Row, MAX_FIELDS};
use crate::protocol::{
    encode_into, EntityId, GameEvent, SnapshotBody, SnapshotMsg, SnapshotRef, Tick,
};

/// Reusable scratch space for encoding deltas: one per lobby, so the per-tick path allocates nothing.
#[derive(Default)]
pub struct DeltaEncoder {
    removed: Vec<EntityId>,
    ints: Vec<i64>,
}

impl DeltaEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fills `removed` and `ints` with the delta from `base` (or from nothing) to `cur`.
    fn diff(&mut self, base: Option<&EntityTable>, cur: &EntityTable) {
        self.removed.clear();
        self.ints.clear();
        let f = u32::from(cur.field_count());
        let empty: &[Row] = &[];
        let base_rows = base.map_or(empty, |b| b.rows());
        let mut bi = 0;
        let mut prev_id: u32 = 0;
        for row in cur.rows() {
            // Everything in base below this id is gone.
            while bi < base_rows.len() && base_rows[bi].id < row.id {
                self.removed.push(base_rows[bi].id);
                bi += 1;
            }
            let old = if bi < base_rows.len() && base_rows[bi].id == row.id {
                bi += 1;
                Some(&base_rows[bi - 1].fields)
            } else {
                None
            };
            let zero = [0i32; MAX_FIELDS];
            let old_fields = old.unwrap_or(&zero);
            let mut mask: u32 = 0;
            for (i, (new, old)) in row
                .fields
                .iter()
                .zip(old_fields)
                .take(f as usize)
                .enumerate()
            {
                if new != old {
                    mask |= 1 << i;
                }
            }
            // A new entity is always announced, even with all-zero fields (mask 0).
            if mask == 0 && old.is_some() {
                continue;
            }
            let gap = u64::from(row.id.0.wrapping_sub(prev_id));
            prev_id = row.id.0;
            self.ints.push(((gap << f) | u64::from(mask)) as i64);
            for (i, (new, old)) in row
                .fields
                .iter()
                .zip(old_fields)
                .take(f as usize)
                .enumerate()
            {
                if mask & (1 << i) != 0 {
                    self.ints.push(i64::from(new.wrapping_sub(*old)));
                }
            }
        }
        self.removed.extend(base_rows[bi..].iter().map(|r| r.id));
    }

    /// Appends a whole `Snapshot` message `[3, tick, base_delta, removed, entities, events]` to `out`.
    pub fn write_frame(
        &mut self,
        out: &mut Vec<u8>,
        base: Option<&EntityTable>,
        cur: &EntityTable,
        events: &[GameEvent],
    ) {
        self.diff(base, cur);
        encode_into(out, &SnapshotMsg(self.view(base, cur, events)));
    }

    /// Appends the snapshot body `[tick, base_delta, removed, entities, events]` (as `Joined` embeds it).
    pub fn write_body(
        &mut self,
        out: &mut Vec<u8>,
        base: Option<&EntityTable>,
        cur: &EntityTable,
        events: &[GameEvent],
    ) {
        self.diff(base, cur);
        encode_into(out, &self.view(base, cur, events));
    }

    /// The last diff, borrowed, for the protocol's one writer of the snapshot layout.
    fn view<'a>(
        &'a self,
        base: Option<&EntityTable>,
        cur: &EntityTable,
        events: &'a [GameEvent],
    ) -> SnapshotRef<'a> {
        SnapshotRef {
            tick: cur.tick,
            base_delta: base.map_or(0, |b| cur.tick.0.wrapping_sub(b.tick.0)),
            removed: &self.removed,
            entities: &self.ints,
            events,
        }
    }

    /// The delta as a value (for tests and for callers that want the structure, not the bytes).
    pub fn body(
        &mut self,
        base: Option<&EntityTable>,
        cur: &EntityTable,
        events: &[GameEvent],
    ) -> SnapshotBody {
        self.diff(base, cur);
        let v = self.view(base, cur, events);
        SnapshotBody {
            tick: v.tick,
            base_delta: v.base_delta,
            removed: v.removed.to_vec(),
            entities: v.entities.to_vec(),
            events: events.to_vec(),
        }
    }
}

/// Encodes a full `Snapshot` frame in one call (allocates; for tests and tools).
pub fn encode_snapshot_frame(
    base: Option<&EntityTable>,
    cur: &EntityTable,
    events: &[GameEvent],
) -> Vec<u8> {
    let mut out = Vec::new();
    DeltaEncoder::new().write_frame(&mut out, base, cur, events);
    out
}

/// The delta as a [`SnapshotBody`] value in one call.
pub fn encode_body(
    base: Option<&EntityTable>,
    cur: &EntityTable,
    events: &[GameEvent],
) -> SnapshotBody {
    DeltaEncoder::new().body(base, cur, events)
}

/// Why a snapshot could not be applied to a mirror.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApplyError {
    #[error("delta is from tick {base} but the mirror holds tick {held}")]
    BaseMismatch { base: u32, held: u32 },
    #[error("entity list ends in the middle of an entity")]
    Truncated,
    #[error("negative entity header {0}")]
    BadHeader(i64),
    #[error("entity id overflows")]
    IdOverflow,
    /// Ids strictly ascend from 0, so every gap is at least 1: a gap of 0 would name entity 0
    /// (never an id) or the same entity twice, which no encoder writes.
    #[error("entity header {0} has an id gap of 0")]
    ZeroGap(i64),
    #[error("difference {0} does not fit in 32 bits")]
    BadValue(i64),
}

/// Applies `body` to `mirror` so that it becomes the world at `body.tick`.
/// On error the mirror is left unusable; ask for (or wait for) a full snapshot.
pub fn apply(mirror: &mut EntityTable, body: &SnapshotBody) -> Result<(), ApplyError> {
    if body.base_delta == 0 {
        mirror.clear(body.tick);
    } else {
        let base = body.tick.0.wrapping_sub(body.base_delta);
        if base != mirror.tick.0 {
            return Err(ApplyError::BaseMismatch {
                base,
                held: mirror.tick.0,
            });
        }
        mirror.tick = body.tick;
    }
    let f = u32::from(mirror.field_count());
    let rows = mirror.rows_mut();
    for id in &body.removed {
        if let Ok(i) = rows.binary_search_by_key(id, |r| r.id) {
            rows.remove(i);
        }
    }
    let mut ints = body.entities.iter().copied();
    let mut prev: u32 = 0;
    while let Some(h) = ints.next() {
        if h < 0 {
            return Err(ApplyError::BadHeader(h));
        }
        let wide = h;
        let h = h as u64;
        let mask = (h & ((1u64 << f) - 1)) as u32;
        let gap = u32::try_from(h >> f).map_err(|_| ApplyError::IdOverflow)?;
        if gap == 0 {
            return Err(ApplyError::ZeroGap(wide));
        }
        let id = prev.checked_add(gap).ok_or(ApplyError::IdOverflow)?;
        prev = id;
        let id = EntityId(id);
        let idx = match rows.binary_search_by_key(&id, |r| r.id) {
            Ok(i) => i,
            Err(i) => {
                rows.insert(
                    i,
                    Row {
                        id,
                        fields: [0; MAX_FIELDS],
                    },
                );
                i
            }
        };
        for bit in 0..f as usize {
            if mask & (1 << bit) != 0 {
                let d = ints.next().ok_or(ApplyError::Truncated)?;
                let d = i32::try_from(d).map_err(|_| ApplyError::BadValue(d))?;
                rows[idx].fields[bit] = rows[idx].fields[bit].wrapping_add(d);
            }
        }
    }
    Ok(())
}

/// The tick a mirror must hold for `body` to apply (`None`: it applies to anything).
pub fn required_base(body: &SnapshotBody) -> Option<Tick> {
    (body.base_delta != 0).then(|| Tick(body.tick.0.wrapping_sub(body.base_delta)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_server, ServerMsg};
    use proptest::prelude::*;

    fn table(tick: u32, f: u8, rows: &[(u32, [i32; 3])]) -> EntityTable {
        let mut t = EntityTable::new(f);
        t.clear(Tick(tick));
        for (id, v) in rows {
            let mut fields = [0; MAX_FIELDS];
            fields[..3].copy_from_slice(v);
            t.push(EntityId(*id), fields);
        }
        t.finish();
        t
    }

    #[test]
    fn unchanged_entities_cost_nothing() {
        let a = table(1, 3, &[(1, [10, 20, 1]), (2, [30, 40, 1])]);
        let mut b = a.clone();
        b.tick = Tick(2);
        let body = encode_body(Some(&a), &b, &[]);
        assert!(body.entities.is_empty());
        assert!(body.removed.is_empty());
        assert_eq!(body.base_delta, 1);
    }

    #[test]
    fn changed_field_is_header_plus_difference() {
        let a = table(1, 3, &[(1, [10, 20, 1]), (2, [30, 40, 1])]);
        let b = table(2, 3, &[(1, [10, 20, 1]), (2, [35, 40, 2])]);
        let body = encode_body(Some(&a), &b, &[]);
        // id 2 is a gap of 2 from 0; fields 0 and 2 changed: mask 0b101.
        assert_eq!(body.entities, vec![(2 << 3) | 0b101, 5, 1]);
    }

    #[test]
    fn removed_and_new_entities() {
        let a = table(1, 3, &[(1, [1, 1, 1]), (2, [2, 2, 2])]);
        let b = table(2, 3, &[(2, [2, 2, 2]), (5, [0, 0, 0])]);
        let body = encode_body(Some(&a), &b, &[]);
        assert_eq!(body.removed, vec![EntityId(1)]);
        // The new all-zero entity is still announced, with mask 0.
        assert_eq!(body.entities, vec![5 << 3]);
        let mut m = a.clone();
        apply(&mut m, &body).unwrap();
        assert_eq!(m, b);
    }

    #[test]
    fn frame_bytes_decode_to_the_same_body() {
        let a = table(7, 3, &[(1, [100, -200, 5]), (9, [i32::MAX, i32::MIN, -1])]);
        let b = table(
            9,
            3,
            &[
                (1, [90, -190, 6]),
                (9, [i32::MIN, i32::MAX, 0]),
                (10, [1, 2, 3]),
            ],
        );
        let events = [GameEvent {
            kind: 1,
            a: 2,
            b: 3,
        }];
        let frame = encode_snapshot_frame(Some(&a), &b, &events);
        let body = encode_body(Some(&a), &b, &events);
        match decode_server(&frame).unwrap() {
            ServerMsg::Snapshot(decoded) => assert_eq!(decoded, body),
            other => panic!("decoded {other:?}"),
        }
        // The serde encoding of the same value is byte-identical to the hand-written one.
        assert_eq!(crate::protocol::encode(&ServerMsg::Snapshot(body)), frame);
    }

    #[test]
    fn wrong_base_is_refused() {
        let a = table(1, 3, &[(1, [1, 1, 1])]);
        let b = table(3, 3, &[(1, [2, 1, 1])]);
        let body = encode_body(Some(&a), &b, &[]);
        let mut m = table(2, 3, &[(1, [1, 1, 1])]);
        assert_eq!(
            apply(&mut m, &body),
            Err(ApplyError::BaseMismatch { base: 1, held: 2 })
        );
    }

    #[test]
    fn hostile_entity_lists_error_instead_of_panicking() {
        let mut m = EntityTable::new(3);
        let mk = |ints: Vec<i64>| SnapshotBody {
            tick: Tick(1),
            base_delta: 0,
            removed: vec![],
            entities: ints,
            events: vec![],
        };
        assert_eq!(apply(&mut m, &mk(vec![-1])), Err(ApplyError::BadHeader(-1)));
        assert_eq!(
            apply(&mut m, &mk(vec![0b1111, 1])),
            Err(ApplyError::Truncated)
        );
        assert_eq!(
            apply(&mut m, &mk(vec![i64::MAX])),
            Err(ApplyError::IdOverflow)
        );
        assert_eq!(
            apply(&mut m, &mk(vec![0b1001, i64::from(i32::MAX) + 1])),
            Err(ApplyError::BadValue(i64::from(i32::MAX) + 1))
        );
        // A gap of 0: entity 0 first, or the same entity listed twice.
        assert_eq!(
            apply(&mut m, &mk(vec![0b001, 5])),
            Err(ApplyError::ZeroGap(1))
        );
        assert_eq!(
            apply(&mut m, &mk(vec![0b1001, 5, 0b001, 6])),
            Err(ApplyError::ZeroGap(1))
        );
    }

    fn arb_table(tick: u32) -> impl Strategy<Value = EntityTable> {
        proptest::collection::btree_map(
            1u32..60,
            proptest::array::uniform3(-70000i32..70000),
            0..40,
        )
        .prop_map(move |m| {
            let mut t = EntityTable::new(3);
            t.clear(Tick(tick));
            for (id, v) in m {
                let mut fields = [0; MAX_FIELDS];
                fields[..3].copy_from_slice(&v);
                t.push(EntityId(id), fields);
            }
            t
        })
    }

    proptest! {
        #[test]
        fn apply_of_diff_rebuilds_the_table(a in arb_table(10), b in arb_table(13)) {
            // Through the bytes, as a client would see them.
            let frame = encode_snapshot_frame(Some(&a), &b, &[]);
            let ServerMsg::Snapshot(body) = decode_server(&frame).unwrap() else { panic!() };
            let mut m = a.clone();
            apply(&mut m, &body).unwrap();
            prop_assert_eq!(&m, &b);
            // And a full snapshot rebuilds it from anything.
            let full = encode_body(None, &b, &[]);
            let mut m2 = EntityTable::new(3);
            apply(&mut m2, &full).unwrap();
            prop_assert_eq!(&m2, &b);
        }
    }
}
