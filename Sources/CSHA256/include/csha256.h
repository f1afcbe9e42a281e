// SHA-256 (FIPS 180-4), streaming. One context per message: init, update any number of times,
// final once. On x86_64 CPUs with the SHA extensions the block function uses them (chosen at run
// time with cpuid, so the binary runs on any x86_64); elsewhere a portable C block function.
// The Swift API over this is Sources/CCCICore/Digest/SHA256.swift.
#ifndef CCCI_CSHA256_H
#define CCCI_CSHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;      // bytes hashed so far
    uint8_t buffer[64];   // a partial block
    uint32_t used;        // bytes in buffer
    uint32_t accelerated; // 1: the SHA-extensions block function, 0: portable
} ccci_sha256_context;

void ccci_sha256_init(ccci_sha256_context *context);
// As ccci_sha256_init, but always with the portable block function (for tests and benchmarks).
void ccci_sha256_init_portable(ccci_sha256_context *context);
void ccci_sha256_update(ccci_sha256_context *context, const void *bytes, size_t count);
// Feeds the same bytes to two contexts; with the SHA extensions, in about the time of one.
void ccci_sha256_update2(ccci_sha256_context *a, ccci_sha256_context *b, const void *bytes, size_t count);
void ccci_sha256_final(ccci_sha256_context *context, uint8_t digest[32]);
// 1 when this CPU has the SHA extensions (and SSSE3, SSE4.1) and they are used.
int ccci_sha256_accelerated(void);

#endif
