/**
 * Secrets never leave the capture. A camera's source often carries credentials: userinfo
 * (http://admin:pw@cam/), query strings (?user=admin&pwd=pw), path parameters (/user=admin_password=pw),
 * or a GStreamer pipeline with any of these in an element's properties. What the capture announces
 * (/api/cameras) and logs is a description with none of that: scheme, host and path (path segments that
 * hold key=value replaced by "…"), a pipeline's element names only, a file's base name. The full source
 * is seen by the source process only; anything that process prints is passed through redactText.
 */
import path from 'node:path';
import type { SourceSpec } from './source.js';

export function describeSpec(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'test':
      return 'test pattern';
    case 'device':
      return `camera ${spec.path} (index ${spec.index})`;
    case 'file':
      return `file ${path.basename(spec.path)}`;
    case 'url':
      return `stream ${describeUrl(spec.url)}`;
    case 'gstreamer':
      return `GStreamer pipeline ${describePipeline(spec.pipeline)}`;
  }
}

/** scheme://host[:port]/path, without userinfo, query or fragment; key=value path segments become "…". */
export function describeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '<unparseable url>';
  }
  const pathPart = u.pathname
    .split('/')
    .map((seg) => (/[=;:@]|%3d|%40/i.test(seg) ? '…' : seg))
    .join('/');
  return `${u.protocol}//${u.host}${pathPart === '/' ? '' : pathPart}${u.search ? '?…' : ''}`;
}

/**
 * "rtspsrc location=rtsp://a:b@h/ latency=0 ! decodebin ! videoconvert ! appsink" ->
 * "rtspsrc ! decodebin ! videoconvert ! appsink": element names and caps media types only.
 */
export function describePipeline(pipeline: string): string {
  return pipeline
    .split('!')
    .map((stage) => {
      const first = stage.trim().split(/\s+/)[0] ?? '';
      const head = first.split(',')[0]!;
      if (/^[A-Za-z][\w-]*$/.test(head) || /^[a-z]+\/[\w.+-]+$/.test(head)) return head;
      return '…';
    })
    .join(' ! ');
}

/** Query parameter names that carry credentials by convention (pwd=, password=, pass=, token=, key=, …). */
const SECRET_PARAM = /pass|pw|token|key|secret|auth|sig|cred|session/i;

/**
 * Every string of the raw source that must not appear in a log line: the raw source itself, userinfo,
 * credential-named query values, key=value path parameters, and the same from URLs inside a pipeline;
 * each in its raw, percent-decoded and JSON-escaped forms. User names and values under 4 characters are
 * left out: they would blank out ordinary words of the log ("admin", "app").
 */
export function secretsOf(rawSource: string): string[] {
  const found = new Set<string>();
  const add = (s: string): void => {
    for (const form of [s, safeDecode(s), JSON.stringify(s).slice(1, -1)]) if (form.length >= 4) found.add(form);
  };
  const spec = rawSource.trim();
  if (/[@?=]/.test(spec)) add(spec);
  for (const url of spec.match(/[a-z][a-z0-9+.-]*:\/\/[^\s!"']+/gi) ?? []) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      continue;
    }
    if (u.password) add(u.password);
    if (u.search) add(u.search.slice(1));
    for (const [name, value] of u.searchParams) if (SECRET_PARAM.test(name)) add(value);
    for (const m of u.pathname.matchAll(/[=:]([^/_&;=]+)/g)) add(m[1]!);
  }
  // Properties in a pipeline that are not URLs (password=…, user-pw=…).
  for (const m of spec.matchAll(/([\w-]+)=("[^"]*"|'[^']*'|[^\s!]+)/g)) if (SECRET_PARAM.test(m[1]!)) add(m[2]!.replace(/^["']|["']$/g, ''));
  // Longest first, so that a secret is never half-replaced by a shorter one it contains.
  return [...found].sort((a, b) => b.length - a.length);
}

export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** Copies whole lines from the source process to our output with every secret replaced by ***. */
export function forwardRedacted(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, secrets: readonly string[]): void {
  let pending = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    pending += chunk;
    const end = pending.lastIndexOf('\n');
    if (end < 0) {
      if (pending.length < 65536) return;
      to.write(`${redactText(pending, secrets)}\n`);
      pending = '';
      return;
    }
    to.write(redactText(pending.slice(0, end + 1), secrets));
    pending = pending.slice(end + 1);
  });
  from.on('end', () => pending && to.write(`${redactText(pending, secrets)}\n`));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
