# SPDX-License-Identifier: MIT
# The man page and the bash completion, against the binary (sourced by
# tests.sh).  The Makefile stages docs/usbox.1 and contrib/completion/usbox.bash
# with the helpers, as $HELPERS/usbox.1 and $HELPERS/usbox.bash.  What the
# binary has is read from its --help at test time, so these fail exactly when
# the help and the documentation disagree.

docs_file() { # NAME: the staged copy of a documentation file
	local f="${HELPERS:-}/$1"
	[ -r "$f" ] || { echo "FAIL: $f is not staged (make check-integration stages it with the helpers)"; return 1; }
	echo "$f"
}

# Option names in help text on stdin: those in its usage lines and in the
# first column of its option lines ("  -e, --env K=V    set ...").
help_opts() {
	awk '/^[Uu]sage: / || /^ +usbox / { print; next }
	     /^ +-/ { sub(/^ +/, ""); sub(/  .*/, ""); print }' |
		grep -oE -- '(^|[][ ,|(])--?[A-Za-z][-A-Za-z0-9]*' | sed -E 's/^[][ ,|(]//' | sort -u
}

# The man page's items: SECTION<TAB>SUBSECTION<TAB>TAG, one a .TP item,
# with fonts, quotes and the macro name taken off.
man_items() {
	awk 'function plain(s) { gsub(/\\f[BIRP]/, "", s); gsub(/\\-/, "-", s); gsub(/\\e/, "\\", s); gsub(/"/, " ", s); return s }
	     /^\.SH / { sh = plain(substr($0, 5)); sub(/^ +/, "", sh); sub(/ +$/, "", sh); ss = ""; next }
	     /^\.SS / { ss = plain(substr($0, 5)); sub(/^ +/, "", ss); next }
	     /^\.TP/ { tp = 1; next }
	     tp { tp = 0; t = plain($0); sub(/^\.[A-Z]+ */, "", t); print sh "\t" ss "\t" t }' "$1"
}

# The commands the man page describes: the first word of each subsection
# under COMMANDS.
man_commands() {
	awk 'function plain(s) { gsub(/\\f[BIRP]/, "", s); gsub(/\\-/, "-", s); gsub(/"/, "", s); return s }
	     /^\.SH / { sh = plain(substr($0, 5)) }
	     /^\.SS / && sh ~ /COMMANDS/ { split(plain(substr($0, 5)), w, " "); print w[1] }' "$1" | sort -u
}

# Option names in the tags on stdin.
tag_opts() { grep -oE -- '(^|[][ ,|(])--?[A-Za-z][-A-Za-z0-9]*' | sed -E 's/^[][ ,|(]//' | sort -u; }

# The commands usbox --help names in lists: `usbox images|import|rmi|image
# inspect` (images, import, rmi, image), `usbox network create|ls|rm` (network).
help_commands() {
	"$U" --help | grep -oE 'usbox [a-z]+( [a-z]+)?(\|[a-z]+)+' | sed -E 's/^usbox //; s/ .*//' | tr '|' '\n' | sort -u
}

# own_help WORD: the --help of usbox's command WORD, if it has one of its
# own (a word usbox does not know runs a program; that one's help is not it).
own_help() {
	local f="$work/.help-$1" out
	if [ ! -e "$f" ]; then
		out=$("$U" "$1" --help 2>/dev/null) && [[ $out =~ ^[Uu]sage:\ usbox\ $1( |$) ]] || out=""
		printf '%s' "$out" >"$f"
	fi
	[ -s "$f" ] && cat "$f"
}

expect_none() { # LIST WHAT: LIST (lines) is empty
	[ -z "$1" ] || { echo "FAIL: $2: $(tr '\n' ' ' <<<"$1")"; return 1; }
}

t_docs_man_run_options() {
	local man help in_man in_options
	man=$(docs_file usbox.1) || return 1
	help=$("$U" --help | help_opts)
	[ "$(wc -l <<<"$help")" -gt 40 ] || fail "usbox --help lists only: $help" || return 1
	# Every option of the help is an item of the man page (under OPTIONS, or
	# `run`'s own under COMMANDS); every item under OPTIONS is in the help.
	in_man=$(man_items "$man" | awk -F'\t' '$1 == "OPTIONS" || ($1 == "COMMANDS" && $2 ~ /^run( |$)/) { print $3 }' | tag_opts)
	in_options=$(man_items "$man" | awk -F'\t' '$1 == "OPTIONS" { print $3 }' | tag_opts)
	local rc=0
	expect_none "$(comm -23 <(echo "$help") <(echo "$in_man"))" "in usbox --help but not in the man page" || rc=1
	expect_none "$(comm -13 <(echo "$help") <(echo "$in_options"))" "in the man page's OPTIONS but not in usbox --help" ||
		rc=1
	return $rc
}

t_docs_man_commands() {
	local man cmds w out rc=0 help in_man checked=0
	man=$(docs_file usbox.1) || return 1
	cmds=$(help_commands)
	[ -n "$cmds" ] || fail "usbox --help names no commands" || return 1
	expect_none "$(comm -23 <(echo "$cmds") <(man_commands "$man"))" "commands usbox --help names but the man page does not" ||
		return 1
	# A command with a --help of its own (named by usbox --help or by the man
	# page): its options both ways.
	for w in $(sort -u <(echo "$cmds") <(man_commands "$man")); do
		out=$(own_help "$w") || continue
		checked=$((checked + 1))
		help=$(help_opts <<<"$out" | grep -vxE -- '-h|--help')
		in_man=$(man_items "$man" | awk -F'\t' -v w="$w" '$1 == "COMMANDS" { split($2, a, " "); if (a[1] == w) print $3 }' |
			tag_opts | grep -vxE -- '-h|--help')
		expect_none "$(comm -23 <(echo "$help") <(echo "$in_man"))" "in usbox $w --help but not in the man page" || rc=1
		expect_none "$(comm -13 <(echo "$help") <(echo "$in_man"))" "in the man page for $w but not in usbox $w --help" || rc=1
	done
	[ "$checked" -gt 0 ] || fail "no command has a --help of its own (usbox network --help had one)" || return 1
	return $rc
}

t_docs_man_renders() {
	local man out
	man=$(docs_file usbox.1) || return 1
	command -v groff >/dev/null || { skip "groff is missing (install groff-base)"; return; }
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$man" 2>&1)
	expect_eq "$out" "" "groff's warnings" &&
	expect_eq "$(sed -n 's/^\.TH .*"usbox \([^"]*\)".*/\1/p' "$man")" "$("$U" --version | sed 's/^usbox //')" \
		"the man page's version"
}

# complete WORD... : what _usbox offers for the last WORD (which may be
# empty), as bash would call it for that command line
complete_words() {
	bash --norc --noprofile -c '. "$1" && shift && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) &&
		COMP_LINE="$*" && COMP_POINT=${#COMP_LINE} && _usbox && printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP_FILE" "$U" "$@"
}

# expect_offers WANT WORD... : _usbox offers WANT (among others) for WORD...
expect_offers() {
	local want=$1 got
	shift
	got=$(complete_words "$@")
	grep -qxF -- "$want" <<<"$got" ||
		{ echo "FAIL: usbox $* <TAB>: '$want' not offered; got: $(head -n 20 <<<"$got" | tr '\n' ' ')"; return 1; }
}

t_docs_bash_completion() {
	COMP_FILE=$(docs_file usbox.bash) || return 1
	local img=usbox-t-comp:1 net=usbox-t-compnet ctr=usbox-t-compc bb
	bb=$(command -v busybox) || { skip "busybox is missing (install busybox-static)"; return; }
	mkdir -p rootfs/bin && cp "$bb" rootfs/bin/busybox && tar -C rootfs -cf rootfs.tar . || return 1
	"$U" rm "$ctr" >/dev/null 2>&1
	"$U" rmi -f "$img" >/dev/null 2>&1
	"$U" network rm "$net" >/dev/null 2>&1 # leftovers of an interrupted run
	"$U" import -q rootfs.tar "$img" >/dev/null || return 1
	trap '"$U" rm -f '"$ctr"' >/dev/null 2>&1; "$U" rmi -f '"$img"' >/dev/null 2>&1; "$U" network rm '"$net"' >/dev/null 2>&1' RETURN
	"$U" network create "$net" >/dev/null || return 1
	# commands, options and their values, names
	expect_offers images im &&
	expect_offers import im &&
	expect_offers network n &&
	expect_offers --image --ima &&
	expect_offers --read-only run --re &&
	expect_offers --stats=json -e A=1 --sta &&
	expect_offers "$img" --image "" &&
	expect_offers "$img" --rm -it --image u &&
	expect_offers "$img" rmi "" &&
	expect_offers 1 rmi "${img%1}" &&
	expect_offers "$img" "--image=${img%:1}" &&
	expect_offers json --stats= &&
	expect_offers "$net" --net "" &&
	expect_offers slirp --net "" &&
	expect_offers NET_RAW --cap-add NET_ &&
	expect_offers create network "" &&
	expect_offers "$net" network rm "" &&
	expect_offers --format images --f &&
	expect_offers --subnet network create --s || return 1
	# After the options, a command; `usbox --rm` is an option, `usbox rm` a command.
	expect_offers bash --net none ba &&
	expect_offers bash -- ba &&
	[ -z "$(complete_words --image "$img" sh --ima)" ] || fail "an option offered after the command" || return 1
	# The options of a command with a --help of its own are in the table of
	# its options (a sandbox's come from --help itself).
	local w opt out
	for w in $(sort -u <(help_commands) <(man_commands "$(docs_file usbox.1)")); do
		out=$(own_help "$w") || continue
		for opt in $(help_opts <<<"$out" | grep -vxE -- '-h|--help'); do
			grep -qE -- "^[[:space:]]*\[$w( [a-z]+)?\]=\"([^\"]* )?$opt( |\")" "$COMP_FILE" ||
				fail "usbox $w --help has $opt, the completion's table of $w's options does not" || return 1
		done
	done
	# Container names, once usbox has ps (its --help names it).
	if help_commands | grep -qx ps; then
		"$U" run --net none --name "$ctr" --image "$img" -- /bin/busybox true || return 1
		expect_offers "$ctr" rm "" &&
		expect_offers "$ctr" logs -f ""
	fi
}
