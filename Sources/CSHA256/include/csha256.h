// Placeholder: the SHA-256 implementation (portable + x86 SHA extensions) lands here.
#ifndef CCCI_CSHA256_H
#define CCCI_CSHA256_H
int ccci_sha256_placeholder(void);
#endif
