/*
 * camfan's C load client: N viewers of a classic-framed MJPEG stream over loopback, in one thread with
 * epoll and non-blocking sockets. Each part's headers, the JPEG's SOI and EOI and the CRLF after it are
 * checked; the middle of each JPEG is discarded in the kernel with recv(MSG_TRUNC), so the client costs a
 * few system calls per frame and never copies bodies. Prints one JSON object on stdout; writes
 * "window start" / "window end" lines on stderr when the measured window opens and closes.
 *   load-client [--host A] --port P [--path /x] --viewers N [--warmup S] [--seconds S] [--probes K]
 *               [--slow-fraction F --slow-rate BYTES_PER_S] [--batch B] [--probe-timeout MS]
 *               [--server-pids 1,2]
 */
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"

struct options opt = {.path = "/video_feed?framing=classic", .warmup = 3, .seconds = 10, .probes = 20, .batch = 50, .probe_timeout_ms = 10000};

static void usage(void) {
  fprintf(stderr, "usage: load-client [--host A] --port P --viewers N [--path /x] [--warmup S] [--seconds S] [--probes K] [--slow-fraction F] [--slow-rate B/s] [--batch B] [--probe-timeout MS] [--server-pids 1,2]\n");
  exit(2);
}

static void parse_options(int argc, char **argv) {
  static struct option longs[] = {
      {"port", 1, 0, 'p'}, {"path", 1, 0, 'P'}, {"viewers", 1, 0, 'n'}, {"warmup", 1, 0, 'w'}, {"seconds", 1, 0, 's'},
      {"probes", 1, 0, 'k'}, {"slow-fraction", 1, 0, 'f'}, {"slow-rate", 1, 0, 'r'}, {"batch", 1, 0, 'b'},
      {"probe-timeout", 1, 0, 't'}, {"server-pids", 1, 0, 'S'}, {"host", 1, 0, 'H'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
    switch (c) {
    case 'H': opt.host = optarg; break;
    case 'p': opt.port = atoi(optarg); break;
    case 'P': opt.path = optarg; break;
    case 'n': opt.viewers = atoi(optarg); break;
    case 'w': opt.warmup = atof(optarg); break;
    case 's': opt.seconds = atof(optarg); break;
    case 'k': opt.probes = atoi(optarg); break;
    case 'f': opt.slow_fraction = atof(optarg); break;
    case 'r': opt.slow_rate = atof(optarg); break;
    case 'b': opt.batch = atoi(optarg); break;
    case 't': opt.probe_timeout_ms = atof(optarg); break;
    case 'S':
      for (char *tok = strtok(optarg, ","); tok && opt.npids < MAX_PIDS; tok = strtok(NULL, ",")) opt.pids[opt.npids++] = atoi(tok);
      break;
    default: usage();
    }
  }
  if (opt.port <= 0 || opt.port > 65535 || opt.viewers < 0 || opt.seconds <= 0 || opt.batch <= 0 || opt.path[0] != '/') usage();
  if (opt.slow_fraction > 0 && opt.slow_rate <= 0) usage();
}

/* CPU seconds (user + system) of a process, from /proc; NAN when it is gone. */
static double proc_cpu_seconds(int pid) {
  char file[64], buf[2048];
  snprintf(file, sizeof file, "/proc/%d/stat", pid);
  FILE *f = fopen(file, "r");
  if (!f) return NAN;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  unsigned long utime = 0, stime = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return NAN;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* The machine's busy time and its softirq part, in seconds, from /proc/stat. Loopback TCP work done in
 * softirq may be charged to no process, so this shows what the per-process figures can miss. */
static void machine_cpu(double *busy, double *softirq) {
  unsigned long long v[8] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8) {
    *busy = *softirq = NAN;
  } else {
    double hz = (double)sysconf(_SC_CLK_TCK);
    *busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz; /* all but idle and iowait */
    *softirq = (double)v[6] / hz;
  }
  if (f) fclose(f);
}

static double servers_cpu(void) {
  double sum = 0;
  for (int i = 0; i < opt.npids; i++) sum += proc_cpu_seconds(opt.pids[i]);
  return sum;
}

static double self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Opens the viewers in batches: a batch must have its response heads before the next connects. */
static void connect_all(void) {
  for (int i = 0; i < opt.viewers; i += opt.batch) {
    int end = i + opt.batch < opt.viewers ? i + opt.batch : opt.viewers;
    for (int j = i; j < end; j++) viewer_open(&viewers[j]);
    double until = now_mono_ms() + 3000;
    while (now_mono_ms() < until) {
      int waiting = 0;
      for (int j = i; j < end; j++) waiting += viewers[j].fd >= 0 && viewers[j].reader.state == R_RESPONSE;
      if (!waiting) break;
      run_loop(5);
    }
  }
}

static void run_until(double t) {
  for (double now = now_mono_ms(); now < t; now = now_mono_ms()) run_loop(t - now < 20 ? t - now : 20);
}

/* The measured window, with the time-to-first-frame probes spread evenly over it. */
static void measure(void) {
  double t0 = now_mono_ms();
  double window_ms = opt.seconds * 1000;
  fprintf(stderr, "window start\n");
  double server0 = servers_cpu(), self0 = self_cpu(), busy0, soft0;
  machine_cpu(&busy0, &soft0);
  result.measuring = 1;
  for (int k = 0; k < opt.probes; k++) {
    run_until(t0 + window_ms * k / opt.probes);
    viewer_open(&probes[k]);
  }
  run_until(t0 + window_ms);
  result.measuring = 0;
  result.elapsed = (now_mono_ms() - t0) / 1000.0;
  result.server_cpu = servers_cpu() - server0;
  result.self_cpu = self_cpu() - self0;
  machine_cpu(&result.machine_busy, &result.machine_softirq);
  result.machine_busy -= busy0;
  result.machine_softirq -= soft0;
  fprintf(stderr, "window end\n");
  double probe_deadline = now_mono_ms() + opt.probe_timeout_ms;
  for (;;) {
    int open = 0;
    for (int k = 0; k < opt.probes; k++) open += probes[k].fd >= 0;
    if (!open || now_mono_ms() > probe_deadline) break;
    run_loop(10);
  }
}

int main(int argc, char **argv) {
  parse_options(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  clients_init();
  double t = now_mono_ms();
  connect_all();
  result.connect_seconds = (now_mono_ms() - t) / 1000;
  run_until(now_mono_ms() + opt.warmup * 1000);
  measure();
  report();
  return 0;
}
