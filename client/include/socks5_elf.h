/*
 * libsocks5: what LD_PRELOAD can do for a program, from its ELF headers
 * (client/elfprobe.c): one reader for the socksify command, which probes
 * the program it runs, and for libsocksify.so, which probes every program
 * a socksified program execs (issue 18's exec rule).
 */
#ifndef SOCKS5_ELF_H
#define SOCKS5_ELF_H

#include <stdbool.h>

enum socks5_elf_kind {
	SOCKS5_ELF_OTHER,      /* not an ELF executable of ours: a script, ... */
	SOCKS5_ELF_DYNAMIC,    /* the usual case: LD_PRELOAD works */
	SOCKS5_ELF_STATIC,     /* no dynamic loader: LD_PRELOAD is never read */
	SOCKS5_ELF_GO_DYNAMIC, /* Go: its own connect system calls */
	SOCKS5_ELF_GO_STATIC,
};

/*
 * Reads the headers of the file open for reading on fd, with pread only:
 * the first 4 KiB, then program headers or notes beyond it if any. With
 * sections, a file with no Go note also has its section names read (two
 * more preads and two mallocs): Go builds that carry .go.buildinfo only.
 * Without, no malloc, async-signal-safe (execve's hook runs it). Never
 * fails: what is not readable as an ELF executable is SOCKS5_ELF_OTHER.
 */
enum socks5_elf_kind socks5_elf_probe_fd(int fd, bool sections);

#endif
