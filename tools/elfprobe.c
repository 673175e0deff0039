/* The command's probe of the program it runs: client/elfprobe.c, with the
 * section names read too (this runs once, before exec). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "tool.h"

int sfy_elf_probe(const char *path, enum socks5_elf_kind *kind)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*kind = SOCKS5_ELF_OTHER;
	if (fd < 0)
		return -errno;
	*kind = socks5_elf_probe_fd(fd, true);
	close(fd);
	return 0;
}
