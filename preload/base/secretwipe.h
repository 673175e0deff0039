/*
 * After the configuration was parsed: the dead stack below the
 * constructor still holds temporaries of the parse (the proxy file's
 * text, pieces of the decoded URL) that no line of ours wiped; the
 * parsed configuration keeps the one copy of a password. (The vector
 * registers are cleared by libsocks5's parser: client/wipe.h.)
 */
#ifndef SOCKSIFY_PRELOAD_SECRETWIPE_H
#define SOCKSIFY_PRELOAD_SECRETWIPE_H

/* Zeroes 64 KiB of stack below the caller: for the constructor only (the
 * main thread's stack), after the configuration was parsed. */
void sfy_wipe_dead_stack(void);

#endif
