/* See redis-sub.h. Only what one SUBSCRIBE needs: simple strings, errors, integers, bulk strings, arrays. */
#include "redis-sub.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static unsigned char *rbuf;
static size_t rlen, rcap;

struct frame *frame_ref(struct frame *f) {
  f->refs++;
  return f;
}

void frame_unref(struct frame *f) {
  if (!f || --f->refs > 0) return;
  free(f->prefix);
  free(f->jpeg);
  free(f);
}

/* Number.prototype.toFixed for x >= 0: round half up on the exact decimal value of the double. */
static void js_to_fixed(double x, int digits, char *out, size_t size) {
  static char exact[1300];
  snprintf(exact, sizeof exact, "%.1100f", x); /* glibc prints a double's exact expansion */
  char *dot = strchr(exact, '.');
  char *cut = dot + 1 + digits;
  int up = *cut >= '5';
  *cut = 0;
  for (char *p = cut - 1; up && p >= exact; p--) {
    if (*p == '.') continue;
    if (*p == '9') *p = '0';
    else {
      (*p)++;
      up = 0;
    }
  }
  size_t n = strlen(exact);
  if (n + 2 > size) n = size - 2; /* not for our timestamps: they have 13 integer digits */
  out[0] = '1';
  memcpy(out + up, exact, n);
  out[n + up] = 0;
}

static double read_f64_be(const unsigned char *p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u = (u << 8) | p[i];
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* bus/frame.ts's wire format -> the classic part; NULL when the message is not a whole frame. */
static struct frame *frame_from_message(const unsigned char *m, size_t n) {
  if (n < 28 || m[0] != 'C' || m[1] != 'F' || m[2] != 1) return NULL;
  size_t idlen = m[3], jstart = 24 + idlen;
  if (idlen == 0 || jstart + 4 > n) return NULL;
  const unsigned char *jpeg = m + jstart;
  size_t jlen = n - jstart;
  if (jpeg[0] != 0xff || jpeg[1] != 0xd8 || jpeg[jlen - 2] != 0xff || jpeg[jlen - 1] != 0xd9) return NULL;
  char ts3[64], ts6[64], text[256];
  double seq = read_f64_be(m + 4), ts = read_f64_be(m + 12);
  js_to_fixed(ts, 3, ts3, sizeof ts3);
  js_to_fixed(ts / 1000, 6, ts6, sizeof ts6);
  int tlen = snprintf(text, sizeof text, "camfan cam=%.*s seq=%.0f ts=%s", (int)idlen, (const char *)m + 24, seq, ts3);
  size_t com_len = 4 + (size_t)tlen;
  char head[256];
  int hlen = snprintf(head, sizeof head, "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\nX-Timestamp: %s\r\n\r\n", jlen + com_len, ts6);
  struct frame *f = calloc(1, sizeof *f);
  f->prefix = xrealloc(NULL, (size_t)hlen + 2 + com_len);
  f->jpeg = xrealloc(NULL, jlen);
  memcpy(f->jpeg, jpeg, jlen);
  unsigned char *p = f->prefix;
  memcpy(p, head, (size_t)hlen);
  p += hlen;
  *p++ = 0xff;
  *p++ = 0xd8;
  *p++ = 0xff;
  *p++ = 0xfe;
  *p++ = (unsigned char)((2 + tlen) >> 8);
  *p++ = (unsigned char)((2 + tlen) & 0xff);
  memcpy(p, text, (size_t)tlen);
  f->seg[0] = (struct iovec){f->prefix, (size_t)hlen + 2 + com_len};
  f->seg[1] = (struct iovec){f->jpeg + 2, jlen - 2};
  f->seg[2] = (struct iovec){(void *)"\r\n", 2};
  f->total = f->seg[0].iov_len + f->seg[1].iov_len + 2;
  f->refs = 1;
  return f;
}

/* Parses one RESP2 value at rbuf[at..]; returns its length, 0 when incomplete, -1 on garbage. For an
 * array, where its first and last bulk strings are (first_len is (size_t)-1 until one is seen). */
static long parse_value(size_t at, size_t *first_off, size_t *first_len, size_t *last_off, size_t *last_len, int depth) {
  unsigned char *p = rbuf + at, *end = rbuf + rlen;
  unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
  if (!nl) return 0;
  long line = nl - p + 1;
  long num = strtol((char *)p + 1, NULL, 10);
  switch (*p) {
  case '+': case '-': case ':': return line;
  case '$':
    if (num < 0) return line;
    if ((size_t)(end - p) < (size_t)(line + num + 2)) return 0;
    *last_off = at + (size_t)line;
    *last_len = (size_t)num;
    if (*first_len == (size_t)-1) *first_off = *last_off, *first_len = *last_len;
    return line + num + 2;
  case '*': {
    if (depth > 0) return -1;
    long used = line;
    for (long i = 0; i < num; i++) {
      long n = parse_value(at + (size_t)used, first_off, first_len, last_off, last_len, depth + 1);
      if (n <= 0) return n;
      used += n;
    }
    return used;
  }
  default: return -1;
  }
}

struct frame *redis_read_latest(int fd, int *closed, long *received, long *superseded) {
  size_t newest_off = 0, newest_len = 0, parsed = 0;
  int have = 0;
  for (;;) {
    if (rcap - rlen < 65536) rbuf = xrealloc(rbuf, rcap = rcap * 2 + 262144);
    ssize_t r = recv(fd, rbuf + rlen, rcap - rlen, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) *closed = 1;
    if (r <= 0) break;
    rlen += (size_t)r;
    for (;;) {
      size_t fo = 0, fl = (size_t)-1, lo = 0, ll = 0;
      long n = parse_value(parsed, &fo, &fl, &lo, &ll, 0);
      if (n < 0) {
        fprintf(stderr, "baseline: unexpected reply from Redis\n");
        exit(1);
      }
      if (n == 0) break;
      if (rbuf[parsed] == '*' && fl == 7 && memcmp(rbuf + fo, "message", 7) == 0) {
        (*received)++;
        if (have) (*superseded)++;
        newest_off = lo, newest_len = ll, have = 1;
      }
      parsed += (size_t)n;
      if (parsed == rlen) break;
    }
  }
  struct frame *f = have ? frame_from_message(rbuf + newest_off, newest_len) : NULL;
  memmove(rbuf, rbuf + parsed, rlen - parsed);
  rlen -= parsed;
  return f;
}

static void send_command(int fd, int argc, const char **argv) {
  char buf[1024];
  int n = snprintf(buf, sizeof buf, "*%d\r\n", argc);
  for (int i = 0; i < argc; i++) n += snprintf(buf + n, sizeof buf - (size_t)n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
  if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) die("send to Redis");
}

int redis_subscribe(const char *host, int port, const char *channel, const char *client_name) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "baseline: Redis host must be an IPv4 address, got %s\n", host);
    exit(2);
  }
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect to Redis");
  const char *setname[] = {"CLIENT", "SETNAME", client_name};
  const char *subscribe[] = {"SUBSCRIBE", channel};
  send_command(fd, 3, setname);
  send_command(fd, 2, subscribe);
  /* Blocking until the subscription is confirmed (":1" ends the reply), then non-blocking. */
  char reply[512];
  size_t got = 0;
  while (got < sizeof reply - 1 && !(got > 4 && memcmp(reply + got - 4, ":1\r\n", 4) == 0)) {
    ssize_t r = recv(fd, reply + got, 1, 0);
    if (r <= 0) die("SUBSCRIBE reply");
    got++;
  }
  if (reply[0] != '+') {
    fprintf(stderr, "baseline: Redis refused CLIENT SETNAME: %.*s\n", (int)got, reply);
    exit(1);
  }
  set_nonblock(fd);
  return fd;
}
