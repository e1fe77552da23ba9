// Linux calls that Swift's Glibc module leaves out (they need _GNU_SOURCE).
#ifndef REPRO_CLINUX_H
#define REPRO_CLINUX_H

/// syncfs(2): write back the whole file system holding `fd`. -1 and errno on failure.
int repro_syncfs(int fd);

#endif
