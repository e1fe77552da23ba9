// libseccomp for Swift. Swift cannot call the variadic seccomp_rule_add; callers use
// seccomp_rule_add_array. The launcher (C) builds the real filter; Swift reads versions.
#include <seccomp.h>
