# python asyncio, N concurrent open_connection to HOST PORT (an echo
# server), each writes a line and reads its echo: prints the sorted set of
# outcomes (OK, an errno name, EOF, BAD, HANG) and how many were OK. Run
# by tests/integration/test_evloop.sh and test_evloop_relay.sh.
# Usage: python3 evloop_asyncio.py HOST PORT N. Bounded: 10 s a step.
import asyncio, errno, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


async def one(i):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        msg = b"asyncio %d\n" % i
        w.write(msg)
        await asyncio.wait_for(w.drain(), 10)
        got = await asyncio.wait_for(r.readexactly(len(msg)), 10)
        w.close()
        return "OK" if got == msg else "BAD"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    except asyncio.IncompleteReadError:
        return "EOF"
    except asyncio.TimeoutError:
        return "HANG"


async def main():
    res = await asyncio.gather(*(one(i) for i in range(n)))
    print(" ".join(sorted(set(res))), res.count("OK"))


asyncio.run(main())
