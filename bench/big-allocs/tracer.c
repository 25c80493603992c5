// An LD_PRELOAD library for bench/big-allocs/run: it keeps the allocations of at least 1 MiB that
// are alive (with the stack that made each), and each time their total passes its highest mark
// by 4 MiB it writes them all to $BIG_ALLOCS_DIR/peak.<pid> ("alloc <bytes>: <return addresses>"),
// after copying /proc/self/maps to $BIG_ALLOCS_DIR/maps.<pid> at start. report.py turns the
// addresses into function names. A measuring aid only: never linked into nds.
#define _GNU_SOURCE
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void __libc_free(void*);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_calloc(size_t, size_t);

enum { kBig = 1 << 20, kSlots = 4096, kFrames = 20, kStep = 4 << 20 };
struct slot {
  void* p;
  size_t n;
  int frames;
  void* frame[kFrames];
};
static struct slot slots[kSlots];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static size_t live, peak;
static __thread int inside;  // no tracing of the tracer's own allocations (backtrace may allocate)
static char dir[256] = "/tmp";

static void put(int fd, const char* s, int n) {
  if (n > 0 && write(fd, s, (size_t)n) < 0) return;
}

static void dump(void) {
  char path[320];
  snprintf(path, sizeof path, "%s/peak.%d", dir, getpid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  char line[64];
  put(fd, line, snprintf(line, sizeof line, "peak %zu\n", peak));
  for (int i = 0; i < kSlots; i++) {
    if (!slots[i].p) continue;
    put(fd, line, snprintf(line, sizeof line, "alloc %zu:", slots[i].n));
    for (int j = 0; j < slots[i].frames; j++) {
      put(fd, line, snprintf(line, sizeof line, " %p", slots[i].frame[j]));
    }
    put(fd, "\n", 1);
  }
  close(fd);
}

static void track(void* p, size_t n) {
  if (!p || n < kBig || inside) return;
  inside = 1;
  void* frame[kFrames];
  int frames = backtrace(frame, kFrames);
  pthread_mutex_lock(&mu);
  for (int i = 0; i < kSlots; i++) {
    if (slots[i].p) continue;
    slots[i].p = p;
    slots[i].n = n;
    slots[i].frames = frames;
    memcpy(slots[i].frame, frame, sizeof frame);
    break;
  }
  live += n;
  if (live > peak + kStep) {
    peak = live;
    dump();
  }
  pthread_mutex_unlock(&mu);
  inside = 0;
}

static void untrack(void* p) {
  if (!p || malloc_usable_size(p) < kBig) return;
  pthread_mutex_lock(&mu);
  for (int i = 0; i < kSlots; i++) {
    if (slots[i].p != p) continue;
    live -= slots[i].n;
    slots[i].p = NULL;
    break;
  }
  pthread_mutex_unlock(&mu);
}

__attribute__((constructor)) static void start(void) {
  const char* d = getenv("BIG_ALLOCS_DIR");
  if (d && strlen(d) < sizeof dir) strcpy(dir, d);
  inside = 1;
  void* frame[2];
  backtrace(frame, 2);  // loads the unwinder now, not inside the first traced malloc
  inside = 0;
  char path[320];
  snprintf(path, sizeof path, "%s/maps.%d", dir, getpid());
  int in = open("/proc/self/maps", O_RDONLY);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  char buf[4096];
  ssize_t n;
  while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0) put(out, buf, (int)n);
  if (in >= 0) close(in);
  if (out >= 0) close(out);
}

void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  track(p, n);
  return p;
}
void* calloc(size_t a, size_t b) {
  void* p = __libc_calloc(a, b);
  track(p, a * b);
  return p;
}
void free(void* p) {
  untrack(p);
  __libc_free(p);
}
void* realloc(void* q, size_t n) {
  untrack(q);
  void* p = __libc_realloc(q, n);
  track(p, n);
  return p;
}
