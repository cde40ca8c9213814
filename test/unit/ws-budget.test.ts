/** The /ws command budget: a burst, then the sustained rate, and nothing more. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandBudget, WS_COMMAND_BURST, WS_COMMANDS_PER_SECOND } from '../../gateway/http/ws-budget.js';

test('a socket may send a burst at once, then the sustained rate', () => {
  const b = new CommandBudget(0);
  let taken = 0;
  while (b.take(0)) taken++;
  assert.equal(taken, WS_COMMAND_BURST);
  let later = 0;
  for (let t = 1; t <= 1000; t++) if (b.take(t)) later++;
  assert.ok(Math.abs(later - WS_COMMANDS_PER_SECOND) <= 1, `${later} commands in the next second`);
  const rested = new CommandBudget(0);
  for (let i = 0; i < WS_COMMAND_BURST; i++) rested.take(0);
  let afterRest = 0;
  while (rested.take(60_000)) afterRest++;
  assert.equal(afterRest, WS_COMMAND_BURST, 'a rest refills the bucket to the burst, no more');
});
