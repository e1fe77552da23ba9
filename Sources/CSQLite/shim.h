// SQLite for the embedded store index.
#include <sqlite3.h>
