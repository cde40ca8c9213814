/*
 * The load client's MJPEG reader: a byte-at-a-time state machine over a classic-framed stream
 * (response head, then per part: boundary + headers, JPEG, CRLF). Bodies are never stored: only their
 * first two bytes (SOI) and last two (EOI) are looked at, so the middle may be discarded unread.
 */
#ifndef CAMFAN_BENCH_PART_READER_H
#define CAMFAN_BENCH_PART_READER_H

#include <stddef.h>

#define HEAD_MAX 1024

enum reader_state { R_RESPONSE, R_PART_HEAD, R_BODY, R_CRLF, R_FAILED };

enum reader_event {
  EV_NONE = 0,
  EV_RESPONSE_OK,  /* a 200 response head came */
  EV_REFUSED,      /* any other status: the reader is now R_FAILED */
  EV_PART,         /* a whole part: see body_len, timestamp_ms, part_ok */
  EV_BAD_FRAMING,  /* headers unreadable: the reader is now R_FAILED */
};

struct part_reader {
  enum reader_state state;
  int head_len;
  long body_len;    /* Content-Length of the part in hand */
  long remaining;   /* body bytes still to come */
  int crlf_left;
  unsigned last_two; /* the last two body bytes seen, big-endian */
  int part_ok;      /* SOI/EOI/headers fine so far for the part in hand */
  double timestamp_ms; /* X-Timestamp of the part in hand, ms since the epoch */
  char head[HEAD_MAX];
};

/* Body bytes that may be skipped without looking (0 unless in the middle of a JPEG). */
long reader_skippable(const struct part_reader *r);

/* Skipped n bytes of the body middle (n <= reader_skippable). */
void reader_skipped(struct part_reader *r, long n);

/*
 * Consumes bytes; stops early (returning the count consumed) after an event other than EV_NONE so the
 * caller can act on it, then call again with the rest. *invalid is increased by each bad byte pattern.
 */
size_t reader_feed(struct part_reader *r, const unsigned char *p, size_t n, enum reader_event *ev, long *invalid);

#endif
