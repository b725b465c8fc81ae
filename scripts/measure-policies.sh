#!/usr/bin/env bash
# Measures policies the way a server admin meets them: the component's size,
# the first push after it is dropped in (compiling it, cache empty), a
# later push (cache warm: the whole hookrt process, one new commit), and the
# fuel it spends per commit it reads (from hookrt's debug log, over a
# 1,000-commit push). Prints a Markdown table: docs/languages.md carries it.
#
# usage: measure-policies.sh HOOKRT LANGUAGE:POLICY.wasm...
set -eu -o pipefail

hookrt=$(realpath "$1")
shift
root=$PWD
fixtures=$(realpath "$(dirname "$0")/../tests/fixtures")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/hookrt-measure.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export HOME=$scratch/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$scratch/home/gitconfig
mkdir -p "$HOME"
git config --global user.name "Measure" && git config --global user.email measure@example.com

# main holds one commit; 1,000 more exist in the object store but on no
# ref, so a push that creates a branch at them finds them all new.
repo=$scratch/repo.git
git init --quiet -b main "$scratch/work"
cd "$scratch/work"
git commit --quiet --allow-empty -m "chore: start"
base=$(git rev-parse HEAD)
bash "$fixtures/many-commits.sh" 1
one=$(git rev-parse HEAD)
bash "$fixtures/many-commits.sh" 999
thousand=$(git rev-parse HEAD)
git clone --quiet --bare --no-local "$scratch/work" "$repo"
git -C "$repo" update-ref refs/heads/main "$base"
cd "$scratch"

now() { date +%s%N; }
size() { stat -c %s "$1" | awk '{ if ($1 < 1048576) printf "%d KiB", $1 / 1024; else printf "%.1f MiB", $1 / 1048576 }'; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }

# Runs pre-receive for a push creating release/1.0 at $1 (a name every
# example accepts, and a branch whose commits ref-names reads) and prints the
# nanoseconds it took; the log (HOOKRT_LOG=$2) is left in $scratch/log.
push() {
    local start end
    start=$(now)
    echo "0000000000000000000000000000000000000000 $1 refs/heads/release/1.0" \
        | HOOKRT_LOG=${2:-warn} "$hookrt" run pre-receive --git-dir "$repo" --policy-dir "$dir" --cache-dir "$cache" \
            2>"$scratch/log" \
        || { echo "$name rejected the push of $1:" >&2; cat "$scratch/log" >&2; exit 1; }
    end=$(now)
    echo $((end - start))
}
fuel() {
    push "$1" debug >/dev/null
    grep -o 'fuel=[0-9]*' "$scratch/log" | head -1 | cut -d= -f2
}

echo "| language | policy | component size | first push (compiles) | later push (cached) | fuel per commit |"
echo "|---|---|---:|---:|---:|---:|"
for spec in "$@"; do
    language=${spec%%:*}
    wasm=$(cd "$root" && realpath "${spec#*:}")
    name=$(basename "$wasm" .wasm)
    dir=$scratch/policies-$name cache=$scratch/cache-$name
    mkdir -p "$dir" "$cache"
    cp "$wasm" "$dir/"
    cold=$(push "$one")
    warm=()
    for _ in 1 2 3 4 5 6 7; do warm+=("$(push "$one")"); done
    median=$(printf '%s\n' "${warm[@]}" | sort -n | sed -n 4p)
    per_commit=$(( ($(fuel "$thousand") - $(fuel "$one")) / 999 ))
    printf '| %s | %s | %s | %s ms | %s ms | %s |\n' "$language" "$name" "$(size "$wasm")" \
        "$(ms "$cold")" "$(ms "$median")" "$per_commit"
done
