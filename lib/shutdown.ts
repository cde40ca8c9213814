/**
 * Shutdown with a deadline (centrifugo style): on SIGINT/SIGTERM run the close steps in order; a timer
 * shorter than pm2's kill_timeout forces the exit if a step hangs. Calling it twice is harmless.
 */
import type { Logger } from './log.js';

export interface ShutdownOptions {
  log: Logger;
  deadlineMs: number;
  close: () => Promise<void>;
}

export function installShutdown({ log, deadlineMs, close }: ShutdownOptions): (reason: string, code?: number) => void {
  let started = false;
  const shutdown = (reason: string, code = 0): void => {
    if (started) return;
    started = true;
    log.info({ reason, deadlineMs }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown deadline passed, forcing exit');
      process.exit(code || 1);
    }, deadlineMs);
    timer.unref();
    close().then(
      () => {
        log.info('shutdown complete');
        log.flush();
        process.exit(code);
      },
      (err: unknown) => {
        // The reason for stopping keeps its exit code (2: a setting or Redis at start-up); 1 only if it had none.
        log.error({ err }, 'shutdown failed');
        log.flush();
        process.exit(code || 1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // pm2 sends a 'shutdown' message on Windows and with shutdown_with_message.
  process.on('message', (msg) => {
    if (msg === 'shutdown') shutdown('pm2 shutdown message');
  });
  return shutdown;
}
