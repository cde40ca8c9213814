/*
 * The kernel baseline camfan is compared with: a plain C epoll + writev server. It subscribes to one
 * camera's Redis channel, builds the classic part once per frame (the same bytes as the gateway's
 * FramePacket.part('classic')), and streams it to every connection that sends a GET. Latest frame wins
 * at every step: of the messages one read from Redis brings, only the newest is fanned out; each socket
 * has at most one part in flight, resumed at its exact offset when the socket drains; a newer frame
 * replaces one still waiting. Frames are refcounted. GET /healthz answers a small JSON, for the same
 * probe the gateway gets. Prints "listening <port>" once subscribed.
 *   baseline-server <redis-host> <redis-port> <camera> <listen-port> [client-name]
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"
#include "redis-sub.h"

static const char STREAM_HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=" BOUNDARY
                                  "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
static const char HEALTHZ[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"status\":\"ok\"}";

struct conn {
  int fd;
  int viewer_index; /* position in viewers[], -1 while the request is still coming */
  struct frame *current, *pending;
  size_t offset; /* bytes of current already sent */
  size_t req_len;
  char req[2048];
  struct conn *next_dead;
};

static int epfd;
static struct conn **viewers;
static size_t nviewers, viewers_cap;
static struct conn *dead; /* closed during this epoll batch; freed after it (events may still name them) */
static struct frame *latest;
static long received, superseded;
static struct conn LISTENER, REDIS; /* markers for epoll data */

static void conn_close(struct conn *c) {
  if (c->fd < 0) return;
  close(c->fd);
  c->fd = -1;
  if (c->viewer_index >= 0) {
    struct conn *last = viewers[--nviewers];
    viewers[c->viewer_index] = last;
    last->viewer_index = c->viewer_index;
  }
  frame_unref(c->current);
  frame_unref(c->pending);
  c->current = c->pending = NULL;
  c->next_dead = dead;
  dead = c;
}

/* Sends what is left of the part in flight, then the waiting one; returns -1 when the socket closed. */
static int conn_write(struct conn *c) {
  while (c->current) {
    struct iovec iov[3];
    int n = 0;
    size_t skip = c->offset;
    for (int i = 0; i < 3; i++) {
      struct iovec s = c->current->seg[i];
      if (skip >= s.iov_len) {
        skip -= s.iov_len;
        continue;
      }
      iov[n++] = (struct iovec){(char *)s.iov_base + skip, s.iov_len - skip};
      skip = 0;
    }
    size_t want = c->current->total - c->offset;
    ssize_t w = writev(c->fd, iov, n);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (w < 0) {
      conn_close(c);
      return -1;
    }
    c->offset += (size_t)w;
    if ((size_t)w < want) return 0; /* socket full: EPOLLOUT (edge) resumes here */
    frame_unref(c->current);
    c->current = c->pending;
    c->pending = NULL;
    c->offset = 0;
  }
  return 0;
}

static void offer(struct conn *c, struct frame *f) {
  if (c->current) {
    frame_unref(c->pending);
    c->pending = frame_ref(f);
    return;
  }
  c->current = frame_ref(f);
  c->offset = 0;
  conn_write(c);
}

static void become_viewer(struct conn *c) {
  if (send(c->fd, STREAM_HEAD, sizeof STREAM_HEAD - 1, MSG_NOSIGNAL) != (ssize_t)sizeof STREAM_HEAD - 1) {
    conn_close(c);
    return;
  }
  if (nviewers == viewers_cap) viewers = xrealloc(viewers, (viewers_cap = viewers_cap * 2 + 1024) * sizeof *viewers);
  c->viewer_index = (int)nviewers;
  viewers[nviewers++] = c;
  if (latest) offer(c, latest); /* a new viewer gets the newest frame at once, as the gateway does */
}

static void on_request_bytes(struct conn *c) {
  for (;;) {
    char scratch[4096];
    int streaming = c->viewer_index >= 0;
    char *to = streaming ? scratch : c->req + c->req_len;
    size_t room = streaming ? sizeof scratch : sizeof c->req - 1 - c->req_len;
    ssize_t r = recv(c->fd, to, room, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (r <= 0 || (!streaming && (size_t)r == room)) {
      conn_close(c); /* gone, or a request larger than we accept */
      return;
    }
    if (streaming) continue; /* a viewer has nothing more to say; read and ignore */
    c->req_len += (size_t)r;
    c->req[c->req_len] = 0;
    if (!strstr(c->req, "\r\n\r\n")) continue;
    if (strncmp(c->req, "GET /healthz ", 13) == 0) {
      send(c->fd, HEALTHZ, sizeof HEALTHZ - 1, MSG_NOSIGNAL);
      conn_close(c);
      return;
    }
    become_viewer(c);
    if (c->fd < 0) return;
  }
}

static void accept_all(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->viewer_index = -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  }
}

static void on_redis(int rfd) {
  int closed = 0;
  struct frame *f = redis_read_latest(rfd, &closed, &received, &superseded);
  if (closed) {
    fprintf(stderr, "baseline: Redis closed the subscription (received %ld, superseded %ld)\n", received, superseded);
    exit(1);
  }
  if (!f) return;
  frame_unref(latest);
  latest = f;
  for (size_t i = 0; i < nviewers;) {
    struct conn *c = viewers[i];
    offer(c, f);
    if (c->fd >= 0) i++; /* a closed one was replaced by the last viewer: look at index i again */
  }
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) die("listen");
  return fd;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: baseline-server <redis-host> <redis-port> <camera> <listen-port> [client-name]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char channel[256];
  snprintf(channel, sizeof channel, "camfan:{%s}:frames", argv[3]);
  epfd = epoll_create1(0);
  int rfd = redis_subscribe(argv[1], atoi(argv[2]), channel, argc > 5 ? argv[5] : "camfan-baseline-subscriber");
  int lfd = listen_on(atoi(argv[4]));
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &LISTENER};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.ptr = &REDIS;
  epoll_ctl(epfd, EPOLL_CTL_ADD, rfd, &ev);
  printf("listening %s\n", argv[4]);
  fflush(stdout);
  static struct epoll_event evs[1024];
  for (;;) {
    int n = epoll_wait(epfd, evs, 1024, -1);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c == &LISTENER) accept_all(lfd);
      else if (c == &REDIS) on_redis(rfd);
      else if (c->fd >= 0 && (evs[i].events & (EPOLLERR | EPOLLHUP))) conn_close(c);
      else if (c->fd >= 0) {
        if (evs[i].events & (EPOLLIN | EPOLLRDHUP)) on_request_bytes(c);
        if (c->fd >= 0 && (evs[i].events & EPOLLOUT)) conn_write(c);
      }
    }
    while (dead) {
      struct conn *d = dead;
      dead = d->next_dead;
      free(d);
    }
  }
}
