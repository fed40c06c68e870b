#!/usr/bin/env bash
# 18: the bash completion offers exactly the commands --help lists, options
# the parser accepts (with the right "takes a value" for each), every option
# --help lists, and the profile names; cmake --install puts it in place.
. "$(dirname "$0")/lib.sh"

COMPLETION=$TESTS/../contrib/bash-completion/arca
[ -f "$COMPLETION" ] || fail "no $COMPLETION"

# complete WORDS...: what the completion offers for the last word, sorted.
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_arca
		printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$ARCA" "$@" |
	    sed '/^$/d' | sort -u
}

arca --help > "$WORK/help"

step "commands: the same as --help lists"
sed -n '/^Commands:/,/^$/p' "$WORK/help" | awk 'NR > 1 && NF { print $1 }' |
    sort -u > "$WORK/help-commands"
[ "$(wc -l < "$WORK/help-commands")" -ge 10 ] || fail "parsed too few commands"
complete_words "" > "$WORK/comp-commands"
diff "$WORK/help-commands" "$WORK/comp-commands" || fail "commands differ"
complete_words re > "$WORK/comp-re"
printf 'remove-all-but-n-full\nremove-all-inc-of-but-n-full\nremove-older-than\nrestore\n' |
    diff - "$WORK/comp-re" || fail "prefix completion"
complete_words help coll | grep -qx collection-status || fail "help COMMAND"

step "options: every one --help lists is offered"
grep -oE -- '--[a-z0-9][a-z0-9-]*' "$WORK/help" | grep -v -- '^--help$' |
    sort -u > "$WORK/help-options"
echo --help >> "$WORK/help-options"
sort -u -o "$WORK/help-options" "$WORK/help-options"
complete_words -- -- > "$WORK/comp-options"
missing=$(comm -23 "$WORK/help-options" "$WORK/comp-options")
[ -z "$missing" ] || fail "--help options the completion lacks: $missing"
complete_words full --vol | grep -qx -- --volsize || fail "--vol did not complete"

step "options: each one offered is one the parser knows, value or not"
"$ARCA" __complete options-with-arg | sort -u > "$WORK/with-arg"
while read -r o; do
	if grep -qx -- "$o" "$WORK/with-arg"; then
		# Needs a value: alone at the end it is refused for that reason.
		expect_exit 2 arca --help "$o"
		expect_err "option '$o' needs a value"
	else
		expect_exit 0 arca --help "$o"
	fi
done < "$WORK/comp-options"
# And the other way: the parser refuses what the completion does not offer.
expect_exit 2 arca --help --no-such-option
grep -qx -- --progress "$WORK/comp-options" || fail "--progress missing"
grep -qx -- --no-progress "$WORK/comp-options" || fail "--no-progress missing"

step "an option's value is not taken for the command"
complete_words --volsize 5 f > "$WORK/c"
grep -qx full "$WORK/c" || fail "command after --volsize 5: $(cat "$WORK/c")"
complete_words --archive-dir /tmp res > "$WORK/c"
grep -qx restore "$WORK/c" || fail "command after --archive-dir"

step "profile names after run, schedule, unschedule"
export XDG_CONFIG_HOME=$WORK/config
mkdir -p -m 700 "$XDG_CONFIG_HOME/arca"
for p in home laptop-daily; do
	printf 'source = /x\ntarget = file:///y\n' > "$XDG_CONFIG_HOME/arca/$p.conf"
done
touch "$XDG_CONFIG_HOME/arca/notes.txt"
for c in run schedule unschedule; do
	[ "$(complete_words "$c" "" | tr '\n' ' ')" = "home laptop-daily " ] ||
		fail "$c: $(complete_words "$c" "")"
done
[ "$(complete_words run --dry-run la)" = laptop-daily ] || fail "run --dry-run la"

step "files after a backup command"
mkdir -p "$WORK/srcdir"
complete_words full "$WORK/src" | grep -qx "$WORK/srcdir" || fail "no file completion"

step "cmake --install puts it in share/bash-completion/completions"
BUILD=$(dirname "$ARCA")
if [ -f "$BUILD/cmake_install.cmake" ]; then
	cmake --install "$BUILD" --prefix "$WORK/inst" >/dev/null ||
		fail "cmake --install"
	cmp "$COMPLETION" "$WORK/inst/share/bash-completion/completions/arca" ||
		fail "installed completion differs"
else
	fail "no cmake_install.cmake next to $ARCA"
fi
echo OK
