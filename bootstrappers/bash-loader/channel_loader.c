/* A Bash loadable builtin that loads cuttle's variables channel into associative arrays in one pass.
 * Tested by tests/bootstrappers/bash_test.cpp
 *
 *   __cuttle_load_channel FD MAP [PARAMETERS]
 *
 * reads descriptor FD (mapping it when it is a memfd) and stores every variable in the associative array
 * MAP under the key "=" NAME, and, when PARAMETERS is given, under NAME in that array too (the script's
 * octopus_parameters; a variable with an empty name cannot be a key there). Both arrays must already be
 * declared associative. Exit status: 0 loaded; 3 the payload is not cuttle's; 1 any other failure.
 *
 * Why: the alternative is `mapfile -d ''` into an indexed array that lookups binary-search. mapfile reads
 * a byte at a time (about 490 M instructions for the 13 MB bigvars payload, against 27 M here), and Bash's
 * indexed arrays are linked lists, so each probe of the binary search walks the list: thousands of node
 * hops per lookup with 20,000 variables, where an associative array is one hash lookup. The bootstrap
 * loads this with `enable -f` from the path cuttle passes (an inherited memfd), deletes it again once it
 * has run, and falls back to mapfile when it cannot be loaded (another Bash version, a system that
 * forbids executable memfds). cuttle sends it only for a payload of 16 KiB or more. Nothing of the payload stays outside the arrays: a read buffer is cleared before it is
 * freed. */

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#include "builtins.h"
#include "shell.h"
#include "common.h"
#include "arrayfunc.h"
#include "assoc.h"
#include "version.h"

static int read_all(int fd, char** out, size_t* size) {
  size_t capacity = 1 << 20, used = 0;
  char* buffer = malloc(capacity);
  if (buffer == NULL) return -1;
  for (;;) {
    if (used == capacity) {
      char* bigger = capacity > ((size_t)-1) / 2 ? NULL : realloc(buffer, capacity * 2);
      if (bigger == NULL) {
        free(buffer);
        return -1;
      }
      buffer = bigger;
      capacity *= 2;
    }
    ssize_t n = read(fd, buffer + used, capacity - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      free(buffer);
      return -1;
    }
    if (n == 0) break;
    used += (size_t)n;
  }
  *out = buffer;
  *size = used;
  return 0;
}

/* The exit status for a payload that is not cuttle's. */
#define PAYLOAD_INVALID 3

/* Nothing of the payload stays outside the arrays: a read buffer is cleared before it is freed. */
static void release(char* data, size_t size, int mapped) {
  if (mapped) {
    munmap(data, size);
  } else {
    memset(data, 0, size);
    free(data);
  }
}

/* The associative array NAME, which the bootstrap has declared (declare -gA); NULL if it is not one. */
static HASH_TABLE* assoc_named(char* name) {
  SHELL_VAR* var = find_variable(name);
  if (var == NULL || !assoc_p(var) || readonly_p(var) || noassign_p(var)) return NULL;
  return assoc_cell(var);
}

/* Stores one entry; assoc_insert takes the key (allocated by Bash's xmalloc) and copies the value. */
static void store(HASH_TABLE* table, const char* prefix, const char* key, const char* value) {
  const size_t prefix_length = strlen(prefix), key_length = strlen(key);
  char* owned = xmalloc(prefix_length + key_length + 1);
  memcpy(owned, prefix, prefix_length);
  memcpy(owned + prefix_length, key, key_length + 1);
  assoc_insert(table, owned, (char*)value);
}

/* Before a large payload is copied onto Bash's heap (glibc's malloc): lets the heap grow once, by about
   twice the payload, in transparent huge pages, instead of a 4 KiB page fault at a time (3,300 of them
   for the 13 MB bigvars payload). The trim and mmap thresholds are back at glibc's defaults afterwards,
   so the script's own memory behaves as usual. Best effort: a failed call changes only the speed. */
static void prepare_heap(size_t payload) {
  const size_t large = (size_t)4 << 20;
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (payload < large || payload > ((size_t)1 << 30)) return;
  const size_t grow = payload * 2;
  mallopt(M_TRIM_THRESHOLD, (int)(grow * 2));
  mallopt(M_MMAP_THRESHOLD, (int)(grow * 2));
  mallopt(M_TOP_PAD, (int)grow);
  const uintptr_t before = (uintptr_t)sbrk(0);
  void* volatile probe = malloc(payload);
  free(probe);
  const uintptr_t after = (uintptr_t)sbrk(0);
  const uintptr_t low = (before + huge - 1) & ~(huge - 1);
  const uintptr_t high = after & ~(huge - 1);
  if (before != (uintptr_t)-1 && high > low && high - low < grow * 4) madvise((void*)low, high - low, MADV_HUGEPAGE);
  mallopt(M_TOP_PAD, 128 * 1024);
}

/* After loading: glibc's default thresholds again (mallopt had turned their dynamic adjustment off). */
static void restore_heap(size_t payload) {
  if (payload < ((size_t)4 << 20) || payload > ((size_t)1 << 30)) return;
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

static int load_channel_builtin(WORD_LIST* list) {
  if (list == NULL || list->next == NULL ||
      (list->next->next != NULL && list->next->next->next != NULL)) {
    builtin_usage();
    return EX_USAGE;
  }
  const char* fd_text = list->word->word;
  char* end = NULL;
  errno = 0;
  const long fd = strtol(fd_text, &end, 10);
  if (*fd_text == '\0' || *end != '\0' || errno != 0 || fd < 0 || fd > 1000000) {
    builtin_error("%s: not a descriptor number", fd_text);
    return EXECUTION_FAILURE;
  }
  HASH_TABLE* map = assoc_named(list->next->word->word);
  HASH_TABLE* parameters = list->next->next == NULL ? NULL : assoc_named(list->next->next->word->word);
  if (map == NULL || (list->next->next != NULL && parameters == NULL)) {
    builtin_error("the arrays must be declared associative (declare -gA)");
    return EXECUTION_FAILURE;
  }
  /* A memfd (what cuttle passes) is mapped rather than read: its pages are already in memory, so mapping
     them with MAP_POPULATE costs no copy and no page fault per page. Anything else is read. */
  char* data = NULL;
  size_t size = 0;
  int mapped = 0;
  struct stat st;
  if (fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && lseek((int)fd, 0, SEEK_CUR) == 0) {
    void* m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, (int)fd, 0);
    if (m != MAP_FAILED) {
      data = m;
      size = (size_t)st.st_size;
      mapped = 1;
    }
  }
  if (!mapped && read_all((int)fd, &data, &size) != 0) {
    builtin_error("cannot read descriptor %s: %s", fd_text, strerror(errno));
    return EXECUTION_FAILURE;
  }
  /* The payload (docs/scripts.md): "CUTTLE1\0", then name NUL value NUL per variable. Checked whole before
     anything is stored, so a bad one leaves the arrays empty. */
  static const char magic[] = "CUTTLE1";
  size_t fields = 0;
  int valid = size >= sizeof magic && memcmp(data, magic, sizeof magic) == 0 && data[size - 1] == '\0';
  for (const char* p = data + sizeof magic; valid && p < data + size; ++fields)
    p = (const char*)memchr(p, '\0', (size_t)(data + size - p)) + 1;
  if (!valid || fields % 2 != 0) {
    release(data, size, mapped);
    return PAYLOAD_INVALID;
  }
  prepare_heap(size);
  for (const char* p = data + sizeof magic; p < data + size;) {
    const char* name = p;
    const char* value = name + strlen(name) + 1;
    p = value + strlen(value) + 1;
    /* "=" keeps every key non-empty (Bash has no empty subscript): the bootstrap looks up "=$name". */
    store(map, "=", name, value);
    if (parameters != NULL && *name != '\0') store(parameters, "", name, value);
  }
  restore_heap(size);
  release(data, size, mapped);
  return EXECUTION_SUCCESS;
}

/* Called by `enable -f`: refuses to load into a Bash other than the one whose headers built it, since
   loadable builtins call into Bash's internals. */
int __cuttle_load_channel_builtin_load(char* name) {
  (void)name;
  return dist_version != NULL && strcmp(dist_version, DISTVERSION) == 0;
}

static char* load_channel_doc[] = {
    "Read cuttle's variables channel.",
    "",
    "Reads cuttle's variables payload from descriptor FD into the associative",
    "arrays MAP (keys \"=NAME\") and PARAMETERS (keys NAME).",
    NULL};

/* `enable -f FILE __cuttle_load_channel` finds the builtin by this symbol's name. */
struct builtin __cuttle_load_channel_struct = {"__cuttle_load_channel", load_channel_builtin, BUILTIN_ENABLED,
                                               load_channel_doc, "__cuttle_load_channel FD MAP [PARAMETERS]", 0};
