// OpenSSL libcrypto: SHA-256 and Ed25519/ECDSA signatures.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
