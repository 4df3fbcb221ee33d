# `cpack -G DEB` in a build tree: one .deb, libssews-dev, with what
# `cmake --install` puts under the prefix (capi/CMakeLists.txt: libssews.so.0
# and its links, libssews.a, ssews.h, ssews.pc, the CMake package). Configure
# with -DCMAKE_INSTALL_PREFIX=/usr so GNUInstallDirs picks Debian's multiarch
# libdir (scripts/build-packages.sh does).
set(CPACK_PACKAGE_NAME libssews-dev)
set(CPACK_PACKAGE_VENDOR ssews)
set(CPACK_PACKAGE_CONTACT "ssews maintainers <ssews@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Server-Sent Events and WebSocket, server and client, behind one C ABI")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# The run-time dependencies (libwebsockets17, libssl3, libc6, libstdc++6)
# come from dpkg-shlibdeps; the -dev packages because ssews.pc names
# libwebsockets in Requires.private (pkg-config fails without its .pc) and
# libssews.a needs both at link time.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libwebsockets-dev (>= 4.1.6), libssl-dev")
include(CPack)
