/*
 * publish.h - pieces shared by the publisher verbs (db_publish.c) and the
 * update client (update_cmd.c): SHA-256 of files and buffers, hex, and the
 * static layout of a log (C2SP tlog-tiles paths).
 */
#ifndef VIGIL_PUBLISH_H
#define VIGIL_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#define VP_TILE_WIDTH 256u

void vp_sha256(const void *data, size_t len, uint8_t out[32]);
/* SHA-256 and size of a file; -1 with errno on failure. */
int vp_sha256_file(const char *path, uint8_t out[32], uint64_t *size);
void vp_hex(const uint8_t *in, size_t n, char *out);
/* base64 of 32 bytes (44 characters and a NUL) */
void vp_b64_32(const uint8_t in[32], char out[45]);

/* "tile/0/x001/234" or "tile/0/000.p/17": the path of level-0 tile n of a
 * tree of size `size` (partial when it is the last, incomplete tile). */
void vp_tile_path(uint64_t n, uint64_t size, char *out, size_t cap);

/* Parses the tiles' bytes: the leaf hashes of tile n (width hashes). */

#endif /* VIGIL_PUBLISH_H */
