/**
 * docs/settings.md, generated from the settings declarations (capture/config.ts, gateway/config.ts and the
 * settings both share in lib/settings.ts), so the documentation cannot drift from the code.
 *
 *   node dist/scripts/settings-doc.js           writes docs/settings.md   (npm run docs:settings)
 *   node dist/scripts/settings-doc.js --check   fails when it is out of step (run by npm test), and when a
 *                                               setting printed by either process's --help is missing
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { captureSettings } from '../capture/config.js';
import { gatewaySettings } from '../gateway/config.js';
import { commonSettings, flagName, type Setting } from '../lib/settings.js';

type Table = Record<string, Setting<unknown>>;

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'settings.md');
const MAINS = { capture: path.join(ROOT, 'dist', 'capture', 'main.js'), gateway: path.join(ROOT, 'dist', 'gateway', 'main.js') };

/** A default as it would be written in the environment; empty values read "unset". */
export function formatDefault(value: unknown): string {
  if (value === null || value === '') return 'unset';
  if (value instanceof Map) return value.size === 0 ? 'unset' : `\`${[...value.keys()].map((k) => `${String(k)}=…`).join(',')}\``;
  if (Array.isArray(value)) return value.length === 0 ? 'unset' : `\`${value.map(formatItem).join(',')}\``;
  return `\`${String(value)}\``;
}

function formatItem(item: unknown): string {
  if (typeof item === 'object' && item !== null && 'host' in item && 'port' in item) return `${String(item.host)}:${String(item.port)}`;
  return typeof item === 'object' ? JSON.stringify(item) : String(item);
}

/** Doc text inside a table cell: pipes would end the cell, <…> would be read as HTML, * as emphasis. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\*/g, '\\*').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function table(settings: Setting<unknown>[]): string {
  const rows = settings.map((s) => `| \`${s.env}\` | \`--${flagName(s.env)}\` | ${formatDefault(s.default)} | ${cell(s.doc)} |`);
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The settings of a process's table that are not the shared ones (the same objects, spread into both). */
function ownSettings(t: Table): Setting<unknown>[] {
  const shared = new Set<Setting<unknown>>(Object.values(commonSettings) as Setting<unknown>[]);
  return Object.values(t).filter((s) => !shared.has(s));
}

export function renderSettingsDoc(): string {
  return `# Settings

<!-- Generated from capture/config.ts, gateway/config.ts and lib/settings.ts by \`npm run docs:settings\`;
     do not edit by hand. \`npm test\` fails when this file is out of step. -->

Every setting is an environment variable or the matching flag (\`--capture-fps 15\`); a flag wins over the
variable. \`node dist/capture/main.js --help\` and \`node dist/gateway/main.js --help\` print the same lists.
A bad value stops the process (exit 2) with a message that names the setting and what it accepts; a secret
in it is shown as \`<secret, N characters>\` or, in a URL, as \`***\`.

## Both processes

${table(Object.values(commonSettings) as Setting<unknown>[])}

## Capture (\`node dist/capture/main.js\`)

${table(ownSettings(captureSettings))}

## Gateway (\`node dist/gateway/main.js\`)

${table(ownSettings(gatewaySettings))}
`;
}

/** The variables a process's --help prints (the first column of its settings list). */
function helpSettings(main: string): string[] {
  const out = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8', timeout: 20_000 });
  if (out.status !== 0) {
    throw new Error(`${path.relative(ROOT, main)} --help exited ${String(out.status)}: ${out.stderr.trim()} (build first: npm run build)`);
  }
  return [...out.stdout.matchAll(/^ {2}([A-Z][A-Z0-9_]*) +--[a-z0-9-]+ /gm)].map((m) => m[1]!);
}

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    return [
      `  first difference at line ${i + 1}:`,
      `    docs/settings.md: ${x[i] ?? '(end of file)'}`,
      `    declarations:     ${y[i] ?? '(end of file)'}`,
    ].join('\n');
  }
  return '';
}

/** The text of each "## " section of the doc, by the heading's first word (Both, Capture, Gateway). */
function sections(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of doc.split(/^## /m).slice(1)) out.set(part.split(/[\s(]/)[0]!, part);
  return out;
}

/** Problems found, one line each (empty: in step). */
export function check(doc: string): string[] {
  if (doc === '') return ['docs/settings.md is missing.'];
  const problems: string[] = [];
  const expected = renderSettingsDoc();
  if (doc !== expected) problems.push(`docs/settings.md differs from what the settings declarations produce.\n${firstDifference(doc, expected)}`);
  const bySection = sections(doc);
  for (const [app, main] of Object.entries(MAINS)) {
    const listed = helpSettings(main);
    if (listed.length === 0) problems.push(`${app} --help printed no settings: has its format changed? (scripts/settings-doc.ts reads it)`);
    // A process's setting belongs in its own section or in the shared one.
    const where = `${bySection.get('Both') ?? ''}${bySection.get(app[0]!.toUpperCase() + app.slice(1)) ?? ''}`;
    for (const env of listed) {
      if (!where.includes(`| \`${env}\` |`)) problems.push(`${env}, printed by ${app} --help, is not in the ${app} or shared section of docs/settings.md`);
    }
  }
  return problems;
}

function readDoc(): string {
  try {
    return readFileSync(DOC, 'utf8');
  } catch {
    return '';
  }
}

function main(): void {
  if (!process.argv.includes('--check')) {
    writeFileSync(DOC, renderSettingsDoc());
    process.stdout.write(`wrote ${path.relative(ROOT, DOC)}\n`);
    return;
  }
  const problems = check(readDoc());
  if (problems.length > 0) {
    const list = problems.map((p) => `- ${p}`).join('\n');
    process.stderr.write(`settings docs check FAILED:\n${list}\nRun \`npm run docs:settings\` and commit docs/settings.md.\n`);
    process.exit(1);
  }
  process.stdout.write('settings docs check: docs/settings.md is in step with the declarations and with --help of capture and gateway\n');
}

if (require.main === module) main();
