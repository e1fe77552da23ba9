/* The README's first command compiles and runs this inside the sandbox. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char host[64] = "";
    gethostname(host, sizeof host);
    printf("hello from %s, uid %d, pid %d\n", host, (int)getuid(), (int)getpid());
    return 0;
}
