#!/bin/bash
# refresh-patches.sh [TREE [BASE]]: turn the commits of a prepared QEMU
# tree (default build/qemu) after BASE (default the debian-build tag) back
# into $SERIES_DIR (default patches/) and the project's own files.
#
# Every commit after BASE becomes one patch of the
# series, holding its changes to upstream files.  A commit that adds a
# project file (see scripts/project-files) lists it after the patch name
# in patches/series, so the file is committed together with its build
# glue and every step of the series builds.  Project files are copied
# back from the tree's working copy.
STEP=refresh-patches
. "$(dirname "$0")/lib.sh"

STORED_AUTHOR="virt-split developers <virt-split@localhost>"
TREE=${1:-$BUILD/qemu}
BASE=${2:-debian-build}
GIT=(git -C "$TREE")
[ -d "$TREE/.git" ] || [ -f "$TREE/.git" ] || die "$TREE is not a prepared tree; run 'make prepare' first"
"${GIT[@]}" rev-parse -q --verify "$BASE" >/dev/null || die "$TREE has no $BASE tag"

declare -A REPO_PATH
EXCLUDE=()
while read -r from to; do
    case $from in ''|'#'*) continue ;; esac
    REPO_PATH[$to]=$from
    EXCLUDE+=(":(exclude)$to")
done < "$TOP/scripts/project-files"

# What each project file was when the tree and the repository last agreed
# (written at the end): with it, an edit on either side wins over an
# unchanged other side, and edits on both sides are left to be merged by
# hand.  Without it (a tree no refresh has seen yet), a project file
# edited in the repository since it was copied into the tree is newer
# there, and a tree copy the repository had once is an old one.
SYNC=$("${GIT[@]}" rev-parse --absolute-git-dir)/virt-split-project-files
declare -A SYNCED
if [ -e "$SYNC" ]; then
    while read -r h f; do SYNCED[$f]=$h; done < "$SYNC"
fi
for to in "${!REPO_PATH[@]}"; do
    if [ -z "${SYNCED[$to]:-}" ] && [ -e "$TOP/${REPO_PATH[$to]}" ] && [ -e "$TREE/$to" ]; then
        cp -u "$TOP/${REPO_PATH[$to]}" "$TREE/$to"
    fi
done

if [ -n "$("${GIT[@]}" status --porcelain --untracked-files=no -- . "${EXCLUDE[@]}")" ]; then
    die "$TREE has uncommitted changes to upstream files; commit them first"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A CLAIMED
n=0
: > "$out/series"
for c in $("${GIT[@]}" rev-list --reverse "$BASE"..HEAD); do
    subject=$("${GIT[@]}" log -1 --format=%s "$c")
    [ "$subject" != "virt-split: project files" ] || continue
    added=()
    for f in $("${GIT[@]}" diff-tree --no-commit-id --name-only -r "$c"); do
        if [ -n "${REPO_PATH[$f]:-}" ] && [ -z "${CLAIMED[$f]:-}" ]; then
            CLAIMED[$f]=1
            added+=("+${REPO_PATH[$f]}")
        fi
    done
    diff=$("${GIT[@]}" diff-tree --no-commit-id -r --name-only "$c" -- . "${EXCLUDE[@]}")
    if [ -z "$diff" ] && [ "${#added[@]}" = 0 ]; then
        log "folding $(git -C "$TREE" log -1 --format=%h "$c") ('$subject') into the project files"
        continue
    fi
    n=$((n + 1))
    name=$(printf '%04d-%s.patch' "$n" \
           "$(echo "$subject" | tr -c 'A-Za-z0-9._\n' '-' | tr -s '-' | cut -c1-52 | sed 's/-$//')")
    {
        # The stored series carries no personal identity: its author is
        # the neutral one; make patches-upstream puts the sender's in
        # (docs/upstream.md)
        "${GIT[@]}" log -1 --format=email "$c" |
            sed '1s/^From [0-9a-f]*/From 0000000000000000000000000000000000000000/' |
            awk -v a="$STORED_AUTHOR" 'hdr && /^$/ { hdr = 0 } NR == 1 { hdr = 1 }
                hdr && /^From: / { print "From: " a; skip = 1; next }
                hdr && skip && /^[ \t]/ { next } { skip = 0; print }'
        echo "---"
        if [ -n "$diff" ]; then
            "${GIT[@]}" diff-tree --no-commit-id -p --stat=72 -r "$c" -- . "${EXCLUDE[@]}"
        fi
    } > "$out/$name"
    echo "$name${added[*]:+ ${added[*]}}" >> "$out/series"
done

TOP_IS_GIT=
git -C "$TOP" rev-parse -q --verify HEAD >/dev/null 2>&1 && TOP_IS_GIT=1
: > "$SYNC.new"
for to in "${!REPO_PATH[@]}"; do
    from=${REPO_PATH[$to]}
    [ -e "$TREE/$to" ] || continue
    mkdir -p "$(dirname "$TOP/$from")"
    t=$(git hash-object "$TREE/$to")
    r=$( [ -e "$TOP/$from" ] && git hash-object "$TOP/$from" || true)
    s=${SYNCED[$to]:-}
    if [ "$t" = "$r" ]; then
        :
    elif [ -n "$s" ] && [ "$r" = "$s" ]; then
        cp "$TREE/$to" "$TOP/$from"           # edited in the tree
    elif [ -n "$s" ] && [ "$t" = "$s" ]; then
        cp "$TOP/$from" "$TREE/$to"           # edited in the repository
    elif [ -n "$s" ]; then
        log "keeping $from as it is: it was edited both in the repository and in the tree; merge $TREE/$to into it by hand"
        echo "$s $to" >> "$SYNC.new"
        continue
    elif [ -n "$TOP_IS_GIT" ] && [ -n "$r" ] &&
         [ -n "$(git -C "$TOP" log -1 --format=%h --find-object="$t" -- "$from" 2>/dev/null)" ]; then
        log "keeping $from: the tree had an older version of it (now copied into the tree)"
        cp "$TOP/$from" "$TREE/$to"
    else
        cp "$TREE/$to" "$TOP/$from"
    fi
    echo "$(git hash-object "$TOP/$from") $to" >> "$SYNC.new"
done
mv "$SYNC.new" "$SYNC"
mkdir -p "$SERIES_DIR"
rm -f "$SERIES_DIR"/*.patch
cp "$out"/*.patch "$SERIES_DIR/" 2>/dev/null || true
{ echo "# One patch per line, applied in order; a +path after a patch is a"
  echo "# project file committed together with it."
  cat "$out/series"; } > "$SERIES_DIR/series"
# The tree now matches patches/: record that, so it is not re-prepared.
if [ "$TREE" = "$BUILD/qemu" ]; then
    "${GIT[@]}" tag -f project-files >/dev/null
    series_hash "$(qemu_version) $DEBIAN_PATCHES" > "$BUILD/qemu.stamp"
fi
log "wrote $n patches to ${SERIES_DIR#"$TOP"/}/"
