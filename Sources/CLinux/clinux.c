#define _GNU_SOURCE
#include <unistd.h>
#include "clinux.h"

int repro_syncfs(int fd) { return syncfs(fd); }
