/* The load client's sockets: non-blocking connect, the request, and reads (bodies skipped in-kernel). */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"

#define READ_CHUNK 512 /* enough for the tail, CRLF, the next header block and the SOI in one read */

struct viewer *viewers, *probes;
struct result result;
static int epfd = -1;
static int paused_count;

void clients_init(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  viewers = calloc(opt.viewers ? opt.viewers : 1, sizeof *viewers);
  probes = calloc(opt.probes ? opt.probes : 1, sizeof *probes);
  if (!viewers || !probes) die("calloc");
  int slow = (int)lround(opt.viewers * opt.slow_fraction);
  for (int i = 0; i < opt.viewers; i++) viewers[i] = (struct viewer){.fd = -1, .kind = i < slow ? V_SLOW : V_FAST, .first_part_ms = NAN};
  for (int k = 0; k < opt.probes; k++) probes[k] = (struct viewer){.fd = -1, .kind = V_PROBE, .first_part_ms = NAN};
}

void viewer_open(struct viewer *v) {
  v->opened_at = now_mono_ms();
  v->reader = (struct part_reader){.state = R_RESPONSE};
  v->budget = opt.slow_rate / 10;
  v->refilled_at = v->opened_at;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (opt.host && inet_pton(AF_INET, opt.host, &a.sin_addr) != 1) die("--host is not an IPv4 address");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
    result.connect_failed++;
    close(fd);
    return;
  }
  v->fd = fd;
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = v};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl add");
}

/* by_peer: the server ended the stream (or it failed); 0 when the client closes on purpose. */
static void viewer_close(struct viewer *v, int by_peer) {
  if (v->fd < 0) return;
  close(v->fd);
  v->fd = -1;
  if (v->paused) paused_count--;
  v->paused = 0;
  if (by_peer && v->kind != V_PROBE && v->connected) result.disconnected++;
}

static void on_connected(struct viewer *v) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(v->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\nUser-Agent: camfan-bench\r\n\r\n", opt.path);
  if (err || send(v->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
    result.connect_failed++;
    viewer_close(v, 0);
    return;
  }
  v->connected = 1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = v};
  epoll_ctl(epfd, EPOLL_CTL_MOD, v->fd, &ev);
}

static void on_part(struct viewer *v) {
  if (v->kind == V_PROBE) {
    v->first_part_ms = now_mono_ms() - v->opened_at;
    viewer_close(v, 0);
    return;
  }
  if (!result.measuring) return;
  v->frames++;
  samples_push(v->kind == V_SLOW ? &result.lat_slow : &result.lat_fast, now_wall_ms() - v->reader.timestamp_ms);
  result.frame_bytes = v->reader.body_len;
}

/* Runs the reader over bytes just received; returns 0 when the viewer was closed. */
static int consume(struct viewer *v, const unsigned char *p, size_t n) {
  while (n > 0) {
    enum reader_event ev;
    size_t used = reader_feed(&v->reader, p, n, &ev, &result.invalid);
    p += used;
    n -= used;
    if (ev == EV_REFUSED) {
      if (v->kind != V_PROBE) result.refused++; /* a refused probe shows as one that got no frame */
      viewer_close(v, 0);
      return 0;
    }
    if (ev == EV_BAD_FRAMING) {
      result.bad_framing++;
      viewer_close(v, 1);
      return 0;
    }
    if (ev == EV_PART) {
      on_part(v);
      if (v->fd < 0) return 0;
    }
  }
  return 1;
}

/* Slow viewers: how many bytes they may read now; pauses the socket (0) when none. */
static long allowance(struct viewer *v, long want) {
  if (v->kind != V_SLOW) return want;
  double t = now_mono_ms();
  v->budget = fmin(v->budget + (t - v->refilled_at) / 1000 * opt.slow_rate, opt.slow_rate / 10);
  v->refilled_at = t;
  if (v->budget >= 1) return want < (long)v->budget ? want : (long)v->budget;
  v->resume_at = t + (READ_CHUNK - v->budget) / opt.slow_rate * 1000;
  v->paused = 1;
  paused_count++;
  struct epoll_event ev = {.events = 0, .data.ptr = v};
  epoll_ctl(epfd, EPOLL_CTL_MOD, v->fd, &ev);
  return 0;
}

static void account(struct viewer *v, long n) {
  if (result.measuring && v->kind != V_PROBE) result.bytes += (double)n;
  if (v->kind == V_SLOW) v->budget -= (double)n;
}

static void on_readable(struct viewer *v) {
  static unsigned char buf[READ_CHUNK];
  for (;;) {
    long skip = reader_skippable(&v->reader);
    long want = allowance(v, skip > 0 ? skip : READ_CHUNK);
    if (want == 0) return;
    ssize_t r = skip > 0 ? recv(v->fd, NULL, (size_t)want, MSG_TRUNC | MSG_DONTWAIT) : recv(v->fd, buf, (size_t)want, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (r <= 0) {
      viewer_close(v, 1);
      return;
    }
    account(v, r);
    if (skip > 0) reader_skipped(&v->reader, r);
    else if (!consume(v, buf, (size_t)r)) return;
    if (r < want) return; /* drained for now: level-triggered epoll calls again */
  }
}

static void resume_paused(void) {
  double t = now_mono_ms();
  for (int i = 0; i < opt.viewers && paused_count > 0; i++) {
    struct viewer *v = &viewers[i];
    if (!v->paused || v->resume_at > t) continue;
    v->paused = 0;
    paused_count--;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = v};
    epoll_ctl(epfd, EPOLL_CTL_MOD, v->fd, &ev);
  }
}

void run_loop(double timeout_ms) {
  static struct epoll_event evs[1024];
  if (paused_count > 0 && timeout_ms > 2) timeout_ms = 2;
  int n = epoll_wait(epfd, evs, 1024, (int)ceil(timeout_ms));
  for (int i = 0; i < n; i++) {
    struct viewer *v = evs[i].data.ptr;
    if (v->fd < 0) continue;
    if (!v->connected) on_connected(v);
    else on_readable(v);
  }
  if (paused_count > 0) resume_paused();
}
