/**
 * Which of the capture processes alive carries a camera: rendezvous hashing (the process whose hash with
 * the camera id is highest). Every process computes the same answer from the same list, with no talk
 * between them, and a process joining or leaving moves only the cameras that go to it or came from it.
 * The list comes from Redis (bus.ts registerCapture); the leases still decide, this only says who should ask.
 */
import { createHash } from 'node:crypto';

export class Spread {
  private peers: string[];
  /** Ticks in a row with the same list of processes: cameras move only once it has settled. */
  private steady = 0;

  constructor(readonly self: string) {
    this.peers = [self];
  }

  /** The processes alive now (this one is counted even before Redis lists it). */
  update(peers: string[]): void {
    const next = peers.includes(this.self) ? peers : [...peers, this.self].sort();
    this.steady = next.join('\n') === this.peers.join('\n') ? this.steady + 1 : 0;
    this.peers = next;
  }

  get settled(): boolean {
    return this.steady >= 2;
  }

  get size(): number {
    return this.peers.length;
  }

  /** The process the camera belongs to. */
  home(camera: string): string {
    let best = this.self;
    let bestScore = '';
    for (const peer of this.peers) {
      const score = createHash('sha1').update(peer).update('\n').update(camera).digest('hex');
      if (score > bestScore) [best, bestScore] = [peer, score];
    }
    return best;
  }

  isMine(camera: string): boolean {
    return this.peers.length === 1 || this.home(camera) === this.self;
  }
}
