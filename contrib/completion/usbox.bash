# SPDX-License-Identifier: MIT
# bash completion for usbox: commands, options, and image, container and
# network names.  Installed as share/bash-completion/completions/usbox; or
# source it from ~/.bashrc.  zsh can use it too: autoload -U bashcompinit &&
# bashcompinit && source usbox.bash.
#
# The options of a sandbox come from `usbox --help` itself (read once per
# shell), so they match the binary; names come from `usbox images --format
# json`, `usbox network ls -q` and `usbox ps -a`, where the binary has ps.
# Self-contained: it needs nothing from the bash-completion package.

# The commands usbox has besides run, and the options each takes.
_usbox_cmds="run images image import load save rmi rm commit export network ps logs exec stop kill wait inspect attach doctor"
declare -A _usbox_cmd_opts=(
	[images]="-q --quiet --format"
	[import]="-q --quiet"
	[load]="-i --input -q --quiet"
	[save]="-o --output"
	[rmi]="-f --force"
	[rm]="-f --force"
	[export]="-o --output"
	[ps]="-a --all -q --quiet --format"
	[logs]="-f --follow -n --tail -t --timestamps"
	[exec]="-i --interactive -t --tty -d --detach -e --env -w --workdir -u --user"
	[stop]="-t --time"
	[kill]="-s --signal"
	[doctor]="--json"
	[network create]="--subnet --allow-host-loopback --allow --log"
	[network ls]="-q"
)
# those of them that take a value (the next word is not a name)
declare -A _usbox_cmd_takes=(
	[images]="--format"
	[load]="-i --input"
	[save]="-o --output"
	[export]="-o --output"
	[ps]="--format"
	[logs]="-n --tail"
	[exec]="-e --env -w --workdir -u --user"
	[stop]="-t --time"
	[kill]="-s --signal"
	[network create]="--subnet --allow --log"
)

# `usbox --help`, once per shell and binary.
_usbox_help() {
	if [[ ${_usbox_help_of-} != "$1" ]]; then
		_usbox_help_text=$("$1" --help 2>/dev/null)
		_usbox_help_of=$1
	fi
	printf '%s\n' "$_usbox_help_text"
}

# The sandbox's options, from the first column of --help's option lines.
_usbox_run_opts() {
	_usbox_help "$1" | sed -n -E 's/^ +(-.*)/\1/p' | sed -E 's/  .*//' |
		grep -oE -- '(^|[ ,])--?[A-Za-z][-A-Za-z0-9]*(\[=json\])?' | sed -E 's/^[ ,]//; s/\[=json\]/ --stats=json/'
}

# Options of a sandbox that take a value: those whose help shows one.
_usbox_run_takes_arg() {
	_usbox_help "$1" | sed -n -E 's/^ +(-.*)/\1/p' | sed -E 's/  .*//' | grep -E -- ' [^ -]' |
		grep -qE -- "(^|[ ,])$2( |,|$)"
}

_usbox_images() {
	"$1" images --format json 2>/dev/null | grep -oE '"Names": \[[^]]*\]' | grep -oE '"[^"]+"' |
		grep -v '^"Names"$' | tr -d '"'
}

_usbox_networks() { "$1" network ls -q 2>/dev/null; }

# The commands this binary has: those of the list that its --help names
# (`usbox images|import|...`), and run.
_usbox_commands() {
	local have w
	have=" run $(_usbox_help "$1" | grep -oE 'usbox [a-z]+([|,] ?[a-z]+)*' | sed 's/^usbox //' | tr '|,\n' '   ') "
	for w in $_usbox_cmds; do
		[[ $have == *" $w "* ]] && printf '%s\n' "$w"
	done
}

# Container names and ids, once the binary has ps (else nothing: a bare
# `usbox ps` would run the host's ps in a sandbox).
_usbox_containers() {
	_usbox_commands "$1" | grep -qx ps || return 0
	local out
	out=$("$1" ps -a --format json 2>/dev/null)
	if [[ -n $out ]]; then
		grep -oE '"(Names?|Id|ID)": *("[^"]*"|\[[^]]*\])' <<<"$out" | sed -E 's/^"[A-Za-z]+": *//' |
			grep -oE '"[^"]+"' | tr -d '"'
	else
		"$1" ps -a -q 2>/dev/null
	fi
}

_usbox_caps="ALL AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE CHOWN DAC_OVERRIDE
DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN
NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON SETFCAP SETGID SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT
SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG WAKE_ALARM"

# Adds to COMPREPLY what matches CUR: from a word list, or files (-f),
# directories (-d) or commands (-c).
_usbox_add() {
	local cur=$1
	shift
	case ${1-} in
	-f | -d | -c) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen "$1" -- "$cur") ;;
	*) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$*" -- "$cur") ;;
	esac
}

# The value of a sandbox option.
_usbox_run_value() {
	local u=$1 opt=$2 cur=$3
	case $opt in
	--image) _usbox_add "$cur" "$(_usbox_images "$u")" ;;
	--net) _usbox_add "$cur" "slirp slirp:allow_host_loopback none host $(_usbox_networks "$u")" ;;
	--map) _usbox_add "$cur" "auto single" ;;
	--cap-add | --cap-drop) _usbox_add "$cur" "$_usbox_caps" ;;
	--seccomp) _usbox_add "$cur" unconfined; _usbox_add "$cur" -f ;;
	--security-opt) _usbox_add "$cur" "seccomp=unconfined no-new-privileges" ;;
	--rootfs | --tmp-overlay | --cgroup-parent | -w | --workdir) _usbox_add "$cur" -d ;;
	--env-file | --hide | -v | --volume | --ro-bind) _usbox_add "$cur" -f ;;
	esac
}

_usbox() {
	# The words, split at blanks only: bash's own split (COMP_WORDBREAKS) also
	# cuts at ':' and '=', which image names and --opt=value have.
	local words=() cword line=${COMP_LINE-}
	line=${line:0:${COMP_POINT:-${#line}}}
	if [[ -n $line ]]; then
		read -r -a words <<<"$line"
		[[ $line =~ [[:blank:]]$ ]] && words+=("")
	else
		words=("${COMP_WORDS[@]}")
	fi
	cword=$((${#words[@]} - 1))
	local u=${words[0]} cur=${words[cword]} prev=${words[cword - 1]}
	local i=1 cmd=""
	COMPREPLY=()
	command -v "$u" >/dev/null 2>&1 || u=usbox
	# A first word that is a command (not after an option: `usbox --rm ps` runs ps).
	if ((cword > 1)) && [[ " $_usbox_cmds " == *" ${words[1]} "* ]]; then
		cmd=${words[1]}
		i=2
		if [[ $cmd == network || $cmd == image ]] && ((cword > 2)); then
			cmd="$cmd ${words[2]}"
			i=3
		fi
	fi
	case $cmd in
	"" | run) _usbox_complete_run "$u" "$i" "$cmd" ;;
	network) _usbox_add "$cur" "create ls rm" ;;
	image) _usbox_add "$cur" "ls inspect rm import load save" ;;
	*) _usbox_complete_cmd "$u" "$i" "$cmd" ;;
	esac
	# bash replaces only what follows the last ':' or '=' of the word
	local cut=${cur%"${cur##*[:=]}"} k
	if [[ -n $cut && -n ${COMP_LINE-} ]]; then
		for k in "${!COMPREPLY[@]}"; do COMPREPLY[k]=${COMPREPLY[k]#"$cut"}; done
	fi
}

# usbox [run] [OPTIONS] [--] CMD...: options, their values, then a command
# (a file after the command).
_usbox_complete_run() {
	local u=$1 i=$2 cmd=$3 w
	for (( ; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--) break ;;
		--*=* | -?) ;;
		-*) _usbox_run_takes_arg "$u" "$w" && ((i++)) ;;
		*) break ;;
		esac
		# a short option with a value: -e K=V, -v, -w, -u, -p
		[[ $w =~ ^-[evwup]$ ]] && ((i++))
	done
	if ((i < cword)); then # past the options: the command and its arguments
		[[ ${words[i]} == -- ]] && ((i++))
		if ((i == cword)); then
			_usbox_add "$cur" -c
		else
			_usbox_add "$cur" -f
		fi
		return
	fi
	if [[ $prev == -* ]] && ((cword > 1)) && { [[ $prev =~ ^-[evwup]$ ]] || _usbox_run_takes_arg "$u" "$prev"; }; then
		_usbox_run_value "$u" "$prev" "$cur"
		return
	fi
	if [[ $cur == --*=* ]] && _usbox_run_takes_arg "$u" "${cur%%=*}"; then
		_usbox_run_value "$u" "${cur%%=*}" "${cur#*=}"
		local k
		for k in "${!COMPREPLY[@]}"; do COMPREPLY[k]=${cur%%=*}=${COMPREPLY[k]}; done
		return
	fi
	if [[ $cur == -* ]]; then
		_usbox_add "$cur" "$(_usbox_run_opts "$u")"
	elif ((cword == 1)) && [[ -z $cmd ]]; then
		_usbox_add "$cur" "$(_usbox_commands "$u")"
	else
		_usbox_add "$cur" -c
	fi
}

# The other commands: their options and the options' values, then names.
_usbox_complete_cmd() {
	local u=$1 i=$2 cmd=$3 n=0 w takes=" ${_usbox_cmd_takes[$3]-} "
	if [[ $takes == *" $prev "* ]]; then
		case $prev in
		--format) _usbox_add "$cur" json ;;
		-i | --input | -o | --output | --log) _usbox_add "$cur" -f ;;
		-s) _usbox_add "$cur" "KILL TERM INT HUP QUIT USR1 USR2" ;;
		esac
		return
	fi
	if [[ $cur == -* ]]; then
		_usbox_add "$cur" "${_usbox_cmd_opts[$cmd]-}"
		return
	fi
	# the how-manyth name this is
	for (( ; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == -- ]]; then
			continue
		elif [[ $w == -* ]]; then
			[[ $takes == *" $w "* ]] && ((i++))
		else
			((n++))
		fi
	done
	case $cmd in
	rmi | save | "image rm" | "image inspect" | "image save") _usbox_add "$cur" "$(_usbox_images "$u")" ;;
	import | "image import") if ((n == 0)); then _usbox_add "$cur" -f; else _usbox_add "$cur" "$(_usbox_images "$u")"; fi ;;
	load | "image load") _usbox_add "$cur" "$(_usbox_images "$u")" ;;
	commit) if ((n == 0)); then _usbox_add "$cur" "$(_usbox_containers "$u")"; else _usbox_add "$cur" "$(_usbox_images "$u")"; fi ;;
	exec)
		if ((n == 0)); then
			_usbox_add "$cur" "$(_usbox_containers "$u")"
		elif ((n == 1)); then
			_usbox_add "$cur" -c
		else
			_usbox_add "$cur" -f
		fi
		;;
	rm | export | logs | stop | kill | wait | inspect | attach) _usbox_add "$cur" "$(_usbox_containers "$u")" ;;
	"network rm") _usbox_add "$cur" "$(_usbox_networks "$u")" ;;
	esac
}

complete -F _usbox usbox
