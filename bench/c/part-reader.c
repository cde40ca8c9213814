/* See part-reader.h. The checks mirror bench/load-client.ts so both clients count invalid parts alike. */
#include "part-reader.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char PART_PREFIX[] = "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\n";

long reader_skippable(const struct part_reader *r) {
  if (r->state != R_BODY) return 0;
  long read_so_far = r->body_len - r->remaining;
  if (read_so_far < 2 || r->remaining <= 2) return 0;
  return r->remaining - 2;
}

void reader_skipped(struct part_reader *r, long n) { r->remaining -= n; }

/* Finds a header's value in a head block; NULL when absent. */
static const char *header_value(const char *head, const char *name) {
  const char *at = strstr(head, name);
  return at ? at + strlen(name) : NULL;
}

static enum reader_event parse_part_head(struct part_reader *r, long *invalid) {
  if (strncmp(r->head, PART_PREFIX, sizeof PART_PREFIX - 1) != 0) (*invalid)++;
  const char *len = header_value(r->head, "\r\nContent-Length: ");
  const char *ts = header_value(r->head, "\r\nX-Timestamp: ");
  char *end = NULL;
  long body_len = len ? strtol(len, &end, 10) : -1;
  if (!len || !ts || body_len < 4 || end == len || *end != '\r') {
    (*invalid)++;
    r->state = R_FAILED;
    return EV_BAD_FRAMING;
  }
  r->body_len = r->remaining = body_len;
  r->timestamp_ms = strtod(ts, NULL) * 1000.0;
  r->part_ok = 1;
  r->state = R_BODY;
  return EV_NONE;
}

/* Collects a header block up to CRLFCRLF; returns bytes consumed, sets *done when complete. */
static size_t collect_head(struct part_reader *r, const unsigned char *p, size_t n, int *done) {
  int old = r->head_len;
  size_t room = HEAD_MAX - 1 - old;
  size_t take = n < room ? n : room;
  memcpy(r->head + old, p, take);
  r->head_len = old + (int)take;
  r->head[r->head_len] = 0;
  int from = old >= 3 ? old - 3 : 0;
  for (int i = from; i + 3 < r->head_len; i++) {
    if (r->head[i] == '\r' && r->head[i + 1] == '\n' && r->head[i + 2] == '\r' && r->head[i + 3] == '\n') {
      r->head[i + 4] = 0;
      *done = 1;
      return (size_t)(i + 4 - old);
    }
  }
  *done = 0;
  if (r->head_len >= HEAD_MAX - 1) *done = -1; /* no end in sight: not our stream */
  return take;
}

static size_t feed_body(struct part_reader *r, const unsigned char *p, size_t n, enum reader_event *ev, long *invalid) {
  size_t k = (size_t)r->remaining < n ? (size_t)r->remaining : n;
  long pos = r->body_len - r->remaining;
  for (size_t i = 0; i < k && pos + (long)i < 2; i++) {
    if (p[i] != (pos + (long)i == 0 ? 0xff : 0xd8)) r->part_ok = 0;
  }
  for (size_t i = k >= 2 ? k - 2 : 0; i < k; i++) r->last_two = ((r->last_two << 8) | p[i]) & 0xffff;
  r->remaining -= (long)k;
  if (r->remaining == 0) {
    if (r->last_two != 0xffd9) r->part_ok = 0;
    if (!r->part_ok) (*invalid)++;
    r->state = R_CRLF;
    r->crlf_left = 2;
    *ev = EV_PART;
  }
  return k;
}

size_t reader_feed(struct part_reader *r, const unsigned char *p, size_t n, enum reader_event *ev, long *invalid) {
  size_t at = 0;
  *ev = EV_NONE;
  while (at < n && *ev == EV_NONE) {
    switch (r->state) {
    case R_RESPONSE:
    case R_PART_HEAD: {
      int done = 0;
      at += collect_head(r, p + at, n - at, &done);
      if (done < 0) {
        (*invalid)++;
        *ev = r->state == R_RESPONSE ? EV_REFUSED : EV_BAD_FRAMING;
        r->state = R_FAILED;
      } else if (done && r->state == R_RESPONSE) {
        int ok = strncmp(r->head, "HTTP/1.1 200 ", 13) == 0;
        r->head_len = 0;
        r->state = ok ? R_PART_HEAD : R_FAILED;
        *ev = ok ? EV_RESPONSE_OK : EV_REFUSED;
      } else if (done) {
        r->head_len = 0;
        *ev = parse_part_head(r, invalid);
      }
      break;
    }
    case R_BODY:
      at += feed_body(r, p + at, n - at, ev, invalid);
      break;
    case R_CRLF:
      if (p[at] != (r->crlf_left == 2 ? '\r' : '\n')) (*invalid)++;
      at++;
      if (--r->crlf_left == 0) r->state = R_PART_HEAD;
      break;
    case R_FAILED:
      return n;
    }
  }
  return at;
}
