/**
 * How many commands one /ws socket may send: a token bucket per socket. Commands are cheap one by one, but
 * a socket that sends thousands a second takes the event loop from every other viewer's frames (and, before
 * replies waited on an empty send buffer, grew the gateway by megabytes per socket in refusal texts). An
 * acknowledgement of a frame in flight costs nothing: those come at most as often as frames go out. Bytes
 * need no budget of their own: uWS refuses a message over maxPayloadLength (4 kB) by closing the socket.
 */

/**
 * Commands a second a socket may keep up: a wall of 64 cameras changing every subscription twice a second
 * (unsubscribe and subscribe, as a page scrolled or resized back and forth does), with room to spare.
 */
export const WS_COMMANDS_PER_SECOND = 256;
/**
 * Commands a socket may send at once: a page that (re)subscribes its 64 cameras, twice over. It is also
 * the most one socket's messages may cost in one event-loop turn (uWS hands over all the messages of a
 * read at once, thousands of small ones): measured, 1,024 let 40 flooding sockets take 61 % of a core and
 * hold other viewers' frames for 400 ms, 256 takes 24 % and no gap over 250 ms.
 */
export const WS_COMMAND_BURST = 256;

export class CommandBudget {
  private tokens = WS_COMMAND_BURST;
  private at: number;

  constructor(now: number) {
    this.at = now;
  }

  /** Takes one command's worth; false when the socket has spent its budget (it is then closed). */
  take(now: number): boolean {
    this.tokens = Math.min(WS_COMMAND_BURST, this.tokens + ((now - this.at) * WS_COMMANDS_PER_SECOND) / 1000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
