# socksify — see README.md. Outputs go to build/ only.
#   make               build/libsocksify.so, build/libsocks5.a, build/socksify
#   make check         install missing test dependencies (as root), run all tests
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan (build/san/)
#   make tsan          the preload and the threaded test tool under
#                      ThreadSanitizer (build/tsan/; make check builds it and
#                      runs test_concurrency's threaded cases with it)
#   make fuzz          libFuzzer targets, each run for FUZZ_SECONDS
#   make demo          curl through a real local SOCKS5 server
#   make install PREFIX=/usr/local DESTDIR=   (and make uninstall, same vars)
#   make clean

VERSION := 0.1.0
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=

ifeq ($(SANITIZE),1)
B := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(TSAN),1)
B := build/tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
else
B := build
SANFLAGS :=
endif

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Headers are named from their room: "base/config.h" from preload/, and the
# client core's public header as its users write it, "socks5.h".
INCLUDES := -Ipreload -Iclient/include
ALLCFLAGS := -std=gnu11 -D_GNU_SOURCE $(INCLUDES) -fPIC -fno-semantic-interposition $(WARN) $(SANFLAGS) $(CFLAGS) \
	-DSOCKSIFY_VERSION='"$(VERSION)"'
LDLIBS_PRELOAD := -ldl -lpthread

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

CLIENT_SRC := $(wildcard client/*.c)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(B)/%.o)
PRELOAD_SRC := $(wildcard preload/*.c preload/*/*.c)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(B)/%.o)
TOOL_SRC := $(wildcard tools/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
UNIT_HELPERS := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
TESTTOOL_SRC := $(wildcard tests/tools/*.c)
TESTTOOL_BIN := $(TESTTOOL_SRC:tests/tools/%.c=$(B)/tests/tools/%)
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

.PHONY: all check unit integration deps fuzz demo bench clean install uninstall tsan
all: $(B)/libsocks5.a $(B)/libsocksify.so $(B)/socksify

HEADERS := $(wildcard client/*.h client/include/*.h preload/*/*.h tools/*.h)
$(B)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -c $< -o $@

# The installed archive is linked into other programs: every global name
# it defines is socks5_-prefixed (the rest is static), or the build fails.
$(B)/libsocks5.a: $(CLIENT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
	@bad=$$(nm -g --defined-only $@ | awk 'NF == 3 && $$3 !~ /^socks5_/ { print $$3 }'); \
	if [ -n "$$bad" ]; then \
		echo "$@: global names without the socks5_ prefix:" $$bad >&2; \
		rm -f $@; exit 1; \
	fi

# The preload's objects as an archive too, so unit tests can link the pieces
# they test (fake-IP map, policy) without pulling in the hooks.
$(B)/libsocksify_internal.a: $(filter-out $(B)/preload/init.o,$(PRELOAD_OBJ))
	rm -f $@ && ar rcs $@ $^

# Refused when the library calls one of its own exported names through
# the PLT (tools/plt-check.sh): internal calls use the hidden internal
# names or the table of real functions.
$(B)/libsocksify.so: $(PRELOAD_OBJ) $(B)/libsocks5.a preload/exports.map tools/plt-check.sh
	$(CC) $(ALLCFLAGS) -shared -Wl,--version-script=preload/exports.map \
		-Wl,-z,now -o $@.tmp $(PRELOAD_OBJ) $(B)/libsocks5.a $(LDLIBS_PRELOAD)
	sh tools/plt-check.sh $@.tmp
	mv -f $@.tmp $@

# The command is linked statically (static-pie, so still ASLR): it runs
# before every program it starts, and a static binary skips the dynamic
# loader's work. Measured up to its exec (socksify -x URL /bin/true, Debian
# 12, glibc 2.36): 93k instructions static against 194k dynamic
# (callgrind), 26 against 44 system calls, 37 against 61 page faults;
# 0.3 to 0.9 ms more per start, dynamic, on a busy 2-core machine. So it
# stays static, and it never calls getaddrinfo: a static getaddrinfo
# dlopens the NSS modules nsswitch.conf names, loading the system's
# libc.so.6 into the static process (a second C library, or a crash after a
# glibc upgrade or with a broken module). --check, the only mode that looks
# names up, asks getent(1) in a child process (tools/resolve.c). Not
# static under the sanitizers, which need the dynamic runtime.
TOOL_LDFLAGS := $(if $(SANFLAGS),,-static-pie)
$(B)/socksify: $(TOOL_SRC) $(B)/libsocks5.a $(wildcard tools/*.h)
	$(CC) $(ALLCFLAGS) $(TOOL_LDFLAGS) -o $@ $(TOOL_SRC) $(B)/libsocks5.a

# Unit tests link the library's constructor (init.o) as the library runs
# it, and from the archive only the pieces they use.
$(B)/tests/%: tests/unit/%.c $(UNIT_HELPERS) $(B)/preload/init.o $(B)/libsocks5.a $(B)/libsocksify_internal.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(CHECK_CFLAGS) -o $@ $< $(UNIT_HELPERS) $(filter $(B)/tools/%.o,$^) \
		$(B)/preload/init.o $(B)/libsocksify_internal.a $(B)/libsocks5.a $(CHECK_LIBS) $(LDLIBS_PRELOAD)

# A unit test of a piece of the command links that piece's object.
$(B)/tests/test_proxychains_conf: $(B)/tools/proxychains_conf.o $(B)/tools/proxychains_list.o $(B)/tools/proxychains_dnat.o

$(B)/tests/tools/%: tests/tools/%.c $(wildcard tests/tools/*.h) $(B)/libsocks5.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -o $@ $< $(B)/libsocks5.a -lpthread $(TESTTOOL_LIBS)
# io_uring through liburing, the census rows no hook can see.
$(B)/tests/tools/leakcensus-uring: TESTTOOL_LIBS := -luring

deps:
	@sh tools/install-deps.sh
	@sh tools/build-dante-gssapi.sh build/dante-gssapi || \
		echo "deps: no dante with GSSAPI; test_gssapi.sh will try again"

check: deps
	@$(MAKE) --no-print-directory all-tests SANITIZE=$(SANITIZE)
	@B=$(B) SANITIZE=$(SANITIZE) sh tests/run.sh

all-tests: all $(UNIT_BIN) $(TESTTOOL_BIN) $(BENCH_BIN) $(if $(filter 1,$(SANITIZE)),,tsan)

# Only what a TSan run needs: a TSan preload goes only into TSan programs.
tsan:
	@$(MAKE) --no-print-directory TSAN=1 SANITIZE= build/tsan/libsocksify.so \
		build/tsan/tests/tools/stress build/tsan/tests/tools/procshapes \
		build/tsan/tests/test_fdstate build/tsan/tests/test_fakeip \
		build/tsan/tests/test_fakeip_session \
		build/tsan/tests/test_policy build/tsan/tests/test_chainpick

FUZZ_SECONDS ?= 20
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/%: tests/fuzz/%.c $(CLIENT_SRC) $(wildcard client/*.h client/include/*.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -D_GNU_SOURCE $(INCLUDES) -g -O1 -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(CLIENT_SRC)
# fuzz_pipeline.c #includes fuzz_handshake.c (built with -DFUZZ_PIPELINE).
build/fuzz/fuzz_pipeline: tests/fuzz/fuzz_handshake.c
fuzz: deps $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

demo: deps all
	@sh tools/demo.sh

# Benchmark programs (BENCH_BIN, defined above all-tests, which needs it
# expanded): each tests/bench/*.c is one program (libsocks5 for the native
# client), built for `make bench` and its smoke test.
$(B)/bench/%: tests/bench/%.c $(B)/libsocks5.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -o $@ $< $(B)/libsocks5.a -lpthread

bench: all $(BENCH_BIN) $(B)/tests/tools/evloop $(B)/tests/tools/ttfb
	@sh tools/install-deps.sh bench
	@B=$(B) sh tests/bench/run.sh

# The installed command finds the library in ../lib/ beside its bin/, so
# the layout under PREFIX is fixed. The header goes to include/socksify/:
# programs write #include <socksify/socks5.h>.
BINDIR := $(PREFIX)/bin
LIBDIR := $(PREFIX)/lib
INCDIR := $(PREFIX)/include/socksify
PUBLIC_HEADERS := $(wildcard client/include/*.h)
PCDIR := $(LIBDIR)/pkgconfig
MAN1DIR := $(PREFIX)/share/man/man1

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(PCDIR) $(DESTDIR)$(MAN1DIR)
	install -m 755 $(B)/socksify $(DESTDIR)$(BINDIR)/socksify
	install -m 644 $(B)/libsocksify.so $(DESTDIR)$(LIBDIR)/libsocksify.so
	install -m 644 $(B)/libsocks5.a $(DESTDIR)$(LIBDIR)/libsocks5.a
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCDIR)/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' \
		'includedir=$${prefix}/include' '' 'Name: libsocks5' \
		'Description: SOCKS5 client core (RFC 1928, RFC 1929): codec, proxy URLs, handshake driver' \
		'Version: $(VERSION)' 'Cflags: -I$${includedir}' \
		'Libs: -L$${libdir} -lsocks5' >$(DESTDIR)$(PCDIR)/libsocks5.pc
	chmod 644 $(DESTDIR)$(PCDIR)/libsocks5.pc
	install -m 644 man/socksify.1 $(DESTDIR)$(MAN1DIR)/socksify.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/socksify $(DESTDIR)$(LIBDIR)/libsocksify.so \
		$(DESTDIR)$(LIBDIR)/libsocks5.a \
		$(addprefix $(DESTDIR)$(INCDIR)/,$(notdir $(PUBLIC_HEADERS))) \
		$(DESTDIR)$(PCDIR)/libsocks5.pc $(DESTDIR)$(MAN1DIR)/socksify.1
	-rmdir $(DESTDIR)$(INCDIR) 2>/dev/null

clean:
	rm -rf build
