// libarchive: reading .deb/tar/zip inputs and writing deterministic archives.
#include <archive.h>
#include <archive_entry.h>
