#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include "clinux.h"

int repro_pipe_cloexec(int fds[2])
{
    return pipe2(fds, O_CLOEXEC);
}

int repro_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path)
{
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int repro_syncfs(int fd) { return syncfs(fd); }
