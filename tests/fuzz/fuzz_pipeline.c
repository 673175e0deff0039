/*
 * The handshake driver with pipelined hops (socks5_handshake_ex): the
 * greeting, credentials and request of the chosen hops go out in one write
 * and their replies are parsed back to back, with the read-ahead into
 * replies still due. Same harness and invariants as fuzz_handshake.c (the
 * read-ahead must never reach past the last reply); see its comment for
 * the input layout.
 */
#define FUZZ_PIPELINE 1
#include "fuzz_handshake.c"
