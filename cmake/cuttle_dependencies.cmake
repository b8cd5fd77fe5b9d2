# The engine's third-party libraries, all from Debian packages. Included by the build and by the installed
# cuttleConfig.cmake (the engine is a static library, so a consumer links these too).
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
if(NOT TARGET taocpp::pegtl)
  find_dependency(pegtl 3.2)
endif()
if(NOT TARGET nlohmann_json::nlohmann_json)
  find_dependency(nlohmann_json 3.10)
endif()
if(NOT TARGET fmt::fmt)
  find_dependency(fmt)
endif()
if(NOT TARGET OpenSSL::Crypto)
  find_dependency(OpenSSL 3)  # libcrypto: the hash filters
endif()
if(NOT TARGET PkgConfig::UTF8PROC)
  pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
endif()
if(NOT TARGET PkgConfig::PCRE2)
  pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)  # Match and Replace
endif()
if(NOT TARGET PkgConfig::CMARK_GFM)
  pkg_check_modules(CMARK_GFM REQUIRED IMPORTED_TARGET libcmark-gfm)  # Markdown
endif()
# The GFM extensions library (tables, strikethrough, autolinks) has no pkg-config file.
if(NOT TARGET cuttle_cmark_gfm_extensions)
  find_library(CUTTLE_CMARK_GFM_EXTENSIONS_LIBRARY NAMES cmark-gfm-extensions REQUIRED)
  add_library(cuttle_cmark_gfm_extensions UNKNOWN IMPORTED)
  set_target_properties(cuttle_cmark_gfm_extensions PROPERTIES
                        IMPORTED_LOCATION ${CUTTLE_CMARK_GFM_EXTENSIONS_LIBRARY}
                        INTERFACE_LINK_LIBRARIES PkgConfig::CMARK_GFM)
endif()
