// SHA-256 as FIPS 180-4 defines it, with two block functions:
//
// - `blocks_portable`: plain C, 64 rounds over a 16-word rolling message schedule;
// - `blocks_shani` (x86_64 only): the SHA extensions. `sha256rnds2` does two rounds on the state
//   held as two registers, ABEF and CDGH (hence the shuffles on entry and exit); `sha256msg1` and
//   `sha256msg2` compute the message schedule four words at a time. The function is compiled with
//   __attribute__((target)) so the rest of the file (and the package) needs no -msha flag, and it
//   is only called after cpuid says the CPU has SHA, SSSE3 and SSE4.1;
// - `blocks_shani_x2`: the same, for two states over the same data (ccci_sha256_update2). The
//   archive code hashes each file's bytes twice, as part of the archive and as the file's content;
//   one chain of sha256rnds2 is latency-bound, two independent chains overlap almost entirely.
//
// The choice is made once per context at init and cached process-wide (an idempotent racy write
// of the same value, done with relaxed atomics).
#include "csha256.h"
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks) {
    while (blocks--) {
        uint32_t w[16];
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; i++) {
            uint32_t wi;
            if (i < 16) {
                wi = w[i] = load_be32(data + 4 * i);
            } else {
                uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
                uint32_t s0 = ROTR(w15, 7) ^ ROTR(w15, 18) ^ (w15 >> 3);
                uint32_t s1 = ROTR(w2, 17) ^ ROTR(w2, 19) ^ (w2 >> 10);
                wi = w[i & 15] = w[i & 15] + s0 + w[(i - 7) & 15] + s1;
            }
            uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + wi;
            uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
        data += 64;
    }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

// Four rounds i*4..i*4+3 with message words m; the schedule update for the words four groups on.
#define SHANI_ROUNDS(i, m)                                                            \
    msg = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&K[4 * (i)]));           \
    state1 = _mm_sha256rnds2_epu32(state1, state0, msg);                              \
    msg = _mm_shuffle_epi32(msg, 0x0E);                                               \
    state0 = _mm_sha256rnds2_epu32(state0, state1, msg)

// For groups 3..14: finish the schedule of the next group's words (`next`) from this group's.
#define SHANI_SCHEDULE2(m, previous, next)                                            \
    next = _mm_sha256msg2_epu32(_mm_add_epi32(next, _mm_alignr_epi8(m, previous, 4)), m)

__attribute__((target("sha,ssse3,sse4.1")))
static void blocks_shani(uint32_t state[8], const uint8_t *data, size_t blocks) {
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i state1 = _mm_loadu_si128((const __m128i *)&state[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);             // CDAB
    state1 = _mm_shuffle_epi32(state1, 0x1B);       // EFGH
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8); // ABEF
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);    // CDGH

    while (blocks--) {
        __m128i abef = state0, cdgh = state1, msg;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), byteswap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), byteswap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), byteswap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), byteswap);

        SHANI_ROUNDS(0, m0);
        SHANI_ROUNDS(1, m1); m0 = _mm_sha256msg1_epu32(m0, m1);
        SHANI_ROUNDS(2, m2); m1 = _mm_sha256msg1_epu32(m1, m2);
        SHANI_ROUNDS(3, m3); SHANI_SCHEDULE2(m3, m2, m0); m2 = _mm_sha256msg1_epu32(m2, m3);
        SHANI_ROUNDS(4, m0); SHANI_SCHEDULE2(m0, m3, m1); m3 = _mm_sha256msg1_epu32(m3, m0);
        SHANI_ROUNDS(5, m1); SHANI_SCHEDULE2(m1, m0, m2); m0 = _mm_sha256msg1_epu32(m0, m1);
        SHANI_ROUNDS(6, m2); SHANI_SCHEDULE2(m2, m1, m3); m1 = _mm_sha256msg1_epu32(m1, m2);
        SHANI_ROUNDS(7, m3); SHANI_SCHEDULE2(m3, m2, m0); m2 = _mm_sha256msg1_epu32(m2, m3);
        SHANI_ROUNDS(8, m0); SHANI_SCHEDULE2(m0, m3, m1); m3 = _mm_sha256msg1_epu32(m3, m0);
        SHANI_ROUNDS(9, m1); SHANI_SCHEDULE2(m1, m0, m2); m0 = _mm_sha256msg1_epu32(m0, m1);
        SHANI_ROUNDS(10, m2); SHANI_SCHEDULE2(m2, m1, m3); m1 = _mm_sha256msg1_epu32(m1, m2);
        SHANI_ROUNDS(11, m3); SHANI_SCHEDULE2(m3, m2, m0); m2 = _mm_sha256msg1_epu32(m2, m3);
        SHANI_ROUNDS(12, m0); SHANI_SCHEDULE2(m0, m3, m1); m3 = _mm_sha256msg1_epu32(m3, m0);
        SHANI_ROUNDS(13, m1); SHANI_SCHEDULE2(m1, m0, m2);
        SHANI_ROUNDS(14, m2); SHANI_SCHEDULE2(m2, m1, m3);
        SHANI_ROUNDS(15, m3);

        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
        data += 64;
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);          // FEBA
    state1 = _mm_shuffle_epi32(state1, 0xB1);       // DCHG
    state0 = _mm_blend_epi16(tmp, state1, 0xF0);    // DCBA
    state1 = _mm_alignr_epi8(state1, tmp, 8);       // HGFE
    _mm_storeu_si128((__m128i *)&state[0], state0);
    _mm_storeu_si128((__m128i *)&state[4], state1);
}

// Two states over the same message blocks: the schedule is computed once and the two chains of
// sha256rnds2, independent of each other, overlap in the pipeline (measured here: two hashes
// of the same data in the time of one).
#define SHANI_ROUNDS2(i, m)                                                           \
    msg = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&K[4 * (i)]));           \
    a1 = _mm_sha256rnds2_epu32(a1, a0, msg);                                          \
    b1 = _mm_sha256rnds2_epu32(b1, b0, msg);                                          \
    msg = _mm_shuffle_epi32(msg, 0x0E);                                               \
    a0 = _mm_sha256rnds2_epu32(a0, a1, msg);                                          \
    b0 = _mm_sha256rnds2_epu32(b0, b1, msg)

#define SHANI_LOAD(st, s0, s1) {                                                      \
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&(st)[0]), 0xB1); \
    s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&(st)[4]), 0x1B);        \
    s0 = _mm_alignr_epi8(t, s1, 8);                                                   \
    s1 = _mm_blend_epi16(s1, t, 0xF0); }

#define SHANI_STORE(st, s0, s1) {                                                     \
    __m128i t = _mm_shuffle_epi32(s0, 0x1B);                                          \
    s1 = _mm_shuffle_epi32(s1, 0xB1);                                                 \
    s0 = _mm_blend_epi16(t, s1, 0xF0);                                                \
    s1 = _mm_alignr_epi8(s1, t, 8);                                                   \
    _mm_storeu_si128((__m128i *)&(st)[0], s0);                                        \
    _mm_storeu_si128((__m128i *)&(st)[4], s1); }

__attribute__((target("sha,ssse3,sse4.1")))
static void blocks_shani_x2(uint32_t state_a[8], uint32_t state_b[8], const uint8_t *data, size_t blocks) {
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a0, a1, b0, b1;
    SHANI_LOAD(state_a, a0, a1);
    SHANI_LOAD(state_b, b0, b1);
    while (blocks--) {
        __m128i save_a0 = a0, save_a1 = a1, save_b0 = b0, save_b1 = b1, msg;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), byteswap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), byteswap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), byteswap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), byteswap);

        SHANI_ROUNDS2(0, m0);
        SHANI_ROUNDS2(1, m1); m0 = _mm_sha256msg1_epu32(m0, m1);
        SHANI_ROUNDS2(2, m2); m1 = _mm_sha256msg1_epu32(m1, m2);
        SHANI_ROUNDS2(3, m3); SHANI_SCHEDULE2(m3, m2, m0); m2 = _mm_sha256msg1_epu32(m2, m3);
        SHANI_ROUNDS2(4, m0); SHANI_SCHEDULE2(m0, m3, m1); m3 = _mm_sha256msg1_epu32(m3, m0);
        SHANI_ROUNDS2(5, m1); SHANI_SCHEDULE2(m1, m0, m2); m0 = _mm_sha256msg1_epu32(m0, m1);
        SHANI_ROUNDS2(6, m2); SHANI_SCHEDULE2(m2, m1, m3); m1 = _mm_sha256msg1_epu32(m1, m2);
        SHANI_ROUNDS2(7, m3); SHANI_SCHEDULE2(m3, m2, m0); m2 = _mm_sha256msg1_epu32(m2, m3);
        SHANI_ROUNDS2(8, m0); SHANI_SCHEDULE2(m0, m3, m1); m3 = _mm_sha256msg1_epu32(m3, m0);
        SHANI_ROUNDS2(9, m1); SHANI_SCHEDULE2(m1, m0, m2); m0 = _mm_sha256msg1_epu32(m0, m1);
        SHANI_ROUNDS2(10, m2); SHANI_SCHEDULE2(m2, m1, m3); m1 = _mm_sha256msg1_epu32(m1, m2);
        SHANI_ROUNDS2(11, m3); SHANI_SCHEDULE2(m3, m2, m0); m2 = _mm_sha256msg1_epu32(m2, m3);
        SHANI_ROUNDS2(12, m0); SHANI_SCHEDULE2(m0, m3, m1); m3 = _mm_sha256msg1_epu32(m3, m0);
        SHANI_ROUNDS2(13, m1); SHANI_SCHEDULE2(m1, m0, m2);
        SHANI_ROUNDS2(14, m2); SHANI_SCHEDULE2(m2, m1, m3);
        SHANI_ROUNDS2(15, m3);

        a0 = _mm_add_epi32(a0, save_a0);
        a1 = _mm_add_epi32(a1, save_a1);
        b0 = _mm_add_epi32(b0, save_b0);
        b1 = _mm_add_epi32(b1, save_b1);
        data += 64;
    }
    SHANI_STORE(state_a, a0, a1);
    SHANI_STORE(state_b, b0, b1);
}

static int cpu_has_shani(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int sha = (b >> 29) & 1;
    return ssse3 && sse41 && sha;
}
#else
static int cpu_has_shani(void) { return 0; }
#endif

// 0: not yet asked; 1: no; 2: yes.
static int detected;

int ccci_sha256_accelerated(void) {
    int known = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (known == 0) {
        known = cpu_has_shani() ? 2 : 1;
        __atomic_store_n(&detected, known, __ATOMIC_RELAXED);
    }
    return known == 2;
}

static void blocks(ccci_sha256_context *context, const uint8_t *data, size_t count) {
#if defined(__x86_64__)
    if (context->accelerated) {
        blocks_shani(context->state, data, count);
        return;
    }
#endif
    blocks_portable(context->state, data, count);
}

void ccci_sha256_init_portable(ccci_sha256_context *context) {
    memcpy(context->state, H0, sizeof H0);
    context->length = 0;
    context->used = 0;
    context->accelerated = 0;
}

void ccci_sha256_init(ccci_sha256_context *context) {
    ccci_sha256_init_portable(context);
    context->accelerated = (uint32_t)ccci_sha256_accelerated();
}

void ccci_sha256_update(ccci_sha256_context *context, const void *bytes, size_t count) {
    const uint8_t *p = bytes;
    context->length += count;
    if (context->used > 0) {
        size_t take = 64 - context->used;
        if (take > count) take = count;
        memcpy(context->buffer + context->used, p, take);
        context->used += (uint32_t)take;
        p += take;
        count -= take;
        if (context->used < 64) return;
        blocks(context, context->buffer, 1);
        context->used = 0;
    }
    if (count >= 64) {
        blocks(context, p, count / 64);
        p += count & ~(size_t)63;
        count &= 63;
    }
    if (count > 0) {
        memcpy(context->buffer, p, count);
        context->used = (uint32_t)count;
    }
}

void ccci_sha256_update2(ccci_sha256_context *a, ccci_sha256_context *b, const void *bytes, size_t count) {
#if defined(__x86_64__)
    const uint8_t *p = bytes;
    if (a->accelerated && b->accelerated && a->used == b->used) {
        // Same partial block in both (they have seen the same bytes since a block boundary):
        // complete it in each, then run whole blocks through both chains at once.
        if (a->used > 0) {
            size_t take = 64 - a->used;
            if (take > count) take = count;
            ccci_sha256_update(a, p, take);
            ccci_sha256_update(b, p, take);
            p += take;
            count -= take;
        }
        size_t whole = count / 64;
        if (whole > 0) {
            blocks_shani_x2(a->state, b->state, p, whole);
            a->length += whole * 64;
            b->length += whole * 64;
            p += whole * 64;
            count -= whole * 64;
        }
        ccci_sha256_update(a, p, count);
        ccci_sha256_update(b, p, count);
        return;
    }
#endif
    ccci_sha256_update(a, bytes, count);
    ccci_sha256_update(b, bytes, count);
}

void ccci_sha256_final(ccci_sha256_context *context, uint8_t digest[32]) {
    uint64_t bits = context->length * 8;
    uint8_t pad[72] = {0x80};
    size_t padding = (context->used < 56 ? 56 : 120) - context->used;
    uint8_t length[8];
    for (int i = 0; i < 8; i++) length[i] = (uint8_t)(bits >> (56 - 8 * i));
    ccci_sha256_update(context, pad, padding);
    ccci_sha256_update(context, length, 8);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(context->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(context->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(context->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)context->state[i];
    }
}
