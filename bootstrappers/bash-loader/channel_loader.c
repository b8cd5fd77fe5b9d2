/* A Bash loadable builtin that reads cuttle's variables channel into an indexed array in one pass.
 * Tested by tests/bootstrappers/bash_test.cpp
 *
 *   __cuttle_load_channel FD ARRAY
 *
 * reads descriptor FD to its end and stores its NUL-separated fields in ARRAY (element 0 is the payload's
 * magic), exactly what `mapfile -d '' -t -u FD ARRAY` stores, but without Bash's byte-at-a-time reader:
 * about 40 instructions a byte there, against one copy here (docs/scripts.md, "Start-up cost"). The
 * bootstrap loads it with `enable -f` when cuttle has written it beside the bootstrap, and falls back to
 * mapfile when it cannot be loaded (another Bash version, a noexec temporary directory). It holds nothing
 * after it returns: the bytes are in the array and the buffer is freed. */

#include <errno.h>
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

/* Nothing of the payload stays outside the array: a read buffer is cleared before it is freed. */
static void release(char* data, size_t size, int mapped) {
  if (mapped) {
    munmap(data, size);
  } else {
    memset(data, 0, size);
    free(data);
  }
}

static int load_channel_builtin(WORD_LIST* list) {
  if (list == NULL || list->next == NULL || list->next->next != NULL) {
    builtin_usage();
    return EX_USAGE;
  }
  const char* fd_text = list->word->word;
  char* array_name = list->next->word->word;
  char* end = NULL;
  errno = 0;
  const long fd = strtol(fd_text, &end, 10);
  if (*fd_text == '\0' || *end != '\0' || errno != 0 || fd < 0 || fd > 1000000) {
    builtin_error("%s: not a descriptor number", fd_text);
    return EXECUTION_FAILURE;
  }
  if (legal_identifier(array_name) == 0) {
    sh_invalidid(array_name);
    return EXECUTION_FAILURE;
  }
  /* A memfd (what cuttle passes) is mapped rather than read: its pages are already in memory, so mapping
     them with MAP_POPULATE costs no copy and no page fault per page. Anything else is read. */
  char* data = NULL;
  size_t size = 0;
  int mapped = 0;
  struct stat st;
  if (fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && lseek((int)fd, 0, SEEK_CUR) == 0) {
    void* map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, (int)fd, 0);
    if (map != MAP_FAILED) {
      data = map;
      size = (size_t)st.st_size;
      mapped = 1;
    }
  }
  if (!mapped && read_all((int)fd, &data, &size) != 0) {
    builtin_error("cannot read descriptor %s: %s", fd_text, strerror(errno));
    return EXECUTION_FAILURE;
  }
  SHELL_VAR* var = find_or_make_array_variable(array_name, 1);
  if (var == NULL || readonly_p(var) || noassign_p(var) || !array_p(var)) {
    release(data, size, mapped);
    builtin_error("%s: cannot assign to the array", array_name);
    return EXECUTION_FAILURE;
  }
  ARRAY* array = array_cell(var);
  array_flush(array);
  /* Fields end at NUL; a last field without its NUL is stored too, as mapfile does. array_insert copies
     each field, so the buffer can be freed at the end. */
  arrayind_t index = 0;
  size_t start = 0;
  while (start < size) {
    const char* nul = memchr(data + start, '\0', size - start);
    const size_t stop = nul == NULL ? size : (size_t)(nul - data);
    if (nul == NULL) {
      /* array_insert needs a NUL-terminated string: the buffer may be full, so copy this last field. */
      char* last = malloc(stop - start + 1);
      if (last == NULL) break;
      memcpy(last, data + start, stop - start);
      last[stop - start] = '\0';
      array_insert(array, index++, last);
      free(last);
    } else {
      array_insert(array, index++, data + start);
    }
    start = stop + 1;
  }
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
    "Reads descriptor FD to its end and stores its NUL-separated fields in the",
    "indexed array ARRAY, as mapfile -d '' -t -u FD ARRAY would.",
    NULL};

/* `enable -f FILE __cuttle_load_channel` finds the builtin by this symbol's name. */
struct builtin __cuttle_load_channel_struct = {"__cuttle_load_channel", load_channel_builtin, BUILTIN_ENABLED,
                                               load_channel_doc, "__cuttle_load_channel FD ARRAY", 0};
