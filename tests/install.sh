#!/bin/sh
# The README's program built against the installed library, as a user
# builds it: meson install into a DESTDIR staging root, then
# cc README.c $(pkg-config --cflags --libs attograd) and run it.
#     install.sh SOURCE_ROOT BUILD_ROOT [CFLAGS]
# ./run install does the same onto the real prefix (with ldconfig).
set -eu
src=$1
build=$2
cflags=${3:-}
stage=$(mktemp -d "${TMPDIR:-/tmp}/attograd-install-XXXXXX")
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" meson install -C "$build" --no-rebuild --quiet
pc=$(find "$stage" -name attograd.pc | head -n 1)
[ -n "$pc" ] || { echo "install.sh: meson install wrote no attograd.pc" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
# The versioned shared library, as a Debian package would ship it:
# libattograd.so (for -lattograd) -> libattograd.so.0 (the soname, what the
# loader looks for) -> libattograd.so.0.<version> (the file).
version=$(sed -n 's/^Version: *//p' "$pc")
if [ "$(readlink "$libdir/libattograd.so")" != libattograd.so.0 ] ||
   [ "$(readlink "$libdir/libattograd.so.0")" != "libattograd.so.$version" ] ||
   [ ! -f "$libdir/libattograd.so.$version" ]; then
    echo "install.sh: want libattograd.so -> .so.0 -> .so.$version in $libdir:" >&2
    ls -l "$libdir" >&2
    exit 1
fi
readelf -d "$libdir/libattograd.so.$version" | grep -q 'SONAME.*\[libattograd\.so\.0\]' || {
    echo "install.sh: libattograd.so.$version has no soname libattograd.so.0" >&2; exit 1; }
# The .pc names the real prefix; the sysroot moves its -I and -L into the stage.
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$stage"
# The README's first ```c block is a whole program.
awk '/^```c[ \t]*$/ { n++; if (n == 1) { inside = 1; next } }
     /^```/ && inside { exit }
     inside { print }' "$src/README.md" > "$stage/readme.c"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $cflags -o "$stage/readme" "$stage/readme.c" $(pkg-config --cflags --libs attograd)
# The shared library, not the static one, was linked.
LD_LIBRARY_PATH="$libdir" ldd "$stage/readme" | grep -q "libattograd.so.0 => $libdir/" || {
    echo "install.sh: readme is not linked to the staged libattograd.so" >&2; exit 1; }
LD_LIBRARY_PATH="$libdir" "$stage/readme" > "$stage/out.txt"
grep -q "grad_fn=<MmBackward0>" "$stage/out.txt" || {
    echo "install.sh: the README program printed:" >&2; cat "$stage/out.txt" >&2; exit 1; }
echo "installed under $libdir: README program built with pkg-config and ran"
