/* A growable array of samples and the percentile rule of bench/stats.ts (nearest rank). */
#ifndef CAMFAN_BENCH_SAMPLES_H
#define CAMFAN_BENCH_SAMPLES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

struct samples {
  double *v;
  size_t n, cap;
};

static inline void samples_push(struct samples *s, double x) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->v = xrealloc(s->v, s->cap * sizeof *s->v);
  }
  s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static inline void samples_sort(struct samples *s) { qsort(s->v, s->n, sizeof *s->v, cmp_double); }

/* Nearest rank on sorted samples; NAN when empty. */
static inline double samples_pct(const struct samples *s, double p) {
  if (s->n == 0) return NAN;
  long i = (long)ceil(p / 100.0 * (double)s->n) - 1;
  if (i < 0) i = 0;
  if (i > (long)s->n - 1) i = (long)s->n - 1;
  return s->v[i];
}

/* A JSON number, or null for NaN and infinities (JSON has neither). */
static inline void json_num(const char *key, double x, int last) {
  if (isfinite(x)) printf("  \"%s\": %.10g%s\n", key, x, last ? "" : ",");
  else printf("  \"%s\": null%s\n", key, last ? "" : ",");
}

#endif
