# shellcheck shell=bash
# COPY FROM STDIN and COPY TO STDOUT through the proxy.

# N rows of tab-separated test data with escapes, NULLs and non-ASCII text.
copy_data() {   # N
    awk -v n="$1" 'BEGIN {
        for (i = 1; i <= n; i++) {
            t = (i % 7 == 0) ? "\\N" : sprintf("row %d \\t tab \\\\ backslash \303\251\342\202\254", i)
            printf "%d\t%s\t%d\n", i, t, i * 3
        }
    }'
}

it_test copy_from_stdin
t_copy_from_stdin() {
    local out sum_in sum_back
    asql "DROP TABLE IF EXISTS copy_in; CREATE TABLE copy_in(id int, txt text, n int); ALTER TABLE copy_in OWNER TO app" appdb
    copy_data 1000 > "$WORK/copy_in.tsv"
    out=$(px_psql "$MAIN_PORT" -c "COPY copy_in FROM STDIN" < "$WORK/copy_in.tsv")
    assert_eq "COPY 1000" "$out" "command tag of COPY FROM STDIN"
    assert_eq "1000|500500|3000|142" "$(asql "SELECT count(*), sum(id), max(n), count(*) FILTER (WHERE txt IS NULL) FROM copy_in" appdb)" \
        "rows arrived"
    sum_in=$(md5sum < "$WORK/copy_in.tsv")
    sum_back=$(asql "COPY (SELECT * FROM copy_in ORDER BY id) TO STDOUT" appdb | md5sum)
    assert_eq "$sum_in" "$sum_back" "content byte for byte"
    # psql's \copy (COPY ... FROM STDIN underneath), CSV with a header
    printf 'id,txt,n\n1,"a,b",2\n2,"line\nbreak",4\n' > "$WORK/copy.csv"
    out=$(px_psql "$MAIN_PORT" -c "\\copy copy_in FROM '$WORK/copy.csv' WITH (FORMAT csv, HEADER)")
    assert_eq "COPY 2" "$out" "\\copy FROM file"
    assert_eq "1002" "$(asql "SELECT count(*) FROM copy_in" appdb)" "rows after \\copy"
}

it_test copy_to_stdout
t_copy_to_stdout() {
    asql "DROP TABLE IF EXISTS copy_out; CREATE TABLE copy_out(id int, txt text); ALTER TABLE copy_out OWNER TO app" appdb
    asql "INSERT INTO copy_out SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'v' || i || E'\\t\\\\é' END FROM generate_series(1,3000) i" appdb
    local p d
    p=$(px_psql "$MAIN_PORT" -c "COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT" | md5sum)
    d=$(direct_psql -c "COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT" | md5sum)
    assert_eq "$d" "$p" "COPY TO STDOUT text format"
    p=$(px_psql "$MAIN_PORT" -c "COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT (FORMAT csv, HEADER)" | md5sum)
    d=$(direct_psql -c "COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT (FORMAT csv, HEADER)" | md5sum)
    assert_eq "$d" "$p" "COPY TO STDOUT csv"
    p=$(px_psql "$MAIN_PORT" -c "COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT (FORMAT binary)" | md5sum)
    d=$(direct_psql -c "COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT (FORMAT binary)" | md5sum)
    assert_eq "$d" "$p" "COPY TO STDOUT binary"
    p=$(px_psql "$MAIN_PORT" -c "COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT" | wc -l)
    assert_eq 3000 "$p" "row count"
}

it_test copy_large_out 120
t_copy_large_out() {
    local q="COPY (SELECT i, md5(i::text), repeat('z', i % 300) FROM generate_series(1,200000) i) TO STDOUT"
    px_psql "$MAIN_PORT" -c "$q" > "$WORK/big_px.out"
    direct_psql -c "$q" > "$WORK/big_direct.out"
    assert_eq 200000 "$(wc -l < "$WORK/big_px.out")" "200000 rows through the proxy"
    assert_eq "$(md5sum < "$WORK/big_direct.out")" "$(md5sum < "$WORK/big_px.out")" "checksum equals direct ($(stat -c %s "$WORK/big_direct.out") bytes)"
    # and a big plain result set
    local a b
    a=$(px_psql "$MAIN_PORT" -qAt -c "SELECT i, md5(i::text) FROM generate_series(1,200000) i" | md5sum)
    b=$(direct_psql -qAt -c "SELECT i, md5(i::text) FROM generate_series(1,200000) i" | md5sum)
    assert_eq "$b" "$a" "200000-row SELECT equals direct"
    rm -f "$WORK/big_px.out" "$WORK/big_direct.out"
}

it_test copy_large_in 120
t_copy_large_in() {
    asql "DROP TABLE IF EXISTS copy_big; CREATE TABLE copy_big(id int, txt text, n int); ALTER TABLE copy_big OWNER TO app" appdb
    copy_data 200000 > "$WORK/copy_big.tsv"
    local out
    out=$(px_psql "$MAIN_PORT" -c "COPY copy_big FROM STDIN" < "$WORK/copy_big.tsv")
    assert_eq "COPY 200000" "$out" "command tag"
    assert_eq "$(md5sum < "$WORK/copy_big.tsv")" "$(asql "COPY (SELECT * FROM copy_big ORDER BY id) TO STDOUT" appdb | md5sum)" \
        "200000 rows byte for byte"
    rm -f "$WORK/copy_big.tsv"
}

it_test copy_errors
t_copy_errors() {
    asql "DROP TABLE IF EXISTS copy_err; CREATE TABLE copy_err(id int); ALTER TABLE copy_err OWNER TO app" appdb
    local p d prc=0 drc=0
    p=$(printf '1\n2\nnot-a-number\n4\n' | px_psql "$MAIN_PORT" -v VERBOSITY=verbose -c "COPY copy_err FROM STDIN" 2>&1) || prc=$?
    d=$(printf '1\n2\nnot-a-number\n4\n' | direct_psql -v VERBOSITY=verbose -c "COPY copy_err FROM STDIN" 2>&1) || drc=$?
    assert_contains "$p" "22P02" "invalid input error"
    assert_eq "$d" "$p" "COPY error text equals direct"
    assert_eq "$drc" "$prc" "psql exit code"
    assert_eq 0 "$(asql "SELECT count(*) FROM copy_err" appdb)" "failed COPY left no rows"
    # the session is usable after a failed COPY
    p=$(printf '1\nx\n' | px_psql "$MAIN_PORT" -qAt -c "COPY copy_err FROM STDIN" -c "SELECT 'alive'" 2>/dev/null || true)
    assert_eq "alive" "$p" "session answers after a failed COPY"
    # COPY TO of a failing query
    p=$(px_psql "$MAIN_PORT" -c "COPY (SELECT 1/(i-3) FROM generate_series(1,5) i) TO STDOUT" 2>&1 || true)
    d=$(direct_psql -c "COPY (SELECT 1/(i-3) FROM generate_series(1,5) i) TO STDOUT" 2>&1 || true)
    assert_eq "$d" "$p" "error in the middle of COPY TO"
}
