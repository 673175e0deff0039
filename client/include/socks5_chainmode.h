/*
 * libsocks5: the chain-mode settings (SOCKSIFY_CHAIN, SOCKSIFY_CHAIN_LEN),
 * one reader for the socksify command and for libsocksify.so, so that a
 * value one refuses the other refuses with the same words.
 *
 * Modes, in this order: strict, dynamic, random, round-robin (any case).
 * A length only where the mode takes one (random, round-robin: 1 by
 * default, as proxychains-ng's chain_len), at most the hops configured; a
 * strict or dynamic chain is every hop.
 */
#ifndef SOCKS5_CHAINMODE_H
#define SOCKS5_CHAINMODE_H

#include <stddef.h>

enum socks5_chain_mode { SOCKS5_CHAIN_STRICT, SOCKS5_CHAIN_DYNAMIC,
			 SOCKS5_CHAIN_RANDOM, SOCKS5_CHAIN_ROUND_ROBIN };

/* The mode's name as SOCKSIFY_CHAIN spells it ("strict" for a value out
 * of range); never NULL. (A function, not an array: the archive exports
 * no data, whose sanitizer twins would not be socks5_-prefixed.) */
const char *socks5_chain_mode_name(int mode);

/*
 * mode and len are the two settings' values (NULL or empty: not given),
 * for a chain of nhops. Returns 0 with *mode_out and *len_out (strict or
 * dynamic: nhops), or -1 with *var naming the setting at fault and why[]
 * saying what is wrong with its value ("'x' is not strict, dynamic,
 * ..."); *mode_out and *len_out then hold what was read before it. No
 * allocation: usable from a constructor.
 */
int socks5_chain_mode_parse(const char *mode, const char *len, size_t nhops,
			    int *mode_out, size_t *len_out, const char **var,
			    char *why, size_t whycap);

#endif
