#!/usr/bin/env bats
# ccci-gate: decisions, release-notes scanning, and fail-closed behaviour on bad input.

load helpers

setup() {
    setup_scratch
    R=$SCRATCH/recipe
    mkdir -p "$R/releaseNotes"
    printf '%s\n' 10.6.0+26.5.0 10.7.1+26.6.2 10.7.9+26.6.2 10.8.0+26.7.0 10.9.0+26.8.0 11.0.0+27.0.0 >"$SCRATCH/tags"
}

teardown() { teardown_scratch; }

@test "takes the newest minor inside the current majors and holds the major" {
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" <"$SCRATCH/tags"
    assert_success
    echo "$output" | jq -e '.decision == "apply" and .target == "10.9.0+26.8.0" and .latest == "11.0.0+27.0.0"'
    echo "$output" | jq -e '.bump == {"recipe":"minor","upstream":"minor"} and .latest_bump == {"recipe":"major","upstream":"major"}'
    echo "$output" | jq -e '[.held[] | select(.version == "11.0.0+27.0.0") | .reasons[].reason] == ["major-recipe","major-upstream"]'
    echo "$output" | jq -e '.alert == "held-major"'
    echo "$output" | jq -e '[.held[] | select(.version == "10.6.0+26.5.0") | .reasons[].reason] == ["downgrade"]'
}

@test "stops before the first version whose notes ask for a manual migration" {
    printf '# 10.8.0\n\nThe database schema changed.\nA **manual\nmigration** is required.\n' >"$R/releaseNotes/10.8.0+26.7.0.md"
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" <"$SCRATCH/tags"
    assert_success
    echo "$output" | jq -e '.decision == "apply" and .target == "10.7.9+26.6.2" and .alert == "held-manual-migration"'
    echo "$output" | jq -e '.held[] | select(.version == "10.8.0+26.7.0") | .reasons[0] == {"reason":"manual-migration","phrase":"manual migration","file":"releaseNotes/10.8.0+26.7.0.md","line":4}'
    echo "$output" | jq -e '.held[] | select(.version == "10.9.0+26.8.0") | .reasons[0].reason == "behind-manual-migration"'
}

@test "a manual migration right after the current version is a hold (exit 1)" {
    echo "Breaking change: KC_HOSTNAME is now required" >"$R/releaseNotes/10.7.9+26.6.2.md"
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" <"$SCRATCH/tags"
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and .target == "10.7.1+26.6.2"'
}

@test "only a major bump available: hold, exit 1, no churn suggested" {
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --candidate 11.0.0+27.0.0
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and .target == .current and .alert == "held-major"'
}

@test "noop when nothing is newer" {
    run --separate-stderr ccci-gate --current 11.0.0+27.0.0 <"$SCRATCH/tags"
    assert_success
    echo "$output" | jq -e '.decision == "noop" and .alert == null'
}

@test "reads a JSON array or an object with versions on stdin" {
    echo '["1.0.0+1.0","1.0.1+1.0"]' >"$SCRATCH/a.json"
    run --separate-stderr ccci-gate --current 1.0.0+1.0 <"$SCRATCH/a.json"
    assert_success
    echo "$output" | jq -e '.target == "1.0.1+1.0"'
    echo '{"app":"x","versions":["1.0.0+1.0","1.1.0+1.0"]}' >"$SCRATCH/o.json"
    run --separate-stderr ccci-gate --current 1.0.0+1.0 <"$SCRATCH/o.json"
    assert_success
    echo "$output" | jq -e '.target == "1.1.0+1.0"'
}

@test "policy patch holds minors; an env default works" {
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --policy patch <"$SCRATCH/tags"
    assert_success
    echo "$output" | jq -e '.target == "10.7.9+26.6.2" and .policy == "patch"'
    CCCI_GATE_POLICY=patch run --separate-stderr ccci-gate --current 10.7.1+26.6.2 <"$SCRATCH/tags"
    echo "$output" | jq -e '.policy == "patch"'
}

@test "a markers file replaces the default phrases" {
    echo "run the upgrade script" >"$SCRATCH/markers"
    echo "manual migration" >"$R/releaseNotes/10.7.9+26.6.2.md"
    echo "Please run the upgrade script first." >"$R/releaseNotes/10.8.0+26.7.0.md"
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" --markers "$SCRATCH/markers" <"$SCRATCH/tags"
    assert_success
    echo "$output" | jq -e '.target == "10.7.9+26.6.2"'
    echo "$output" | jq -e '.held[] | select(.version == "10.8.0+26.7.0") | .reasons[0].phrase == "run the upgrade script"'
}

@test "fails closed: unparsable current version holds, exit 1" {
    run --separate-stderr ccci-gate --current latest <"$SCRATCH/tags"
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and .alert == "held-unparsable"'
}

@test "fails closed: unreadable notes hold the version and everything after it" {
    mkdir "$R/releaseNotes/10.7.9+26.6.2.md"
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" <"$SCRATCH/tags"
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and (.held[] | select(.version == "10.7.9+26.6.2") | .reasons[0].reason == "notes-unreadable")'
}

@test "legacy tags and odd upstream shapes sort and classify without guessing" {
    printf '%s\n' 1.14.1-rootless_1 1.14.1-rootless_2 1.0.0+1.15.0 >"$SCRATCH/legacy"
    run --separate-stderr ccci-gate --current 1.14.1-rootless_1 <"$SCRATCH/legacy"
    assert_success
    echo "$output" | jq -e '.target == "1.14.1-rootless_2"'
    echo "$output" | jq -e '.held[] | select(.version == "1.0.0+1.15.0") | .reasons[0].reason == "major-recipe"'
}

@test "bad input: invalid JSON on stdin is 65 with nothing on stdout" {
    echo '["1.0.0+1",' >"$SCRATCH/bad.json"
    run --separate-stderr ccci-gate --current 1.0.0+1 <"$SCRATCH/bad.json"
    assert_json_error ccci-gate 65
}

@test "bad input: a non-string in the JSON list is 65" {
    echo '[1]' >"$SCRATCH/bad.json"
    run --separate-stderr ccci-gate --current 1.0.0+1 <"$SCRATCH/bad.json"
    assert_json_error ccci-gate 65
}

@test "bad input: stdin that is not UTF-8 is 65" {
    printf '1.0.0+1\n\377\376\n' >"$SCRATCH/bin"
    run --separate-stderr ccci-gate --current 1.0.0+1 <"$SCRATCH/bin"
    assert_json_error ccci-gate 65
}

@test "bad input: a missing notes directory or markers file is 66" {
    run --separate-stderr ccci-gate --current 1.0.0+1 --candidate 1.0.1+1 --notes "$SCRATCH/nope"
    assert_json_error ccci-gate 66
    run --separate-stderr ccci-gate --current 1.0.0+1 --candidate 1.0.1+1 --markers "$SCRATCH/nope"
    assert_json_error ccci-gate 66
}

@test "bad input: an empty markers file is 65 (it would silently match nothing)" {
    printf '# only a comment\n' >"$SCRATCH/markers"
    run --separate-stderr ccci-gate --current 1.0.0+1 --candidate 1.0.1+1 --markers "$SCRATCH/markers"
    assert_json_error ccci-gate 65
}

@test "the old '--version VERSION' is refused (64) naming --candidate, wherever it stands" {
    for argv in "--current 1.0.0+1 --version 1.0.1+1" "--version 1.0.1+1 --current 1.0.0+1" "--current 1.0.0+1 --version=1.0.1+1"; do
        # shellcheck disable=SC2086
        run --separate-stderr ccci-gate $argv </dev/null
        assert_json_error ccci-gate 64
        error_line | jq -e '.error.code == "usage" and .error.details.renamed == "--version" and .error.details.use == "--candidate"'
    done
    run --separate-stderr ccci-gate --current 1.0.0+1 --candidate 1.0.1+1
    assert_success
    echo "$output" | jq -e '.decision == "apply" and .target == "1.0.1+1"'
}

@test "usage: a bad policy, a missing --current" {
    run --separate-stderr ccci-gate --current 1.0.0+1 --candidate 1.0.1+1 --policy yolo
    assert_json_error ccci-gate 64
    run --separate-stderr ccci-gate --candidate 1.0.1+1
    assert_json_error ccci-gate 64
}

@test "1,000 versions with notes: every note read, the right target" {
    for i in $(seq 0 999); do
        v="1.$i.0+2.$i.0"
        echo "$v"
        echo "Images updated for $v." >"$R/releaseNotes/$v.md"
    done >"$SCRATCH/many"
    echo "Manual migration: rename the volume." >"$R/releaseNotes/1.700.0+2.700.0.md"
    run --separate-stderr ccci-gate --current 1.0.0+2.0.0 --notes "$R" <"$SCRATCH/many"
    assert_success
    echo "$output" | jq -e '.target == "1.699.0+2.699.0" and .notes_read == 999 and (.held | length) == 300'
}

# A recipe clone as abra leaves it: tagged releases, HEAD detached at the deployed tag.
make_clone() {
    G=$SCRATCH/clone
    export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x
    git init -q -b main "$G"
    mkdir "$G/releaseNotes"
    echo v1 >"$G/compose.yml"
    git -C "$G" add -A && git -C "$G" commit -qm one && git -C "$G" tag -a -m 1.0.0+1 1.0.0+1
    echo v2 >"$G/compose.yml"
    echo "Images updated." >"$G/releaseNotes/1.1.0+1.md"
    git -C "$G" add -A && git -C "$G" commit -qm two && git -C "$G" tag -a -m 1.1.0+1 1.1.0+1
}

@test "git: notes amended on the branch after tagging hold although HEAD is detached at a tag" {
    make_clone
    echo "Update: a manual migration is needed." >"$G/releaseNotes/1.1.0+1.md"
    git -C "$G" commit -qam "notes: amend 1.1.0"
    git -C "$G" checkout -q 1.1.0+1
    git -C "$G" checkout -q 1.0.0+1
    run --separate-stderr ccci-gate --current 1.0.0+1 --notes "$G" <<<"$(git -C "$G" tag)"
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and .alert == "held-manual-migration"'
    echo "$output" | jq -e '.held[0].reasons[0] | .reason == "manual-migration" and .rev == "refs/heads/main" and .line == 1'
}

@test "git: notes on the fetched remote branch count too" {
    make_clone
    git clone -q "$G" "$SCRATCH/c2"
    echo "Breaking change: the port moved." >"$G/releaseNotes/1.1.0+1.md"
    git -C "$G" commit -qam "notes: amend 1.1.0"
    git -C "$SCRATCH/c2" fetch -q origin
    git -C "$SCRATCH/c2" checkout -q 1.0.0+1
    run --separate-stderr ccci-gate --current 1.0.0+1 --notes "$SCRATCH/c2" --candidate 1.1.0+1
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0] | .reason == "manual-migration" and (.rev | startswith("refs/remotes/origin/"))'
}

@test "git: clean notes in a clone apply" {
    make_clone
    git -C "$G" checkout -q 1.0.0+1
    run --separate-stderr ccci-gate --current 1.0.0+1 --notes "$G" --candidate 1.1.0+1
    assert_success
    echo "$output" | jq -e '.decision == "apply" and .target == "1.1.0+1" and .notes_read == 1'
}

@test "git: when git cannot answer the gate holds with git's reason (no fallback to the work tree)" {
    make_clone
    git -C "$G" checkout -q 1.0.0+1
    # git missing
    run --separate-stderr env PATH="$BIN" "$BIN/ccci-gate" --current 1.0.0+1 --notes "$G" --candidate 1.1.0+1
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and .alert == "held-manual-migration" and .held[0].reasons[0].reason == "notes-unreadable"'
    # a broken clone
    mkdir -p "$SCRATCH/broken/releaseNotes"
    echo "gitdir: $SCRATCH/nowhere" >"$SCRATCH/broken/.git"
    run --separate-stderr ccci-gate --current 1.0.0+1 --notes "$SCRATCH/broken" --candidate 1.1.0+1
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0].reason == "notes-unreadable" and (.held[0].reasons[0].detail | startswith("git:"))'
    # a .git that is a dangling symlink: still a clone, not a plain directory to read
    mkdir -p "$SCRATCH/dangling/releaseNotes"
    ln -s "$SCRATCH/nowhere" "$SCRATCH/dangling/.git"
    run --separate-stderr ccci-gate --current 1.0.0+1 --notes "$SCRATCH/dangling" --candidate 1.1.0+1
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0].reason == "notes-unreadable"'
    # a tag the clone does not have
    run --separate-stderr ccci-gate --current 1.0.0+1 --notes "$G" --candidate 1.2.0+1
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0].reason == "notes-unreadable"'
}

@test "git: a clone git refuses as of dubious ownership is a hold" {
    [ "$(id -u)" = 0 ] || skip "needs root to hand the clone to another user"
    make_clone
    git -C "$G" checkout -q 1.0.0+1
    chown -R nobody "$G"
    run --separate-stderr ccci-gate --current 1.0.0+1 --notes "$G" --candidate 1.1.0+1
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0].reason == "notes-unreadable"'
}

@test "git: a notes file committed as a symlink is notes-unreadable" {
    make_clone
    ln -s ../compose.yml "$G/releaseNotes/1.2.0+1.md"
    git -C "$G" add -A && git -C "$G" commit -qm three && git -C "$G" tag -a -m 1.2.0+1 1.2.0+1
    git -C "$G" checkout -q 1.1.0+1
    run --separate-stderr ccci-gate --current 1.1.0+1 --notes "$G" --candidate 1.2.0+1
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0].reason == "notes-unreadable"'
}

@test "a symlinked notes file or notes directory in a plain directory is notes-unreadable" {
    echo "Images updated." >"$SCRATCH/elsewhere"
    ln -s "$SCRATCH/elsewhere" "$R/releaseNotes/10.7.9+26.6.2.md"
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" --candidate 10.7.9+26.6.2
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0].reason == "notes-unreadable"'
    mkdir "$SCRATCH/r2" "$SCRATCH/notes"
    ln -s "$SCRATCH/notes" "$SCRATCH/r2/releaseNotes"
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$SCRATCH/r2" --candidate 10.7.9+26.6.2
    assert_failure 1
    echo "$output" | jq -e '.held[0].reasons[0].reason == "notes-unreadable"'
}

@test "CRLF: a version list, a markers file and notes with CRLF line ends work" {
    printf '10.7.1+26.6.2\r\n10.7.9+26.6.2\r\n10.8.0+26.7.0\r\n' >"$SCRATCH/crlf"
    printf 'run the upgrade script\r\n# comment\r\n' >"$SCRATCH/markers"
    printf 'Please run the upgrade\r\nscript first.\r\n' >"$R/releaseNotes/10.8.0+26.7.0.md"
    run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" --markers "$SCRATCH/markers" <"$SCRATCH/crlf"
    assert_success
    echo "$output" | jq -e '.target == "10.7.9+26.6.2" and (.held | length) == 1'
    echo "$output" | jq -e '.held[0].reasons[0] | .phrase == "run the upgrade script" and .line == 1'
}

@test "wording: plurals, no-break and other Unicode spaces, invisible characters still match" {
    for text in 'Two manual migrations are required.' $'Manual\u00a0migration.' $'manual\u2009migration' \
        $'Breaking\u3000changes ahead' $'man\u00adual migration' $'MANUAL\u200bMIGRATIONS' 'No manual migrations needed.'; do
        printf '%s\n' "$text" >"$R/releaseNotes/10.7.9+26.6.2.md"
        run --separate-stderr ccci-gate --current 10.7.1+26.6.2 --notes "$R" --candidate 10.7.9+26.6.2
        assert_failure 1
        echo "$output" | jq -e '.held[0].reasons[0].reason == "manual-migration"'
    done
}

@test "no versions at all is an error (65), never a noop" {
    for input in '' $'\n\n' '[]' '{"versions":[]}' $'\r\n'; do
        run --separate-stderr ccci-gate --current 1.0.0+1 <<<"$input"
        assert_json_error ccci-gate 65
        [ "$(error_line | jq -r .error.code)" = no-versions ]
    done
}

@test "every candidate unparsable is a hold with an alert" {
    printf 'latest\nRELEASE.2024\n' >"$SCRATCH/junk"
    run --separate-stderr ccci-gate --current 1.0.0+1 <"$SCRATCH/junk"
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and .alert == "held-unparsable"'
    printf '{"versions":["1.0.0+1 ","v1.1"]}' >"$SCRATCH/junk"
    run --separate-stderr ccci-gate --current 1.0.0+1 <"$SCRATCH/junk"
    assert_failure 1
    echo "$output" | jq -e '.decision == "hold" and .alert == "held-unparsable"'
    # the current version read beside an odd tag: the list was read; noop, the tag reported
    printf '1.0.0+1\nlatest\n' >"$SCRATCH/junk"
    run --separate-stderr ccci-gate --current 1.0.0+1 <"$SCRATCH/junk"
    assert_success
    echo "$output" | jq -e '.decision == "noop" and .held[0].reasons[0].reason == "unparsable"'
}

@test "a markers file behind a symlink is read (as NixOS /etc files are); a FIFO or directory is 65, not a hang" {
    echo "run the upgrade script" >"$SCRATCH/markers.real"
    ln -s "$SCRATCH/markers.real" "$SCRATCH/markers"
    run --separate-stderr ccci-gate --current 1.0.0+1 --candidate 1.0.1+1 --markers "$SCRATCH/markers"
    assert_success
    mkfifo "$SCRATCH/fifo"
    run --separate-stderr timeout 10 ccci-gate --current 1.0.0+1 --candidate 1.0.1+1 --markers "$SCRATCH/fifo"
    assert_json_error ccci-gate 65
    run --separate-stderr ccci-gate --current 1.0.0+1 --candidate 1.0.1+1 --markers "$SCRATCH"
    assert_json_error ccci-gate 65
}
