/** The rows the fleet bench measures (bench/fleet/run.ts), as report.ts and plots.ts read them. */
import type { Subscriptions } from '../../harness/fleet/measure.js';

export interface ScalingRow {
  hosts: number;
  viewers: number;
  goodputBytesPerSecond: number;
  framesPerSecondPerViewer: number;
  hostTxBytesPerSecond: number[];
  frameBytes: number;
  latencyP50: number;
  disconnected: number;
  /** goodput(K) / (K × goodput(1)). */
  scaling: number | null;
  loadAverage: number[];
}

export interface PrimaryRow {
  hosts: number;
  gatewaysPerHost: number;
  replicas: boolean;
  viewers: number;
  primaryOutBytesPerSecond: number;
  subscriptions: Subscriptions[];
  loadAverage: number[];
}
