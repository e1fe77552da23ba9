// Linux calls that Swift's Glibc module leaves out (they need _GNU_SOURCE).
#ifndef REPRO_CLINUX_H
#define REPRO_CLINUX_H

/// syncfs(2): write back the whole file system holding `fd`. -1 and errno on failure.
int repro_syncfs(int fd);

#include <spawn.h>

/// pipe2(2) with O_CLOEXEC.
int repro_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29): the child's working directory.
int repro_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE): starts writing the file's dirty
/// pages back without waiting, so that a later fsync or syncfs has less to wait for.
int repro_start_writeback(int fd);

/// Sets the "top of a directory hierarchy" attribute (FS_TOPDIR_FL, `chattr +T`) on
/// the directory `path`: ext4 then spreads the directories made in it over block groups
/// (the Orlov allocator) instead of packing them next to it. 0, or -1 and errno (e.g.
/// ENOTTY on file systems without the attribute).
int repro_set_topdir(const char *path);

#endif
