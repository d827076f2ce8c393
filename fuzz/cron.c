/*
** fuzz/cron.c — libFuzzer harness for ext/cron.c and ext/cron_next.c (parse,
** then next boundary).
**   clang -g -O1 -fsanitize=fuzzer,address,undefined fuzz/cron.c ext/cron.c \
**     ext/cron_next.c -o cron_fuzz
**   TZ=America/New_York ./cron_fuzz -max_total_time=60
** Without clang, replay inputs with any C compiler:
**   cc -std=c11 -DCRON_FUZZ_STANDALONE -fsanitize=address,undefined fuzz/cron.c \
**     ext/cron.c ext/cron_next.c
**   ./a.out file...
** Checks: no crash, hang or out-of-bounds read on any bytes; an accepted
** expression always yields a strictly later boundary, and its canonical text
** (cron_canonical_n) parses back into the same schedule.
*/
#define _POSIX_C_SOURCE 200809L
#include "../ext/cron.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  CronSpec spec;
  char err[256];
  /* The first 8 bytes (when there are more) pick from_unix; the rest is the expression. */
  uint64_t seed = 0;
  if (size > 8) {
    memcpy(&seed, data, 8);
    data += 8;
    size -= 8;
  }
  /* A copy of exactly size bytes, so ASan catches any read past the end. */
  char *expr = malloc(size ? size : 1);
  if (!expr) return 0;
  if (size) memcpy(expr, data, size);
  if (cron_parse_n(expr, size, &spec, err, sizeof err) == CRON_OK) {
    size_t cap = CRON_CANONICAL_MAX(size);
    char *text = malloc(cap);
    CronSpec back;
    if (!text) abort();
    if (cron_canonical_n(expr, size, text, cap, err, sizeof err) != CRON_OK) abort();
    if (cron_parse(text, &back, err, sizeof err) != CRON_OK) abort();
    if (memcmp(&spec, &back, sizeof spec) != 0) abort(); /* parse zeroes the struct first */
    free(text);
    int64_t from = (int64_t)(seed % (uint64_t)(CRON_MAX_UNIX + 1)), next;
    for (int i = 0; i < 4 && from <= CRON_MAX_UNIX; i++) {
      if (cron_next_after(&spec, from, &next, err, sizeof err) != CRON_OK) break;
      if (next <= from) abort();
      from = next;
    }
  } else if (err[0] == 0) {
    abort(); /* every error has a message */
  }
  free(expr);
  return 0;
}

#ifdef CRON_FUZZ_STANDALONE
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) continue;
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
  }
  return 0;
}
#endif
