# Sourced by scripts/build-packages.sh: what a prebuilt binary may take from
# the system, and how the Node addon gets the rest beside it (auditwheel does
# the same for the wheel).

# The libraries a manylinux wheel may take from the system (auditwheel's
# policy: glibc, the C++ runtime, zlib); everything else ships with the binary.
system_baseline='^(linux-vdso\.so|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libstdc\+\+\.so|libgcc_s\.so|libz\.so)'

# The non-baseline libraries FILE loads (its whole tree, as ldd resolves it
# now), one "soname path" a line.
non_baseline_libs() {
  ldd "$1" | awk '$2 == "=>" { print $1, $3 }' | grep -Ev "$system_baseline" || true
}

# Copies every non-baseline library FILE needs into FILE's directory under
# its SONAME and gives FILE and each copy the rpath $ORIGIN, so they load one
# another from there whatever the system has (Node's prebuild layout).
bundle_libs() {
  local file=$1 dir soname path
  dir=$(dirname "$file")
  while read -r soname path; do
    [ "$path" = "not" ] && { echo "bundle_libs: $soname not found for $file" >&2; return 1; }
    cp -L "$path" "$dir/$soname"
    chmod u+w "$dir/$soname"
    patchelf --set-rpath '$ORIGIN' "$dir/$soname"
  done < <(non_baseline_libs "$file")
  patchelf --set-rpath '$ORIGIN' "$file"
}
