#!/usr/bin/env bash
# The demo: a scratch bare repository with hookrt installed and the no-wip
# and protect-branches policies, one accepted and one vetoed push, and
# exactly what the git client prints.
#
# usage: demo.sh HOOKRT_BINARY POLICY_DIR
set -eu -o pipefail

hookrt=$(realpath "$1")
policies=$(realpath "$2")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/hookrt-demo.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Git with no user or system configuration, as on a fresh machine.
export HOME=$scratch/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$scratch/home/gitconfig
mkdir -p "$HOME"
git config --global user.name "Demo Developer"
git config --global user.email dev@example.com
git config --global init.defaultBranch main

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

step "A server repository with hookrt installed"
git init --quiet --bare "$scratch/server.git"
"$hookrt" install "$scratch/server.git"
cp "$policies/no-wip.wasm" "$policies/protect-branches.wasm" "$scratch/server.git/hookrt/policies/"
ls "$scratch/server.git/hookrt/policies"

git clone --quiet "$scratch/server.git" "$scratch/work" 2>/dev/null
cd "$scratch/work"

step "An accepted push: git push origin main"
git commit --quiet --allow-empty -m "Add the parser"
git push origin main 2>&1 | sed 's/^/  | /'

step "A vetoed push: a work-in-progress commit"
git commit --quiet --allow-empty -m "WIP: half a lexer"
git commit --quiet --allow-empty -m "Finish the lexer"
if git push origin main 2>&1 | sed 's/^/  | /'; then :; fi

step "The server's main did not move"
git --git-dir="$scratch/server.git" log --oneline main | sed 's/^/  | /'
