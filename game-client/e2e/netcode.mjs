// The netcode test's scenario and its judge: two players under a simulated 75 +/- 15 ms link, one of
// them (A) strafing and firing while the other (B) walks; A's page records what it drew each frame,
// and the judge checks it the way a player would notice: no step back, no correction, no slide, the
// other never jumping back, a new shot leaving the barrel. Positions and counts, never wall time.

/** The server's [netsim]: 60 ms + up to 30 ms of jitter on every frame it sends = 75 +/- 15 ms. */
export const NETSIM_ENV = {
  TICKRELAY__NETSIM__ENABLED: "true",
  TICKRELAY__NETSIM__DELAY: "60ms",
  TICKRELAY__NETSIM__JITTER: "30ms",
};

/** Limits the judge holds the frames to (units), and the least it must see to judge at all. */
export const LIMITS = { correction: 2, slide: 2, shotFromCentre: 30, backward: 0.01, heldFrames: 10, walked: 40 };

const dot = (p, d) => p[0] * d[0] + p[1] * d[1];

/**
 * Judges A's trace. `dirA` is the direction A held, `bId`/`dirB` the other player and the direction
 * it walked. Returns { figures, failures } (failures empty when every limit held); each failure is
 * { own, message }, `own` when it is about A's own movement (what a server dropping A's inputs
 * would cause), not the other player, the shots or the trace itself.
 */
export function judge(frames, { dirA, bId, dirB }) {
  const failures = [];
  const fail = (message, own = false) => failures.push({ own, message });
  const held = (f) => f.held[0] === dirA[0] && f.held[1] === dirA[1];

  // Own movement while the key is held: never a step back.
  let worstBack = 0;
  for (let i = 1; i < frames.length; i++) {
    const [p, q] = [frames[i - 1], frames[i]];
    if (!held(p) || !held(q) || p.me === null || q.me === null) continue;
    worstBack = Math.min(worstBack, dot(q.me, dirA) - dot(p.me, dirA));
  }
  if (worstBack < -LIMITS.backward) fail(`own movement stepped back ${(-worstBack).toFixed(2)} units while the key was held`, true);

  // Enough to judge: frames with the key held, and A really walked (a page that sent nothing
  // would show no step back, no correction and no slide).
  const heldFrames = frames.filter((f) => held(f) && f.me !== null);
  const walked = heldFrames.length < 2 ? 0 : dot(heldFrames[heldFrames.length - 1].me, dirA) - dot(heldFrames[0].me, dirA);
  if (heldFrames.length < LIMITS.heldFrames) fail(`only ${heldFrames.length} frames drawn with the key held`);
  if (walked < LIMITS.walked) fail(`A walked only ${walked.toFixed(1)} units while the key was held`);

  // Corrections: every time the predictor was corrected, by how much.
  let corrections = 0;
  let worstFix = 0;
  for (let i = 1; i < frames.length; i++) {
    if (frames[i].fixes > frames[i - 1].fixes) {
      corrections += frames[i].fixes - frames[i - 1].fixes;
      worstFix = Math.max(worstFix, frames[i].fix);
    }
  }
  if (worstFix > LIMITS.correction) fail(`own position corrected by ${worstFix.toFixed(2)} units (${corrections} corrections)`, true);

  // After the release: where the last input already on its way takes us, and nothing further.
  const first = frames.findIndex(held);
  const up = first < 0 ? -1 : frames.findIndex((f, i) => i > first && !held(f));
  let slide = null;
  if (up < 0) {
    fail("the trace has no key release");
  } else {
    const rest = frames[up].pos;
    slide = 0;
    for (const f of frames.slice(up)) {
      if (f.me === null) continue;
      // Past the rest point along the way we walked, or away from it afterwards.
      slide = Math.max(slide, dot(f.me, dirA) - dot(rest, dirA));
    }
    const end = frames[frames.length - 1];
    if (end.me !== null) slide = Math.max(slide, Math.hypot(end.me[0] - rest[0], end.me[1] - rest[1]));
    if (slide > LIMITS.slide) fail(`slid ${slide.toFixed(2)} units past where the release left us`, true);
  }

  // The other player, as drawn here: never back along the way it walks.
  let otherBack = 0;
  let otherSeen = 0;
  let prevB = null;
  for (const f of frames) {
    const b = f.others.find((o) => o[0] === bId);
    if (b === undefined) {
      prevB = null;
      continue;
    }
    otherSeen++;
    const at = [b[1], b[2]];
    if (prevB !== null) otherBack = Math.min(otherBack, dot(at, dirB) - dot(prevB, dirB));
    prevB = at;
  }
  if (otherSeen === 0) fail("the other player was never drawn");
  // And it was drawn moving (one drawn frozen would never step back either).
  const seenB = frames.map((f) => f.others.find((o) => o[0] === bId)).filter((o) => o !== undefined);
  const otherWalked = seenB.length < 2 ? 0 : dot([seenB[seenB.length - 1][1], seenB[seenB.length - 1][2]], dirB) - dot([seenB[0][1], seenB[0][2]], dirB);
  if (otherWalked < LIMITS.walked) fail(`the other player was drawn walking only ${otherWalked.toFixed(1)} units`);
  if (otherBack < -LIMITS.backward) fail(`the other player stepped back ${(-otherBack).toFixed(2)} units as drawn`);

  // New shots: where each was first drawn, from our centre as drawn in that frame.
  const firstSeen = new Map();
  for (const f of frames) {
    for (const [seq, x, y] of f.shots) {
      if (firstSeen.has(seq) || f.me === null) continue;
      firstSeen.set(seq, Math.hypot(x - f.me[0], y - f.me[1]));
    }
  }
  const shotDistances = [...firstSeen.values()];
  if (shotDistances.length === 0) fail("no shot of ours was drawn");
  const farthest = Math.max(0, ...shotDistances);
  if (farthest > LIMITS.shotFromCentre) fail(`a new shot was first drawn ${farthest.toFixed(1)} units from our centre`);

  const seconds = frames.length > 1 ? frames[frames.length - 1].t - frames[0].t : 0;
  return {
    failures,
    figures: {
      frames: frames.length,
      walked,
      otherWalked,
      fps: seconds > 0 ? frames.length / seconds : 0,
      corrections,
      worstFix,
      worstBack: -worstBack,
      slide,
      otherBack: -otherBack,
      shots: shotDistances.length,
      shotFromCentre: farthest,
    },
  };
}

/** One line of what the judge measured, for the log and the issue note. */
export function describe(label, f, pingMs) {
  return (
    `  ${label}: ${f.fps.toFixed(0)} fps, ping ${pingMs.toFixed(0)} ms, ${f.frames} frames; ` +
    `A walked ${f.walked.toFixed(0)} u, B drawn walking ${f.otherWalked.toFixed(0)} u; ` +
    `own: ${f.corrections} corrections (largest ${f.worstFix.toFixed(2)} u), step back ${f.worstBack.toFixed(2)} u, ` +
    `slide after release ${f.slide?.toFixed(2) ?? "?"} u; other: step back ${f.otherBack.toFixed(2)} u; ` +
    `${f.shots} shots, first drawn at most ${f.shotFromCentre.toFixed(1)} u from our centre`
  );
}
