#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int fd = open("/build/out.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 2; }
    char buf[64]; memset(buf, 'x', sizeof buf);
    int failed = 0;
    printf("failed:");
    for (int i = 1; i <= n; i++) {
        if (write(fd, buf, sizeof buf) < 0) { failed++; printf(" %d%s", i, errno == EIO ? "" : strerror(errno)); }
    }
    printf("\ntotal %d of %d\n", failed, n);
    return 0;
}
