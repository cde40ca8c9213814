/**
 * Time this process spends delivering frames: fan-out slices (every viewer offered a frame, writes into the
 * kernel included), socket drains and /ws acknowledgements (a waiting frame written once a socket takes more,
 * or once its client has drawn the one before). Admission prices a viewer from this (ops/capacity.ts), not
 * from the event loop's whole busy time, which also holds the work of answering requests: a flood of cheap
 * refused requests must not make the gateway look full to the viewers it can serve (the per-address request
 * rate bounds that work instead: access/request-rate.ts). One clock per process, as there is one event loop.
 */
let busyMs = 0;

/** Milliseconds spent delivering since the process started. */
export function deliveryBusyMs(): number {
  return busyMs;
}

/** Adds a stretch of delivery measured by its caller (the fan-out reads the clock for its slices anyway). */
export function addDeliveryTime(ms: number): void {
  busyMs += ms;
}

/** Runs `fn` and adds its duration to the delivery clock. */
export function timedDelivery<T>(fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    busyMs += performance.now() - start;
  }
}
