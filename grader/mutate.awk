# mutate.awk - the mutants of one C file, for grader/mutants.sh.
#
# Usage: awk -f grader/mutate.awk -v name=FILE -v out=DIR -v first=N SRC
# Writes each mutant of SRC as DIR/mNNNN/FILE (NNNN counting from first)
# and prints one line per mutant on stdout, tab-separated:
#     id  FILE:LINE  operator  before  after  function  k
# where before and after are the changed lines, trimmed (two lines, as for
# a swap, are joined by " \n "), function is the one the line is in, and
# k counts the mutants of the same function, before and after so far (1
# for the first): FILE, function, before, after and k name a mutant in a
# way that edits elsewhere in the file do not change. One mutant changes
# one place. The
# operators, each a bug students make:
#     rel     a comparison off by one or negated: < <=, > >=, == !=
#     logic   && and || swapped
#     bound   a "+ 1" or "- 1" dropped
#     const   a decimal constant of 2 or more, plus one
#     mode    an octal mode with others' read bit flipped (0600 -> 0604)
#     flag    MAP_SHARED/MAP_PRIVATE, O_RDWR/O_RDONLY swapped; O_EXCL,
#             O_CREAT, O_TRUNC, O_NONBLOCK, PROT_WRITE, MFD_ALLOW_SEALING
#             dropped from a flag set; a memory order made relaxed
#     call    a call to close, munmap, shm_unlink, unlink, free, fclose,
#             fflush, waitpid, sem_post, sem_destroy, sem_close,
#             pthread_mutex_unlock or ftruncate removed (a statement
#             becomes "(void)0;", a value becomes 0)
#     errno   an "errno = E;" removed
#     ret     "return -1;" and "return 0;" exchanged
#     swap    a publishing store (atomic_store, sem_post, ...) moved one
#             statement earlier or later
# Sites inside comments, strings and character constants are never
# touched; nor are #include lines.

BEGIN {
    ncall = split("close munmap shm_unlink unlink free fclose fflush waitpid " \
                  "sem_post sem_destroy sem_close pthread_mutex_unlock ftruncate", calls, " ")
    nswap = split("MAP_SHARED:MAP_PRIVATE MAP_PRIVATE:MAP_SHARED O_RDWR:O_RDONLY " \
                  "O_RDONLY:O_RDWR memory_order_acquire:memory_order_relaxed " \
                  "memory_order_release:memory_order_relaxed " \
                  "memory_order_acq_rel:memory_order_relaxed " \
                  "memory_order_seq_cst:memory_order_relaxed", swaps, " ")
    ndrop = split("O_EXCL O_CREAT O_TRUNC O_NONBLOCK PROT_WRITE MFD_ALLOW_SEALING", drops, " ")
    publish = "(atomic_store|atomic_store_explicit|__atomic_store_n|sem_post|atomic_exchange)[ \t]*\\("
    id = first + 0
    incomment = 0
}

{
    src[NR] = $0; code[NR] = mask($0)
    # a function's first line starts at the left margin, with its name
    # before the first "(", and is no declaration
    if (code[NR] ~ /^[A-Za-z_][A-Za-z0-9_ \t*]*\(/ && code[NR] !~ /;[ \t]*$/) {
        f = code[NR]; sub(/[ \t]*\(.*/, "", f); sub(/.*[ \t*]/, "", f)
    }
    fn[NR] = f == "" ? "-" : f
}

END {
    for (i = 1; i <= NR; i++) {
        if (src[i] ~ /^[ \t]*#[ \t]*include/)
            continue
        rel(i); logic(i); bound(i); consts(i); modes(i); flags(i)
        callsites(i); errnos(i); rets(i); publishes(i)
    }
}

# mask(line): line with comments, strings and character constants blanked,
# column for column (a block comment may run on from an earlier line).
function mask(s,    r, j, n, c, d, state) {
    r = ""; n = length(s); state = incomment ? "block" : "code"
    for (j = 1; j <= n; j++) {
        c = substr(s, j, 1); d = substr(s, j, 2)
        if (state == "code") {
            if (d == "/*") { state = "block"; r = r "  "; j++; continue }
            if (d == "//") { r = r sprintf("%" (n - j + 1) "s", ""); break }
            if (c == "\"") { state = "str"; r = r c; continue }
            if (c == "'") { state = "chr"; r = r c; continue }
            r = r c
        } else if (state == "block") {
            if (d == "*/") { state = "code"; r = r "  "; j++; continue }
            r = r " "
        } else {                        # inside "..." or '...'
            if (c == "\\") { r = r "  "; j++; continue }
            if ((state == "str" && c == "\"") || (state == "chr" && c == "'")) {
                state = "code"; r = r c; continue
            }
            r = r " "
        }
    }
    incomment = state == "block"
    return r
}

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }

# ident(c): whether c can be part of an identifier or a number.
function ident(c) { return c ~ /[A-Za-z0-9_.]/ }

# emit(i, new, op): the mutant with line i replaced by new.
function emit(i, new, op,    dir, k) {
    dir = sprintf("%s/m%04d", out, id)
    system("mkdir -p '" dir "'")
    for (k = 1; k <= NR; k++)
        print (k == i ? new : src[k]) > (dir "/" name)
    close(dir "/" name)
    record(i, op, trim(src[i]), trim(new))
}

# record(i, op, before, after): the index line of the mutant just made.
function record(i, op, before, after,    key) {
    key = fn[i] SUBSEP before SUBSEP after
    printf "m%04d\t%s:%d\t%s\t%s\t%s\t%s\t%d\n", id, name, i, op, before, after,
           fn[i], ++seen[key]
    id++
}

# emit_swap(i): the mutant with lines i and i + 1 exchanged.
function emit_swap(i,    dir, k) {
    dir = sprintf("%s/m%04d", out, id)
    system("mkdir -p '" dir "'")
    for (k = 1; k <= NR; k++)
        print (k == i ? src[i + 1] : k == i + 1 ? src[i] : src[k]) > (dir "/" name)
    close(dir "/" name)
    record(i, "swap", trim(src[i]) " \\n " trim(src[i + 1]),
           trim(src[i + 1]) " \\n " trim(src[i]))
}

# at(i, j, len, repl): line i with len columns from j replaced by repl.
function at(i, j, len, repl) {
    return substr(src[i], 1, j - 1) repl substr(src[i], j + len)
}

function rel(i,    m, j, c, d, p, q) {
    m = code[i]
    for (j = 1; j <= length(m); j++) {
        c = substr(m, j, 1); d = substr(m, j, 2)
        p = substr(m, j - 1, 1); q = substr(m, j + 2, 1)
        if (d == "==" && q != "=") { emit(i, at(i, j, 2, "!="), "rel"); j++ }
        else if (d == "!=") { emit(i, at(i, j, 2, "=="), "rel"); j++ }
        else if (d == "<=" && p != "<") { emit(i, at(i, j, 2, "<"), "rel"); j++ }
        else if (d == ">=" && p != ">") { emit(i, at(i, j, 2, ">"), "rel"); j++ }
        else if (d == "<<" || d == ">>" || d == "->") j++
        else if (c == "<") emit(i, at(i, j, 1, "<="), "rel")
        else if (c == ">") emit(i, at(i, j, 1, ">="), "rel")
    }
}

function logic(i,    m, j, d) {
    m = code[i]
    for (j = 1; j < length(m); j++) {
        d = substr(m, j, 2)
        if (d == "&&") { emit(i, at(i, j, 2, "||"), "logic"); j++ }
        else if (d == "||") { emit(i, at(i, j, 2, "&&"), "logic"); j++ }
    }
}

function bound(i,    m, j, rest) {
    m = code[i]
    for (j = 1; j <= length(m) - 3; j++) {
        rest = substr(m, j, 4)
        if ((rest == " + 1" || rest == " - 1") && !ident(substr(m, j + 4, 1)))
            emit(i, at(i, j, 4, ""), "bound")
    }
}

function consts(i,    m, j, k, lit) {
    m = code[i]
    if (m ~ /^[ \t]*#/ && m !~ /^[ \t]*#[ \t]*define/)
        return
    for (j = 1; j <= length(m); j++) {
        if (substr(m, j, 1) !~ /[1-9]/ || ident(substr(m, j - 1, 1)))
            continue
        for (k = j; substr(m, k + 1, 1) ~ /[0-9]/; k++)
            ;
        lit = substr(m, j, k - j + 1)
        if (!ident(substr(m, k + 1, 1)) && lit + 0 >= 2)
            emit(i, at(i, j, k - j + 1, lit + 1), "const")
        j = k
    }
}

function modes(i,    m, j, lit, last) {
    m = code[i]
    for (j = 1; j <= length(m); j++) {
        if (ident(substr(m, j - 1, 1)) || !match(substr(m, j), /^0[0-7][0-7][0-7][0-7]?/))
            continue
        lit = substr(m, j, RLENGTH)
        if (!ident(substr(m, j + RLENGTH, 1))) {
            last = substr(lit, RLENGTH, 1) + 0
            emit(i, at(i, j, RLENGTH, substr(lit, 1, RLENGTH - 1) xor4(last)), "mode")
        }
        j += RLENGTH - 1
    }
}

function xor4(d) { return d >= 4 ? d - 4 : d + 4 }

# word(m, w, from): the column of identifier w in m at or after from, or 0.
function word(m, w, from,    p) {
    while ((p = index(substr(m, from), w)) > 0) {
        p += from - 1
        if (!ident(substr(m, p - 1, 1)) && !ident(substr(m, p + length(w), 1)))
            return p
        from = p + 1
    }
    return 0
}

function flags(i,    m, k, two, p, w, j, e) {
    m = code[i]
    for (k = 1; k <= nswap; k++) {
        split(swaps[k], two, ":")
        for (p = word(m, two[1], 1); p > 0; p = word(m, two[1], p + 1))
            emit(i, at(i, p, length(two[1]), two[2]), "flag")
    }
    for (k = 1; k <= ndrop; k++) {
        w = drops[k]
        for (p = word(m, w, 1); p > 0; p = word(m, w, p + 1)) {
            # "| W" (the "|" before it) or "W |" (the "|" after it)
            for (j = p - 1; substr(m, j, 1) == " "; j--)
                ;
            if (substr(m, j, 1) == "|") {
                for (j--; substr(m, j, 1) == " "; j--)
                    ;
                emit(i, at(i, j + 1, p + length(w) - j - 1, ""), "flag")
                continue
            }
            for (e = p + length(w); substr(m, e, 1) == " "; e++)
                ;
            if (substr(m, e, 1) == "|") {
                for (e++; substr(m, e, 1) == " "; e++)
                    ;
                emit(i, at(i, p, e - p, ""), "flag")
            }
        }
    }
}

# close_paren(m, j): the column of the ")" that closes the "(" at j, or 0.
function close_paren(m, j,    depth, c) {
    for (depth = 0; j <= length(m); j++) {
        c = substr(m, j, 1)
        if (c == "(") depth++
        else if (c == ")" && --depth == 0) return j
    }
    return 0
}

function callsites(i,    m, k, p, o, e, s, stmt, pre) {
    m = code[i]
    for (k = 1; k <= ncall; k++)
        for (p = word(m, calls[k], 1); p > 0; p = word(m, calls[k], p + 1)) {
            for (o = p + length(calls[k]); substr(m, o, 1) == " "; o++)
                ;
            if (substr(m, o, 1) != "(" || (e = close_paren(m, o)) == 0)
                continue
            # a statement of its own: from the call (or its "(void) ") to ";"
            pre = substr(m, 1, p - 1)
            s = match(pre, /\(void\)[ \t]*$/) ? RSTART : p
            stmt = substr(m, e + 1) ~ /^[ \t]*;/ && substr(m, 1, s - 1) ~ /(^|[;{}):]|else)[ \t]*$/
            if (stmt)
                emit(i, at(i, s, index(substr(m, e), ";") + e - s, "(void)0;"), "call")
            else
                emit(i, at(i, p, e - p + 1, "0"), "call")
        }
}

function errnos(i,    m) {
    m = code[i]
    if (match(m, /errno[ \t]*=[ \t]*[A-Z0-9_]+[ \t]*;/) && !ident(substr(m, RSTART - 1, 1)))
        emit(i, at(i, RSTART, RLENGTH, "(void)0;"), "errno")
}

function rets(i,    m) {
    m = code[i]
    if (match(m, /return[ \t]+-1[ \t]*;/) && !ident(substr(m, RSTART - 1, 1)))
        emit(i, at(i, RSTART, RLENGTH, "return 0;"), "ret")
    else if (match(m, /return[ \t]+0[ \t]*;/) && !ident(substr(m, RSTART - 1, 1)))
        emit(i, at(i, RSTART, RLENGTH, "return -1;"), "ret")
}

# simple(i): line i is one statement that may move: it ends in ";" and
# opens, closes or branches nothing.
function simple(i,    m) {
    m = trim(code[i])
    return m ~ /;$/ && m !~ /[{}]/ && m !~ /^(return|if|else|for|while|do|case|default|break|continue|goto)([^A-Za-z0-9_]|$)/
}

function publishes(i) {
    if (code[i] !~ publish || !simple(i))
        return
    if (i > 1 && simple(i - 1) && code[i - 1] !~ publish)
        emit_swap(i - 1)
    if (i < NR && simple(i + 1) && code[i + 1] !~ publish)
        emit_swap(i)
}
