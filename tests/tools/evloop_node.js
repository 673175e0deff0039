// node: N net.connect (a line each, its echo read back) and N http.get
// (of /f1../f32) in parallel; prints how many succeeded and the sorted
// error codes ("-" for none), or "HANG" after 20 s. Run by
// tests/integration/test_evloop.sh and test_evloop_relay.sh.
// Usage: node evloop_node.js HOST ECHO_PORT HTTP_PORT N
const net = require("net"), http = require("http");
const [host, eport, hport, n] = process.argv.slice(2);
let pending = 2 * n, ok = 0; const errs = {};
const done = (e) => { if (e) errs[e.code || e.message] = 1; else ok++;
	if (--pending === 0) { console.log(ok, Object.keys(errs).sort().join(",") || "-"); process.exit(0); } };
for (let i = 0; i < n; i++) {
	let fin = false; const once = (e) => { if (!fin) { fin = true; done(e); } };
	const s = net.connect(+eport, host, () => s.write("node " + i + "\n"));
	let got = ""; s.on("data", (d) => { got += d; if (got === "node " + i + "\n") { s.end(); once(); } });
	s.on("error", once); s.on("close", () => once({ code: "CLOSED" }));
	let hfin = false; const honce = (e) => { if (!hfin) { hfin = true; done(e); } };
	http.get({ host, port: +hport, path: "/f" + (i % 32 + 1), agent: false }, (r) => {
		r.resume(); r.on("end", () => honce(r.statusCode === 200 ? null : { code: "HTTP" + r.statusCode }));
	}).on("error", honce);
}
setTimeout(() => { console.log(ok, "HANG"); process.exit(1); }, 20000);
