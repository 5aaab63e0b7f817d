#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script. $SRC/mcpcert is this repository; $SRC/jansson, when
# present, a jansson source tree to instrument (the Dockerfile clones it). Every target is built
# with the environment's $CC $CFLAGS $LIB_FUZZING_ENGINE (fuzz/build-engine, ENGINE=external)
# and installed in $OUT with its seed corpus (zip), dictionary and options.
src=$SRC/mcpcert
work=${WORK:-/tmp}/mcpcert-fuzz
[ -d "$SRC/jansson" ] && export MCPC_JANSSON_SRC=$SRC/jansson

# The runner image lacks libcurl, libmicrohttpd and pcre2: drop what a target does not use and
# ship the rest beside the binaries, found through $ORIGIN/lib.
export CC CFLAGS LIB_FUZZING_ENGINE
ENGINE=external OUTDIR=$work MCPC_LINK_CC="${CXX:-$CC}" \
    LDFLAGS="-Wl,--as-needed -Wl,-rpath,\$ORIGIN/lib" "$src/fuzz/build-engine" --instrument-jansson

# seeds: the MCP schemas are not in this image unless MCPC_SHARED points at them; the case
# files and the regressions always are
"$work/gen_corpus" --shared "${MCPC_SHARED:-$SRC/shared}" --cases "$src/cases" "$work/seeds"

mkdir -p "$OUT/lib"
for t in jsonrpc schema sse case; do
    cp "$work/fuzz_$t" "$OUT/"
    cp "$src/fuzz/fuzz_$t.dict" "$src/fuzz/fuzz_$t.options" "$OUT/"
    rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
    find "$work/seeds/$t" "$src/fuzz/regressions/$t" -type f -print |
        zip -q -j "$OUT/fuzz_${t}_seed_corpus.zip" -@
    # shared libraries outside the base system, copied once
    ldd "$OUT/fuzz_$t" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
        case "$(basename "$lib")" in
        libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | ld-linux* | libgcc_s.so* | libstdc++.so*) ;;
        *) [ -f "$OUT/lib/$(basename "$lib")" ] || cp -L "$lib" "$OUT/lib/" ;;
        esac
    done
done
