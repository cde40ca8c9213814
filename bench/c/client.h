/* The load client's shared state: options, viewers, the tally of the measured window. */
#ifndef CAMFAN_BENCH_CLIENT_H
#define CAMFAN_BENCH_CLIENT_H

#include "common.h"
#include "part-reader.h"
#include "samples.h"

#define MAX_PIDS 16

struct options {
  const char *host; /* IPv4 address to connect to; loopback when NULL */
  int port;
  const char *path;
  int viewers;
  double warmup, seconds;
  int probes;
  double slow_fraction, slow_rate;
  int batch;
  double probe_timeout_ms;
  int pids[MAX_PIDS];
  int npids;
};

enum viewer_kind { V_FAST, V_SLOW, V_PROBE };

struct viewer {
  int fd; /* -1 when not connected (yet, or any more) */
  enum viewer_kind kind;
  int connected; /* TCP connected and the request sent */
  long frames;   /* whole parts during the measured window */
  double opened_at;     /* monotonic ms when connect() was called */
  double first_part_ms; /* probes: connect() to the end of the first part; NAN until then */
  double budget, refilled_at, resume_at; /* slow viewers: token bucket in bytes */
  int paused;
  struct part_reader reader;
};

struct result {
  int measuring;
  double connect_seconds; /* opening the N viewers, batch by batch */
  double elapsed, server_cpu, self_cpu;
  double machine_busy, machine_softirq; /* seconds over the window, all cores */
  double bytes; /* bytes the N viewers received during the window */
  long invalid, connect_failed, refused, disconnected, bad_framing, frame_bytes;
  struct samples lat_fast, lat_slow;
};

extern struct options opt;
extern struct viewer *viewers, *probes;
extern struct result result;

void clients_init(void);
void viewer_open(struct viewer *v);
void run_loop(double timeout_ms);
void report(void);

#endif
