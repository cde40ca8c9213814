/** Structured JSON logs (pino) with the app, camera and pm2 instance in every line. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(app: 'capture' | 'gateway', level: string, bindings: Record<string, string | number> = {}): Logger {
  const instance = process.env.NODE_APP_INSTANCE ?? process.env.pm_id;
  return pino({
    level,
    base: { app, pid: process.pid, ...(instance !== undefined ? { instance: Number(instance) } : {}), ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
