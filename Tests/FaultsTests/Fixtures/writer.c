/* Writes 64 bytes to /build/out.dat N times (argv[1], default 1000) and prints which
 * write calls failed: "failed: 6 19 ...", then "total F of N" and the last error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int fd = open("/build/out.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open /build/out.dat"); return 2; }
    char buf[64];
    memset(buf, 'x', sizeof buf);
    int failed = 0, last = 0;
    printf("failed:");
    for (int i = 1; i <= n; i++) {
        if (write(fd, buf, sizeof buf) < 0) { failed++; last = errno; printf(" %d", i); }
    }
    printf("\ntotal %d of %d\nlast error: %s\n", failed, n, last ? strerror(last) : "none");
    return 0;
}
