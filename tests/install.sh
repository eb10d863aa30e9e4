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

# "Your own model": the README's program that trains a small MLP, built the
# same way, prints what the same run prints in PyTorch, digit for digit
# (tests/reference/gen_two_moons.py), and writes its loss curve and its
# checkpoint (in the stage: it runs there).
awk '/^## Your own model/ { section = 1 }
     section && /^```c[ \t]*$/ { inside = 1; next }
     inside && /^```/ { exit }
     inside { print }' "$src/README.md" > "$stage/two_moons.c"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $cflags -o "$stage/two_moons" "$stage/two_moons.c" \
    $(pkg-config --cflags --libs attograd) -lm
(cd "$stage" && LD_LIBRARY_PATH="$libdir" ./two_moons > two_moons.out) || {
    echo "install.sh: the README's two-moons program failed:" >&2; cat "$stage/two_moons.out" >&2
    exit 1; }
cmp -s "$stage/two_moons.out" "$src/tests/reference/two_moons.expected" || {
    echo "install.sh: the two-moons program's lines differ from PyTorch's:" >&2
    diff "$stage/two_moons.out" "$src/tests/reference/two_moons.expected" >&2; exit 1; }
[ "$(head -c 8 "$stage/two_moons_loss.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || {
    echo "install.sh: two_moons_loss.png is not a PNG" >&2; exit 1; }
[ -s "$stage/two_moons.safetensors" ] || {
    echo "install.sh: two_moons.safetensors was not written" >&2; exit 1; }

# A student's own op with its own backward (docs/custom_function.md, a
# hand-written softmax), built against the installed headers alone, passes
# gradcheck and matches PyTorch's values.
sh "$src/docs/extract_c.sh" "$src/docs/custom_function.md" "$stage/custom_function.c"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $cflags -o "$stage/custom_function" "$stage/custom_function.c" \
    $(pkg-config --cflags --libs attograd) -lm
LD_LIBRARY_PATH="$libdir" "$stage/custom_function" "$src/tests/reference/custom_function.txt" \
    > "$stage/custom_function.out" || {
    echo "install.sh: docs/custom_function.md's program failed:" >&2
    cat "$stage/custom_function.out" >&2; exit 1; }

# Linked statically: pkg-config --static names every library the archive needs.
if [ -z "$cflags" ]; then
    # shellcheck disable=SC2046
    cc -Wall -Wextra -Werror -o "$stage/two_moons_static" "$stage/two_moons.c" \
        $(pkg-config --static --cflags --libs attograd | sed "s|-lattograd|$libdir/libattograd.a|") -lm
    ldd "$stage/two_moons_static" | grep -q libattograd && {
        echo "install.sh: the static build still needs libattograd.so" >&2; exit 1; }
    (cd "$stage" && ./two_moons_static | cmp -s - "$src/tests/reference/two_moons.expected") || {
        echo "install.sh: the static two-moons program printed other lines" >&2; exit 1; }
fi
echo "installed under $libdir: the README's programs and a custom op built with pkg-config (shared and static) and ran"
