# shellcheck shell=bash
# Decides whether bindgen will find a usable libclang, for scripts/setup.sh (which sources this
# file); tested with faked machines by node/tests/setup_script.rs.
#
# bindgen loads libclang through clang-sys (1.9.1 in Cargo.lock, feature `runtime`: the library
# is dlopened by RocksDB's build script). Its search, mirrored here (clang-sys build/common.rs
# and build/dynamic.rs, Linux):
#  - file names `libclang.so`, `libclang-*.so`, `libclang.so.*`, `libclang-*.so.*` (the last
#    two only because of `runtime`), minus any name containing `-cpp.` (libclang-cpp.so.14 is
#    the C++ library, not the C API bindgen calls);
#  - if LIBCLANG_PATH is set, only there (a directory, or the library file itself); otherwise
#    the bin, lib and lib64 directories under `${LLVM_CONFIG_PATH:-llvm-config} --prefix`, the
#    LD_LIBRARY_PATH and LIBRARY_PATH directories, then the directories matching
#    /usr/local/llvm*/lib*, /usr/local/lib*/*/*, /usr/local/lib*/*, /usr/local/lib*,
#    /usr/lib*/*/*, /usr/lib*/*, /usr/lib* (case-insensitively). It never reads `ldconfig`;
#  - a file counts if it is an ELF file of the host's word size; of those, the highest version
#    parsed from the name wins, the first found among equals.
# libclang then needs its builtin headers (stddef.h, stdbool.h: libclang-common-N-dev on
# Debian), which libclang1-N alone lacks: with it, clang-sys loads the library and bindgen fails
# on "'stdbool.h' file not found".
#
# ROOT (optional, "" by default) prefixes the fixed system directories, so that a test can fake
# a machine in a temporary directory; paths from the environment (LIBCLANG_PATH,
# LD_LIBRARY_PATH, LIBRARY_PATH) and from llvm-config are used as they are.
#
# The functions that set shell options run in subshells, so the options do not reach the caller.

# _libclang_valid FILE: whether clang-sys accepts FILE (an ELF shared object of the host's class).
_libclang_valid() {
    [ -f "$1" ] && [ -r "$1" ] || return 1
    local class=02 header
    if [ "$(getconf LONG_BIT 2>/dev/null || echo 64)" = 32 ]; then class=01; fi
    header=$(od -An -tx1 -N5 -- "$1" 2>/dev/null) || return 1
    [ "${header//[[:space:]]/}" = "7f454c46$class" ]
}

# _libclang_in_directory DIRECTORY: prints the files in DIRECTORY that clang-sys accepts, in its
# order (pattern by pattern, names sorted). Needs nullglob on and nocaseglob off.
_libclang_in_directory() {
    local file
    for file in "$1"/libclang.so "$1"/libclang-*.so "$1"/libclang.so.* "$1"/libclang-*.so.*; do
        case "${file##*/}" in *-cpp.*) continue ;; esac
        if _libclang_valid "$file"; then printf '%s\n' "$file"; fi
    done
}

# libclang_candidates [ROOT]: prints every file clang-sys would accept as libclang, one a line,
# in the order it finds them.
libclang_candidates() (
    export LC_ALL=C
    shopt -s nullglob
    shopt -u nocaseglob
    local root="${1-}" directory
    if [ -n "${LIBCLANG_PATH+set}" ]; then
        [ -n "$LIBCLANG_PATH" ] || exit 0
        local path="$LIBCLANG_PATH"
        while [ "${path%/}" != "$path" ] && [ "$path" != / ]; do path="${path%/}"; done
        # The library file itself: accepted if its name is one clang-sys looks for.
        local name="${path##*/}" parent="${path%/*}"
        [ "$parent" != "$path" ] || parent=.
        [ -n "$parent" ] || parent=/
        case "$name" in
            *-cpp.*) ;;
            libclang.so | libclang-*.so | libclang.so.* | libclang-*.so.*)
                if [ -e "$path" ] || [ -L "$path" ]; then
                    if _libclang_valid "$path"; then printf '%s\n' "$path"; fi
                    exit 0
                fi
                ;;
        esac
        _libclang_in_directory "$path"
        exit 0
    fi

    local prefix
    if prefix=$("${LLVM_CONFIG_PATH-llvm-config}" --prefix 2>/dev/null) && [ -n "$prefix" ]; then
        prefix="${prefix%%$'\n'*}"
        for directory in "$prefix/bin" "$prefix/lib" "$prefix/lib64"; do
            _libclang_in_directory "$directory"
        done
    fi
    local rest
    for rest in "${LD_LIBRARY_PATH-}" "${LIBRARY_PATH-}"; do
        rest+=:
        while [ -n "$rest" ]; do
            directory="${rest%%:*}" rest="${rest#*:}"
            if [ -n "$directory" ]; then _libclang_in_directory "$directory"; fi
        done
    done
    # The directory patterns match case-insensitively and dot files too; the file names do not.
    shopt -s dotglob nocaseglob
    local -a directories=("$root"/usr/local/llvm*/lib* "$root"/usr/local/lib*/*/*
        "$root"/usr/local/lib*/* "$root"/usr/local/lib* "$root"/usr/lib*/*/*
        "$root"/usr/lib*/* "$root"/usr/lib*)
    shopt -u dotglob nocaseglob
    for directory in "${directories[@]}"; do
        if [ -d "$directory" ]; then _libclang_in_directory "$directory"; fi
    done
)

# _libclang_version FILE: prints the version clang-sys reads from FILE's name (its quirks
# included: `libclang-14.so.1` reads as 14.0), as dot-separated numbers; empty for `libclang.so`.
_libclang_version() {
    local name="${1##*/}" version part parts=() out=""
    case "$name" in
        libclang.so.*) version="${name#libclang.so.}" ;;
        libclang-*) version="${name:9:${#name}-12}" ;;
        *) return 0 ;;
    esac
    IFS=. read -r -a parts <<<"$version."
    # read drops the empty field the final dot adds, and keeps an empty version as one field.
    [ "${#parts[@]}" -gt 0 ] || parts=("")
    for part in "${parts[@]}"; do
        # Rust's u32 parse: digits after an optional +, at most 4294967295; anything else is 0.
        part="${part#+}"
        [[ "$part" =~ ^[0-9]+$ ]] || part=0
        while [ "${#part}" -gt 1 ] && [ "${part#0}" != "$part" ]; do part="${part#0}"; done
        if [ "${#part}" -gt 10 ] || [ "$part" -gt 4294967295 ]; then part=0; fi
        out+="$part."
    done
    printf '%s\n' "${out%.}"
}

# _libclang_newer A B: whether version A (dot-separated) sorts after B as clang-sys compares
# them (number by number; a version that extends another is the greater).
_libclang_newer() {
    local -a a b
    local i
    IFS=. read -r -a a <<<"$1"
    IFS=. read -r -a b <<<"$2"
    for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do
        if ((a[i] != b[i])); then
            ((a[i] > b[i]))
            return
        fi
    done
    ((${#a[@]} > ${#b[@]}))
}

# libclang_chosen [ROOT]: prints the libclang clang-sys loads; fails when it finds none.
libclang_chosen() {
    local file version best="" best_version="" found=1
    while IFS= read -r file; do
        version=$(_libclang_version "$file")
        if [ "$found" -ne 0 ] || _libclang_newer "$version" "$best_version"; then
            best="$file" best_version="$version" found=0
        fi
    done < <(libclang_candidates "${1-}")
    if [ "$found" -eq 0 ]; then printf '%s\n' "$best"; fi
    return "$found"
}

# libclang_headers LIBRARY [ROOT]: whether clang's builtin headers are installed where a libclang
# at LIBRARY finds them: the resource directory `clang/VERSION/include` beside the library or in
# its prefix's lib (upstream builds, Arch, Fedora), or Debian's /usr/lib/llvm-N/lib/clang for
# `libclang-N.so*` (the libraries in the multiarch directory).
libclang_headers() (
    shopt -s nullglob
    local library="$1" root="${2-}"
    local directory="${library%/*}"
    local -a found=("$directory"/clang/*/include/stddef.h
        "$directory"/../lib/clang/*/include/stddef.h)
    local name="${library##*/}"
    if [[ "$name" =~ ^libclang-([0-9]+)(\.|$) ]]; then
        found+=("$root"/usr/lib/llvm-"${BASH_REMATCH[1]}"/lib/clang/*/include/stddef.h)
    fi
    [ "${#found[@]}" -gt 0 ]
)

# libclang_decision [ROOT]: what set-up does about libclang, as one line: `ok LIBRARY`,
# `install REASON` (install libclang-dev), `warn MESSAGE` (go on, but say it) or `error MESSAGE`
# (stop: installing cannot help).
libclang_decision() {
    local root="${1-}" library
    if ! library=$(libclang_chosen "$root"); then
        if [ -n "${LIBCLANG_PATH+set}" ]; then
            echo "error LIBCLANG_PATH=$LIBCLANG_PATH holds no libclang bindgen can load" \
                "(libclang.so, libclang-N.so or libclang.so.N, built for this machine):" \
                "clang-sys searches only there, so point it at libclang's directory or unset it"
        else
            echo "install no libclang that bindgen can load (libclang.so, libclang-N.so or" \
                "libclang.so.N, built for this machine; libclang-cpp is another library)"
        fi
    elif ! libclang_headers "$library" "$root"; then
        if [ -n "${LIBCLANG_PATH+set}" ]; then
            echo "warn bindgen will load $library, but clang's builtin headers" \
                "(clang/VERSION/include/stddef.h) are not beside it: the RocksDB bindings may" \
                "fail with \"'stdbool.h' file not found\""
        else
            echo "install $library has no builtin headers (clang/VERSION/include/stddef.h)"
        fi
    else
        echo "ok $library"
    fi
}
