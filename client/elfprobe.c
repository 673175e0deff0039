/*
 * Before exec: can LD_PRELOAD reach this program at all?
 *
 *  - No PT_INTERP program header: the kernel starts the program without
 *    the dynamic loader (a static binary, static-pie included), so
 *    LD_PRELOAD is never read.
 *  - A Go program (section .go.buildinfo or .note.go.buildid, or a "Go"
 *    build-id note): even when dynamically linked, Go's runtime makes its
 *    own connect system calls; only cgo's name lookups go through libc.
 *
 * Only the headers are read, in as few system calls as the layout allows
 * (this runs before every exec of the command, and before every exec of a
 * socksified program): the file's first 4 KiB in one pread, which usually
 * holds the ELF header, the program headers and the notes; then, for the
 * command only (sections), when no Go note was seen, the section header
 * table and its names, one pread each. Sizes are bounded. Anything that
 * is not an ELF file of this machine's byte order (a script, say) is
 * SOCKS5_ELF_OTHER, which needs no warning: its interpreter is what runs.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socks5_elf.h"

#define MAX_HEADERS 4096      /* program or section headers we look at */
#define MAX_SHSTRTAB (1 << 20)
#define MAX_NOTE 4096
#define HEAD 4096             /* bytes read first, at offset 0 */
#define MAX_SHTAB (1 << 20)   /* the section header table, read at once */

/* One header of either class, widened to what we need. */
struct ph { uint32_t type; uint64_t off, size; };
struct sh { uint32_t name, type; uint64_t off, size; };

/* Bytes already read: [off, off + len) of the file. */
struct win { const unsigned char *p; uint64_t off; size_t len; };

struct elf {
	int fd;
	struct win head;  /* the first HEAD bytes (fewer for a short file) */
	bool is64;
	uint64_t phoff, shoff;
	unsigned type, phnum, shnum, phentsize, shentsize, shstrndx;
};

/* The ELF header fields we use have the same names in Elf32_Ehdr and
 * Elf64_Ehdr, at other widths and offsets: one list widens either. */
#define TAKE_EHDR(e, h)                                \
	do {                                           \
		(e)->type = (h).e_type;                \
		(e)->phoff = (h).e_phoff;              \
		(e)->shoff = (h).e_shoff;              \
		(e)->phnum = (h).e_phnum;              \
		(e)->shnum = (h).e_shnum;              \
		(e)->phentsize = (h).e_phentsize;      \
		(e)->shentsize = (h).e_shentsize;      \
		(e)->shstrndx = (h).e_shstrndx;        \
	} while (0)

static bool read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got,
				  (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* From w when it holds the whole range, else with pread. */
static bool get(const struct elf *e, const struct win *w, void *buf,
		size_t len, uint64_t off)
{
	if (off >= w->off && off - w->off <= w->len &&
	    len <= w->len - (off - w->off)) {
		memcpy(buf, w->p + (off - w->off), len);
		return true;
	}
	return read_at(e->fd, buf, len, off);
}

static bool read_ehdr(struct elf *e)
{
	unsigned char id[EI_NIDENT];
	Elf64_Ehdr h64;
	Elf32_Ehdr h32;

	if (!get(e, &e->head, id, sizeof(id), 0) || memcmp(id, ELFMAG, SELFMAG))
		return false;
#if __BYTE_ORDER == __LITTLE_ENDIAN
	if (id[EI_DATA] != ELFDATA2LSB)
		return false;
#else
	if (id[EI_DATA] != ELFDATA2MSB)
		return false;
#endif
	e->is64 = id[EI_CLASS] == ELFCLASS64;
	if (e->is64) {
		if (!get(e, &e->head, &h64, sizeof(h64), 0))
			return false;
		TAKE_EHDR(e, h64);
	} else {
		if (id[EI_CLASS] != ELFCLASS32 ||
		    !get(e, &e->head, &h32, sizeof(h32), 0))
			return false;
		TAKE_EHDR(e, h32);
	}
	return e->type == ET_EXEC || e->type == ET_DYN;
}

static bool read_ph(const struct elf *e, unsigned i, struct ph *p)
{
	uint64_t off = e->phoff + (uint64_t)i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr h;

		if (e->phentsize < sizeof(h) ||
		    !get(e, &e->head, &h, sizeof(h), off))
			return false;
		*p = (struct ph){ h.p_type, h.p_offset, h.p_filesz };
	} else {
		Elf32_Phdr h;

		if (e->phentsize < sizeof(h) ||
		    !get(e, &e->head, &h, sizeof(h), off))
			return false;
		*p = (struct ph){ h.p_type, h.p_offset, h.p_filesz };
	}
	return true;
}

static bool read_sh(const struct elf *e, const struct win *w, unsigned i,
		    struct sh *s)
{
	uint64_t off = e->shoff + (uint64_t)i * e->shentsize;

	if (e->is64) {
		Elf64_Shdr h;

		if (e->shentsize < sizeof(h) || !get(e, w, &h, sizeof(h), off))
			return false;
		*s = (struct sh){ h.sh_name, h.sh_type, h.sh_offset, h.sh_size };
	} else {
		Elf32_Shdr h;

		if (e->shentsize < sizeof(h) || !get(e, w, &h, sizeof(h), off))
			return false;
		*s = (struct sh){ h.sh_name, h.sh_type, h.sh_offset, h.sh_size };
	}
	return true;
}

/* A PT_NOTE segment holding Go's build id: name "Go", type 4. Notes are
 * 4-byte aligned records: namesz, descsz, type, name, desc. */
static bool go_note(const struct elf *e, const struct ph *p)
{
	unsigned char buf[MAX_NOTE];
	size_t len = p->size < sizeof(buf) ? (size_t)p->size : sizeof(buf);
	size_t pos = 0;

	if (!get(e, &e->head, buf, len, p->off))
		return false;
	while (pos + 12 <= len) {
		uint32_t nsz, dsz, type;

		memcpy(&nsz, buf + pos, 4);
		memcpy(&dsz, buf + pos + 4, 4);
		memcpy(&type, buf + pos + 8, 4);
		pos += 12;
		if (nsz > len - pos)
			return false;
		if (type == 4 && nsz == 3 && !memcmp(buf + pos, "Go", 3))
			return true;
		pos += ((size_t)nsz + 3) & ~(size_t)3;
		if (dsz > len - pos)
			return false;
		pos += ((size_t)dsz + 3) & ~(size_t)3;
	}
	return false;
}

static bool go_sections(const struct elf *e)
{
	size_t tablen = (size_t)e->shnum * e->shentsize;
	unsigned char *tab;
	struct win w = { NULL, e->shoff, 0 };
	struct sh strtab, s;
	char *names = NULL;
	bool found = false;
	unsigned i;

	if (!e->shnum || e->shnum > MAX_HEADERS || e->shstrndx >= e->shnum ||
	    tablen > MAX_SHTAB)
		return false;
	tab = malloc(tablen);
	if (!tab)
		return false;
	if (!read_at(e->fd, tab, tablen, e->shoff))
		goto out;
	w.p = tab;
	w.len = tablen;
	if (!read_sh(e, &w, e->shstrndx, &strtab) || !strtab.size ||
	    strtab.size > MAX_SHSTRTAB)
		goto out;
	names = malloc((size_t)strtab.size + 1);
	if (!names || !read_at(e->fd, names, (size_t)strtab.size, strtab.off))
		goto out;
	names[strtab.size] = '\0';
	for (i = 0; i < e->shnum && !found; i++) {
		const char *n;

		if (!read_sh(e, &w, i, &s) || s.name >= strtab.size)
			continue;
		n = names + s.name;
		found = !strcmp(n, ".go.buildinfo") ||
			!strcmp(n, ".note.go.buildid");
	}
out:
	free(names);
	free(tab);
	return found;
}

enum socks5_elf_kind socks5_elf_probe_fd(int fd, bool sections)
{
	unsigned char head[HEAD];
	struct elf e = { .fd = fd, .head = { head, 0, 0 } };
	bool interp = false, go = false;
	struct ph p;
	unsigned i;
	ssize_t n;

	do
		n = pread(e.fd, head, sizeof(head), 0);
	while (n < 0 && errno == EINTR);
	e.head.len = n > 0 ? (size_t)n : 0;
	if (!read_ehdr(&e) || e.phnum > MAX_HEADERS)
		return SOCKS5_ELF_OTHER;
	for (i = 0; i < e.phnum; i++) {
		if (!read_ph(&e, i, &p))
			break;
		if (p.type == PT_INTERP)
			interp = true;
		else if (p.type == PT_NOTE && !go)
			go = go_note(&e, &p);
	}
	if (!go && sections)
		go = go_sections(&e);
	if (go)
		return interp ? SOCKS5_ELF_GO_DYNAMIC : SOCKS5_ELF_GO_STATIC;
	return interp ? SOCKS5_ELF_DYNAMIC : SOCKS5_ELF_STATIC;
}
