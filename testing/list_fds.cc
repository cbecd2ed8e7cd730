// Prints the descriptors open in this process, one per line, then exits.
// Tests exec it to prove the library's descriptors are close-on-exec.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int main() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 2;
  const int own = dirfd(dir);
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = atoi(entry->d_name);
    if (fd != own) printf("%d\n", fd);
  }
  closedir(dir);
  return 0;
}
