/*
 * The baseline server's Redis side: a minimal RESP2 reader for one SUBSCRIBE connection, and the frame
 * wire format of bus/frame.ts turned into the exact classic part FramePacket.part('classic') builds.
 */
#ifndef CAMFAN_BENCH_REDIS_SUB_H
#define CAMFAN_BENCH_REDIS_SUB_H

#include <stddef.h>
#include <sys/uio.h>

/* One frame's part, shared by every viewer: head + SOI + COM segment | rest of the JPEG | CRLF. */
struct frame {
  int refs;
  size_t total;
  struct iovec seg[3];
  unsigned char *prefix; /* owns seg[0] */
  unsigned char *jpeg;   /* owns the JPEG; seg[1] points into it */
};

struct frame *frame_ref(struct frame *f);
void frame_unref(struct frame *f);

/* Connects, names the connection and subscribes; returns a non-blocking fd. Exits on failure. */
int redis_subscribe(const char *host, int port, const char *channel, const char *client_name);

/*
 * Reads what the connection has; returns the newest frame among the messages that arrived (older ones
 * are superseded and counted), NULL when none. *closed is set when Redis went away.
 */
struct frame *redis_read_latest(int fd, int *closed, long *received, long *superseded);

#endif
