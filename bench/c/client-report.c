/* The load client's JSON report: the same figures as bench/fanout.ts computes for the Node client. */
#include <math.h>

#include "client.h"

static void fps_of(enum viewer_kind kind, struct samples *out) {
  for (int i = 0; i < opt.viewers; i++) {
    if (viewers[i].kind == kind) samples_push(out, (double)viewers[i].frames / result.elapsed);
  }
  samples_sort(out);
}

void report(void) {
  struct samples fast = {0}, slow = {0}, ttff = {0};
  fps_of(V_FAST, &fast);
  fps_of(V_SLOW, &slow);
  long timeouts = 0, frames = 0;
  for (int k = 0; k < opt.probes; k++) {
    /* A probe that got no frame counts as infinitely slow, so any such probe shows in p99. */
    if (isnan(probes[k].first_part_ms)) timeouts++;
    samples_push(&ttff, isnan(probes[k].first_part_ms) ? INFINITY : probes[k].first_part_ms);
  }
  for (int i = 0; i < opt.viewers; i++) frames += viewers[i].frames;
  samples_sort(&ttff);
  samples_sort(&result.lat_fast);
  samples_sort(&result.lat_slow);
  int still_open = 0;
  for (int i = 0; i < opt.viewers; i++) still_open += viewers[i].fd >= 0;
  printf("{\n");
  json_num("viewers", opt.viewers, 0);
  json_num("slowViewers", (double)slow.n, 0);
  json_num("openAtEnd", still_open, 0);
  json_num("connectFailed", (double)result.connect_failed, 0);
  json_num("refused", (double)result.refused, 0);
  json_num("disconnected", (double)result.disconnected, 0);
  json_num("connectSeconds", result.connect_seconds, 0);
  json_num("seconds", result.elapsed, 0);
  json_num("fpsMin", fast.n ? fast.v[0] : NAN, 0);
  json_num("fpsP50", samples_pct(&fast, 50), 0);
  json_num("latencyP50", samples_pct(&result.lat_fast, 50), 0);
  json_num("latencyP99", samples_pct(&result.lat_fast, 99), 0);
  json_num("latencyMax", result.lat_fast.n ? result.lat_fast.v[result.lat_fast.n - 1] : NAN, 0);
  json_num("slowFpsP50", samples_pct(&slow, 50), 0);
  json_num("slowLatencyP50", samples_pct(&result.lat_slow, 50), 0);
  json_num("ttffP50", samples_pct(&ttff, 50), 0);
  json_num("ttffP99", samples_pct(&ttff, 99), 0);
  json_num("probes", opt.probes, 0);
  json_num("probeTimeouts", (double)timeouts, 0);
  json_num("invalidParts", (double)result.invalid, 0);
  json_num("badFraming", (double)result.bad_framing, 0);
  json_num("deliveredFrames", (double)frames, 0);
  json_num("deliveredBytes", result.bytes, 0);
  json_num("frameBytes", (double)result.frame_bytes, 0);
  json_num("serverCpuSeconds", opt.npids ? result.server_cpu : NAN, 0);
  json_num("clientCpuSeconds", result.self_cpu, 0);
  json_num("machineBusyCores", result.machine_busy / result.elapsed, 0);
  json_num("machineSoftirqCores", result.machine_softirq / result.elapsed, 0);
  json_num("clientCpuCores", result.self_cpu / result.elapsed, 1);
  printf("}\n");
  fflush(stdout);
}
