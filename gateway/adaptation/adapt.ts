/**
 * Adaptation for viewers that acknowledge frames ({"subscribe":…,"ack":true,"adapt":true}): every couple
 * of seconds, from what the viewer's link really carried, choose the picture it should get. A link that
 * cannot carry the current picture at a useful rate moves down a rendition; one that carries it with room
 * to spare for the next size up moves up, never past what the viewer asked for. As an HLS player does,
 * but decided by the server from the viewer's acknowledgements.
 */
import type { Rendition } from '../../bus/bus.js';

/** What a viewer's link did since the last decision. */
export interface LinkSample {
  /** Frames the viewer should have got (after its fps cap): what the camera delivered. */
  offered: number;
  /** Frames acknowledged. */
  frames: number;
  /** Camera frames sent (not NO SIGNAL placeholders): none after a switch means that picture is not made. */
  realFrames: number;
  bytes: number;
  /** Time at least one frame was waiting for its acknowledgement (ms): transfer time plus round trips. */
  busyMs: number;
  elapsedMs: number;
}

export interface AdaptInput {
  /** Pictures from smallest to largest the viewer may get (renditions.ts ladder). */
  ladder: readonly Rendition[];
  current: Rendition;
  /** Bytes of one frame of a picture. */
  bytesOf: (r: Rendition) => number;
}

const DECIDE_EVERY_MS = 2000;
/** Below this share of the frames it was offered, the picture is too big for the link. */
const DOWN_BELOW = 0.6;
/** Move up only with the next picture fitting this many times into what the link carried. */
const UP_HEADROOM = 1.4;

/** A picture that produced no frame after a switch is not tried again for this long. */
const UNAVAILABLE_FOR_MS = 60_000;

export class Adaptation {
  private lastDecision = performance.now();
  private lastSwitch = -Infinity;
  /** The picture before the last switch (undefined before any). */
  private previous: Rendition | undefined = undefined;
  /** Pictures that gave no frame when switched to (a capture without renditions, say), until when. */
  private readonly unavailable = new Map<Rendition, number>();

  /** The picture the viewer should get now (possibly the current one), or undefined when it is too early to tell. */
  decide(now: number, sample: () => LinkSample, input: AdaptInput): Rendition | undefined {
    if (now - this.lastDecision < DECIDE_EVERY_MS) return undefined;
    this.lastDecision = now;
    const s = sample();
    if (now - this.lastSwitch < DECIDE_EVERY_MS * 1.5) return undefined;
    // The rendition just switched to gives nothing but NO SIGNAL (it is not made): go back, and leave it
    // alone for a while. Only right after a switch: later, no frame means the camera itself is down.
    const justSwitched = now - this.lastSwitch < DECIDE_EVERY_MS * 3;
    if (justSwitched && input.current !== null && this.previous !== undefined && s.realFrames === 0 && s.offered > 0) {
      this.unavailable.set(input.current, now + UNAVAILABLE_FOR_MS);
      return this.switchTo(now, input.current, this.previous);
    }
    const ladder = input.ladder.filter((r) => r === input.current || (this.unavailable.get(r) ?? 0) < now);
    const at = ladder.indexOf(input.current);
    if (at < 0 || s.elapsedMs <= 0) return undefined;
    // Rates against what the camera offered, so a static scene (few frames) is not taken for a slow link.
    const offeredFps = (s.offered * 1000) / s.elapsedMs;
    const goodput = s.busyMs > 0 ? (s.bytes * 1000) / s.busyMs : Infinity;
    let next = input.current;
    if (s.frames < DOWN_BELOW * s.offered && at > 0) next = ladder[at - 1]!;
    else if (at < ladder.length - 1 && s.frames >= 0.85 * s.offered && goodput >= UP_HEADROOM * input.bytesOf(ladder[at + 1]!) * offeredFps)
      next = ladder[at + 1]!;
    return next === input.current ? next : this.switchTo(now, input.current, next);
  }

  private switchTo(now: number, from: Rendition, to: Rendition): Rendition {
    this.lastSwitch = now;
    this.previous = from;
    return to;
  }
}
