// The entity mirror and delta application, exactly as the server's src/snapshot/delta.rs `apply`. Pure.

import type { SnapshotBody } from "./protocol";

/** Most fields any game's entities have (the server's MAX_FIELDS). */
export const MAX_FIELDS = 10;

/** The world as the client holds it: quantized int32 fields per entity id, at one tick. */
export interface Mirror {
  tick: number;
  fieldCount: number;
  entities: Map<number, Int32Array>;
  /** False after a failed apply: only a full snapshot (base_delta 0) can repair it. */
  valid: boolean;
}

export function newMirror(fieldCount: number): Mirror {
  if (!Number.isInteger(fieldCount) || fieldCount < 1 || fieldCount > MAX_FIELDS) {
    throw new RangeError(`field_count must be 1..${MAX_FIELDS}, got ${fieldCount}`);
  }
  return { tick: 0, fieldCount, entities: new Map(), valid: true };
}

export type ApplyErrorKind =
  | "baseMismatch"
  | "invalidMirror"
  | "truncated"
  | "badHeader"
  | "idOverflow"
  | "badValue";

/** Why a snapshot could not be applied (the server's ApplyError). */
export class ApplyError extends Error {
  constructor(
    readonly kind: ApplyErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const U32_MAX = 0xffffffff;
const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;

/** The tick a mirror must hold for `body` to apply (null: it applies to anything). */
export function requiredBase(body: SnapshotBody): number | null {
  return body.baseDelta === 0 ? null : (body.tick - body.baseDelta) >>> 0;
}

/**
 * Applies `body` to `mirror` so that it becomes the world at `body.tick`.
 * A base mismatch leaves the mirror untouched (and still valid); any other error leaves it
 * invalid until a full snapshot arrives, as the server's `apply` documents.
 */
export function applySnapshot(mirror: Mirror, body: SnapshotBody): void {
  if (body.baseDelta === 0) {
    mirror.entities.clear();
    mirror.tick = body.tick >>> 0;
    mirror.valid = true;
  } else {
    const base = requiredBase(body)!;
    if (!mirror.valid) {
      throw new ApplyError("invalidMirror", "the mirror is broken; waiting for a full snapshot");
    }
    if (base !== mirror.tick) {
      throw new ApplyError(
        "baseMismatch",
        `delta is from tick ${base} but the mirror holds tick ${mirror.tick}`,
      );
    }
    mirror.tick = body.tick >>> 0;
  }
  try {
    applyEntities(mirror, body);
  } catch (e) {
    mirror.valid = false;
    throw e;
  }
}

function applyEntities(mirror: Mirror, body: SnapshotBody): void {
  const f = mirror.fieldCount;
  const rows = mirror.entities;
  for (const id of body.removed) rows.delete(id);
  // Headers can exceed 32 bits (gap << f), so split them with arithmetic, not bit operators.
  const pow = 2 ** f;
  const ints = body.entities;
  let i = 0;
  let prev = 0;
  while (i < ints.length) {
    const h = ints[i++];
    if (!Number.isSafeInteger(h) || h < 0) throw new ApplyError("badHeader", `negative entity header ${h}`);
    const mask = h % pow;
    const gap = Math.floor(h / pow);
    // Ids strictly ascend from 0, so a gap of 0 (entity 0, or one entity twice) is malformed.
    if (gap === 0) throw new ApplyError("badHeader", `entity header ${h} has an id gap of 0`);
    if (gap > U32_MAX) throw new ApplyError("idOverflow", "entity id overflows");
    const id = prev + gap;
    if (id > U32_MAX) throw new ApplyError("idOverflow", "entity id overflows");
    prev = id;
    let row = rows.get(id);
    if (row === undefined) {
      // An id we do not hold is new: its differences are from all-zero fields.
      row = new Int32Array(f);
      rows.set(id, row);
    }
    for (let bit = 0; bit < f; bit++) {
      if ((mask & (1 << bit)) !== 0) {
        if (i >= ints.length) throw new ApplyError("truncated", "entity list ends in the middle of an entity");
        const d = ints[i++];
        if (!Number.isInteger(d) || d < I32_MIN || d > I32_MAX) {
          throw new ApplyError("badValue", `difference ${d} does not fit in 32 bits`);
        }
        row[bit] = (row[bit] + d) | 0; // wrapping int32 addition
      }
    }
  }
}

/** A deep copy of the mirror's entities (what the interpolation buffer keeps per snapshot). */
export function cloneEntities(mirror: Mirror): Map<number, Int32Array> {
  const out = new Map<number, Int32Array>();
  for (const [id, row] of mirror.entities) out.set(id, row.slice());
  return out;
}
