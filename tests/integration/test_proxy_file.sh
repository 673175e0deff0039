#!/bin/bash
# SOCKSIFY_PROXY_FILE read the same way by `socksify --check` and by the
# library in a socksified program (one reader, client/proxyfile.c):
#   - a line with a trailing comment ("URL  # office proxy") works in both
#     (issue 12: the command cut at the first blank, the library kept the
#     blanks and refused 'port "1080  "', so every connection failed);
#   - exactly 4096 bytes is read by both;
#   - a file refused by one is refused by the other with the same message:
#     text after the URL, garbage, too large, a symbolic link, open to others,
#     a FIFO;
#   - socksify -f (proxychains.conf, its own reader) does not hang on a FIFO.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_PROXY_FILE SOCKSIFY_NO_PROXY SOCKSIFY_LOG \
	SOCKSIFY_LOG_FILE ALL_PROXY all_proxy NO_PROXY no_proxy
if [ "${SANITIZE:-0}" = 1 ]; then
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi

MS=$(free_port) && WEB=$(free_port) || exit 1
mkdir -p "$T/www" && echo "hello through the proxy" >"$T/www/index.txt"
EXTERNAL=127.0.0.3 start_microsocks ms "$MS" && start_http web "$WEB" "$T/www" || {
	fail proxy_file_setup "could not start microsocks or the web server"
	finish
}
PF=$T/proxy.url

# The socksified program: curl, or (under SANITIZE=1, where curl hangs in
# the ASan runtime alone: lib.sh's sfy_preload_works) python3's urllib.
GET=(curl -sS --max-time 10)
if [ "${SANITIZE:-0}" = 1 ] &&
   ! sfy_preload_works curl -sS --max-time 2 file:///dev/null; then
	skip proxy_file_with_curl "curl hangs under the ASan runtime alone; python3 stands in"
	GET=("$PY" -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())')
fi

# check_says FILE: what `socksify --check` says of the file after
# "SOCKSIFY_PROXY_FILE: " in $check_msg (empty when it accepts it); its
# exit status in $check_rc, its output in $check_out.
check_says() {
	check_out=$(SOCKSIFY_UDP=block SOCKSIFY_PROXY_FILE=$1 timeout 30 \
		env "${SFY_RUN_ENV[@]}" "$B/socksify" --check "127.0.0.1:$WEB" 2>&1)
	check_rc=$?
	check_msg=$(sed -n 's/^socksify: SOCKSIFY_PROXY_FILE: //p' <<<"$check_out" | head -n 1)
}

# curl_says FILE: curl ($GET) preloaded with the file; the library's message (the
# same part) in $lib_msg, empty when it had none; the page in $curl_body,
# curl's exit status in $curl_rc.
curl_says() {
	curl_body=$(SOCKSIFY_PROXY_FILE=$1 SOCKSIFY_NO_PROXY= SOCKSIFY_LOG=warn \
		timeout 30 env "${SFY_PRELOAD_ENV[@]}" "${GET[@]}" \
		"http://127.0.0.1:$WEB/index.txt" 2>"$T/curl.err")
	curl_rc=$?
	lib_msg=$(sed -n 's/^socksify\[[0-9]*\]: error: SOCKSIFY_PROXY_FILE: \(.*\); network connections will fail.*/\1/p' \
		"$T/curl.err" | head -n 1)
}

peers() {
	awk '{ print $1 }' "$T/web.peers" | sort -u | tr '\n' ' '
}

# ---- accepted by both, and used --------------------------------------------------
# accepted NAME: the file at $PF passes --check and carries curl's request
# through microsocks (which goes out from 127.0.0.3).
accepted() {
	local name=$1 c l
	check_says "$PF"
	c=$check_msg
	: >"$T/web.peers"
	curl_says "$PF"
	l=$lib_msg
	if [ "$check_rc" = 0 ] && [ -z "$c" ] && [ -z "$l" ] && [ "$curl_rc" = 0 ] &&
	   [ "$curl_body" = "hello through the proxy" ] && [ "$(peers)" = "127.0.0.3 " ]; then
		pass "$name"
	else
		fail "$name" "check rc=$check_rc '$check_out'; curl rc=$curl_rc body='$curl_body' peers='$(peers)' stderr: $(head -c 400 "$T/curl.err")"
	fi
}

printf 'socks5://127.0.0.1:%s  # office proxy\n' "$MS" >"$PF"
chmod 600 "$PF"
accepted proxy_file_trailing_comment_both

printf '# proxies\r\n\r\n\tsocks5h://127.0.0.1:%s\t# tab, CRLF\r\n' "$MS" >"$PF"
accepted proxy_file_comments_crlf_both

# exactly the limit: a URL line, then comment up to 4096 bytes
{
	printf 'socks5://127.0.0.1:%s\n' "$MS"
	head -c 4096 /dev/zero | tr '\0' '#'
} | head -c 4095 >"$PF"
echo >>"$PF"
if [ "$(stat -c %s "$PF")" = 4096 ]; then
	accepted proxy_file_4096_bytes_both
else
	fail proxy_file_4096_bytes_both "file is $(stat -c %s "$PF") bytes"
fi

# ---- refused by both, with the same message ---------------------------------------
# refused NAME FILE PATTERN: --check exits 2, the library refuses (curl
# fails, nothing reaches the web server), both say the same, matching
# PATTERN.
refused() {
	local name=$1 file=$2 pat=$3 c l
	check_says "$file"
	c=$check_msg
	: >"$T/web.peers"
	curl_says "$file"
	l=$lib_msg
	if [ "$check_rc" = 2 ] && [ -n "$c" ] && [ "$c" = "$l" ] && [ "$curl_rc" != 0 ] &&
	   grep -qE -- "$pat" <<<"$c" && [ -z "$(peers)" ]; then
		pass "$name"
	else
		fail "$name" "check rc=$check_rc says '$c'; library says '$l' (curl rc=$curl_rc, peers '$(peers)'); check out: $check_out; curl stderr: $(head -c 400 "$T/curl.err")"
	fi
}

printf 'socks5://127.0.0.1:%s extra words\n' "$MS" >"$PF"
chmod 600 "$PF"
refused proxy_file_text_after_url "$PF" "^'$PF' line 1: "

printf '# ok\nsocks5://127.0.0.1:%s\nthis is not a url\n' "$MS" >"$PF"
refused proxy_file_garbage_line "$PF" "^'$PF' line 3: "

{
	printf 'socks5://127.0.0.1:%s\n' "$MS"
	head -c 4096 /dev/zero | tr '\0' '#'
} >"$PF"
refused proxy_file_too_large "$PF" "is larger than 4096 bytes"

printf 'socks5://127.0.0.1:%s\n' "$MS" >"$PF"
ln -s "$PF" "$T/link.url"
refused proxy_file_symlink "$T/link.url" "is a symbolic link"

chmod 640 "$PF"
refused proxy_file_group_readable "$PF" "mode 0640.*chmod 600"
chmod 600 "$PF"

mkfifo -m 600 "$T/fifo.url"
refused proxy_file_fifo "$T/fifo.url" "is not a regular file"

refused proxy_file_missing "$T/nonexistent" "cannot open '$T/nonexistent'"

# The same cause in the proxychains.conf reader (-f, a different format and
# reader): it opened without O_NONBLOCK and waited forever on a FIFO.
out=$(timeout 10 env "${SFY_RUN_ENV[@]}" "$B/socksify" -f "$T/fifo.url" --env 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "not a regular file" <<<"$out"; then
	pass proxychains_conf_fifo_not_waited
else
	fail proxychains_conf_fifo_not_waited "rc=$rc (124: hung on the FIFO): $out"
fi

finish
