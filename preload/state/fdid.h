/*
 * The identity of an open file behind a descriptor number: the number
 * can change hands behind the library's back (a raw close or close_range,
 * a sweep by another thread, dup2 onto it), so a descriptor the library
 * keeps is checked against the identity it noted before it is read,
 * written or closed. Sockets, pipes and files all have a unique
 * (st_dev, st_ino) while open. Internal, hidden; one fstat per check.
 */
#ifndef SOCKSIFY_PRELOAD_FDID_H
#define SOCKSIFY_PRELOAD_FDID_H

#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>

struct sfy_fd_id {
	dev_t dev;
	ino_t ino;
};

/* Notes fd's identity; false (id zeroed) when fd is not open. */
static inline bool sfy_fd_id_note(int fd, struct sfy_fd_id *id)
{
	struct stat st;
	int saved = errno;
	bool ok = fstat(fd, &st) == 0;

	id->dev = ok ? st.st_dev : 0;
	id->ino = ok ? st.st_ino : 0;
	errno = saved;
	return ok;
}

/* fd still holds the file whose identity id noted. */
static inline bool sfy_fd_id_same(int fd, const struct sfy_fd_id *id)
{
	struct sfy_fd_id now;

	return fd >= 0 && sfy_fd_id_note(fd, &now) && now.ino == id->ino &&
	       now.dev == id->dev && id->ino != 0;
}

#endif
