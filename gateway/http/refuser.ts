/**
 * Where refusals leave the gateway, each counted by its code (RefusalCounts): an HTTP refusal as a
 * one-line text body with its status, Retry-After when it has one and X-Camfan-Refusal: <code> (the text
 * stays the body, as clients and tests read it); the 401, with the credentials' challenge, built here only;
 * and a refusal on an open /ws as its JSON error message.
 */
import type { Access } from '../access/access.js';
import type { ClientAddress } from '../access/client-address.js';
import type { Logger } from '../../lib/log.js';
import { REFUSALS, type HttpRefusal, type Refusal, type RefusalCounts } from './refusals.js';
import { send, type Headers } from './respond.js';
import type { HttpResponse, WebSocket } from './uws.js';
import { errorMessage } from './ws-protocol.js';

/** The response header that carries a refusal's code. */
export const REFUSAL_HEADER = 'X-Camfan-Refusal';

/** request_rate refusals are logged at most this often. */
const RATE_LOG_EVERY_MS = 10_000;
const RATE_TEXT = `${REFUSALS.requestRate.text}\n`;

export class Refuser {
  private rateLoggedAt = Number.NEGATIVE_INFINITY;
  constructor(
    readonly counts: RefusalCounts,
    private readonly access: Access,
    private readonly log: Logger,
  ) {}

  /** An HTTP refusal from the catalogue. */
  http(res: HttpResponse, refusal: HttpRefusal, extra: Headers = []): void {
    this.counts.count(refusal);
    const retry: Headers = refusal.retryAfter === undefined ? [] : [['Retry-After', String(refusal.retryAfter)]];
    send(res, refusal.status, 'text/plain; charset=utf-8', `${refusal.text}\n`, [...retry, [REFUSAL_HEADER, refusal.code], ...extra]);
  }

  /**
   * 429 request_rate, the connection closed. Logged at the first and then at most every 10 s with the count
   * (a flood refused thousands of times a second must not become a flood of log lines), saying whether the
   * request came through a proxy this gateway does not trust: its clients then share the proxy's address.
   */
  requestRate(res: HttpResponse, client: ClientAddress): void {
    // The lean answer: a flood meets this tens of thousands of times a second (the rest of a pipelined burst too).
    const refusal = REFUSALS.requestRate;
    this.counts.count(refusal);
    res.cork(() => {
      res.writeStatus(refusal.status).writeHeader('Retry-After', String(refusal.retryAfter)).writeHeader(REFUSAL_HEADER, refusal.code).end(RATE_TEXT, true);
    });
    const now = performance.now();
    if (now - this.rateLoggedAt < RATE_LOG_EVERY_MS) return;
    this.rateLoggedAt = now;
    const hint = client.untrustedForward ? ' (relayed by a proxy not in TRUSTED_PROXIES: its clients share its address)' : '';
    this.log.info({ remote: client.address, refused: this.counts.get(REFUSALS.requestRate.code) }, `requests refused: REQUEST_RATE_PER_IP${hint}`);
  }

  /**
   * 401 with the challenge of the credentials this gateway takes (Bearer, or Basic with AUTH_BASIC). The
   * page answers with a form instead of the text: loginPage gets whether the browser will ask for Basic.
   */
  unauthorized(res: HttpResponse, extra: Headers, loginPage?: (basic: boolean) => string): void {
    const refusal = REFUSALS.credentials;
    this.access.refuseAuth();
    const challenge = this.access.challenge();
    if (!loginPage) return this.http(res, refusal, [...challenge, ...extra]);
    this.counts.count(refusal);
    const basic = challenge[0]![1].startsWith('Basic');
    send(res, refusal.status, 'text/html; charset=utf-8', loginPage(basic), [...challenge, [REFUSAL_HEADER, refusal.code], ...extra]);
  }

  /**
   * A refused /ws command, as {"error":…,"code":…,"camera":…}, counted always. A malformed one (no camera
   * named) is answered only while the socket's send buffer is empty: a client that does not read would
   * have every such answer held for it in the gateway's memory, and it reads none anyway. A refusal about a
   * camera is always sent, since the page acts on it (it asks again later); the command budget (ws-budget.ts)
   * and maxBackpressure (ws.ts) bound those.
   */
  ws<T extends { open: boolean }>(socket: WebSocket<T>, refusal: Refusal, camera?: string): void {
    this.counts.count(refusal);
    if (!socket.getUserData().open || (camera === undefined && socket.getBufferedAmount() > 0)) return;
    socket.send(errorMessage(refusal, camera), false);
  }
}
