# CUTTLE_STATIC_DEPS: link the third-party libraries from their static archives (Debian ships them in the
# same -dev packages), fmt header-only, and the `cuttle` executable with libstdc++ and libgcc static, so
# that a process only maps libc, libm and the dynamic loader. The shared build mapped 24 libraries
# (libarchive pulled in libxml2 and ICU) and spent most of its start-up loading and relocating them, which
# `cuttle mask` and `cuttle eval` pay on every run (docs/performance.md, "Start-up").
#
# Included by the top-level CMakeLists.txt before cuttle_dependencies.cmake: the targets defined here have
# the names that file (and the installed cuttleConfig.cmake) would otherwise define from shared libraries,
# and it skips targets that exist. An installed cuttle is therefore consumed with shared libraries, as before.
# The cache variables have their own names, so turning the option on or off in a configured build directory
# takes effect.

if(NOT CUTTLE_STATIC_DEPS)
  return()
endif()

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# `cuttle_static_library(<target> <archive> [PKG <module>] [LINK <libraries>...])`: an imported static
# library <target> for lib<archive>.a, with the include directories and flags of its pkg-config module.
function(cuttle_static_library target archive)
  cmake_parse_arguments(arg "" "PKG" "LINK" ${ARGN})
  string(MAKE_C_IDENTIFIER "${target}" id)
  string(TOUPPER "${id}" id)
  set(hints)
  set(includes)
  set(options)
  if(arg_PKG)
    pkg_check_modules(CUTTLE_STATIC_PC_${id} QUIET REQUIRED ${arg_PKG})
    set(hints ${CUTTLE_STATIC_PC_${id}_LIBRARY_DIRS})
    set(includes ${CUTTLE_STATIC_PC_${id}_INCLUDE_DIRS})
    set(options ${CUTTLE_STATIC_PC_${id}_CFLAGS_OTHER})
  endif()
  find_library(CUTTLE_STATIC_${id}_ARCHIVE NAMES lib${archive}.a HINTS ${hints} REQUIRED)
  add_library(${target} STATIC IMPORTED)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION "${CUTTLE_STATIC_${id}_ARCHIVE}"
                                             INTERFACE_INCLUDE_DIRECTORIES "${includes}"
                                             INTERFACE_COMPILE_OPTIONS "${options}"
                                             INTERFACE_LINK_LIBRARIES "${arg_LINK}")
endfunction()

# Engine: hash filters, Unicode, Match/Replace, Markdown.
cuttle_static_library(OpenSSL::Crypto crypto LINK Threads::Threads ${CMAKE_DL_LIBS})
cuttle_static_library(PkgConfig::UTF8PROC utf8proc PKG libutf8proc)
cuttle_static_library(PkgConfig::PCRE2 pcre2-8 PKG libpcre2-8)
cuttle_static_library(PkgConfig::CMARK_GFM cmark-gfm PKG libcmark-gfm)
cuttle_static_library(cuttle_cmark_gfm_extensions cmark-gfm-extensions LINK PkgConfig::CMARK_GFM)

# Deploy: packages, YAML, XML. libarchive's own dependencies are listed by hand: its pkg-config file names
# libraries (acl, lz4) that Debian ships only as shared objects, and the archive members cuttle uses (tar and
# zip readers, gzip and bzip2 filters) need only these. libxml2 (and ICU through it) is needed only by the
# formats cuttle does not enable, so it is no longer linked.
cuttle_static_library(cuttle_static_nettle nettle)
cuttle_static_library(cuttle_static_lzma lzma)
cuttle_static_library(cuttle_static_zstd zstd)
cuttle_static_library(cuttle_static_bz2 bz2)
cuttle_static_library(cuttle_static_z z)
cuttle_static_library(LibArchive::LibArchive archive PKG libarchive
                      LINK cuttle_static_nettle cuttle_static_lzma cuttle_static_zstd cuttle_static_bz2
                           cuttle_static_z)
cuttle_static_library(PkgConfig::FYAML fyaml PKG libfyaml LINK Threads::Threads)
cuttle_static_library(pugixml::pugixml pugixml)

# fmt: Debian ships no archive; header-only builds the few functions cuttle uses into it.
find_path(CUTTLE_FMT_INCLUDE_DIR fmt/format.h REQUIRED)
add_library(fmt::fmt INTERFACE IMPORTED)
set_target_properties(fmt::fmt PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CUTTLE_FMT_INCLUDE_DIR}"
                                          INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
