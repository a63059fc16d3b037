# LambdaRuntime.cmake - AWS Lambda bootstraps with lambda_runtime.h in a CMake project.
#
#   include(path/to/lambda_runtime/cmake/LambdaRuntime.cmake)
#   lambda_add_bootstrap(<name> SOURCES <files...>)
#
# defines two targets:
#   <name>      an executable, fully static, compiled and linked with LAMBDA_CFLAGS (the same
#               flags as the Makefile's LAMBDA_CFLAGS and the README's build line), stripped,
#               written as <current binary dir>/<name>/bootstrap
#   <name>-zip  writes <current binary dir>/<name>.zip with that bootstrap at its root, mode
#               0755, reproducible (tools/lambda-zip: fixed time, no extra fields; needs zip)
# The directory holding lambda_runtime.h (this file's parent) is on <name>'s include path.
# Everything else about <name> is an ordinary target: target_compile_definitions,
# target_link_libraries (static libraries only) and so on work as usual.
#
# C library, chosen when the project is configured:
#   - a compiler that is a musl wrapper already (CC=musl-gcc): used as it is;
#   - gcc: musl through musl-gcc's specs file, LAMBDA_MUSL_SPECS (found for the compiler's
#     target: Debian's /usr/lib/<arch>-linux-musl/musl-gcc.specs from musl-tools, or
#     musl-dev:arm64 with an aarch64 cross toolchain file; or musl's own install prefix);
#     this is exactly what musl-gcc does;
#   - otherwise (clang, no musl): static glibc, and a warning (about ten times larger).
# Set -DLAMBDA_MUSL_SPECS=OFF to choose static glibc on purpose.
# For arm64 on x86_64 configure with a cross toolchain, e.g.
#   cmake -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
#         -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc ...
include_guard(GLOBAL)
cmake_policy(VERSION 3.13...3.25)

get_filename_component(LAMBDA_RUNTIME_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
# one line, kept equal to the Makefile's LAMBDA_CFLAGS by tests/check_deploy.sh
set(LAMBDA_CFLAGS "-std=c99 -Os -static -fno-pie -no-pie -DLAMBDA_STATIC -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro -s")

# Which libc, once per configuration: sets _lambda_flags (a list) and _lambda_libc.
function(_lambda_choose_libc)
    separate_arguments(flags UNIX_COMMAND "${LAMBDA_CFLAGS}")
    get_filename_component(cc_name "${CMAKE_C_COMPILER}" NAME)
    execute_process(COMMAND "${CMAKE_C_COMPILER}" -dumpmachine
                    OUTPUT_VARIABLE machine OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    string(REGEX REPLACE "-.*" "" cpu "${machine}")
    set(libc "")
    if(cc_name MATCHES "musl-gcc$")
        set(libc "static musl (${cc_name})")
    elseif(CMAKE_C_COMPILER_ID STREQUAL "GNU")
        find_file(LAMBDA_MUSL_SPECS musl-gcc.specs
                  PATHS "/usr/lib/${cpu}-linux-musl" "/usr/local/musl/lib" "/usr/lib/musl/lib"
                  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH
                  DOC "musl-gcc's specs file for ${CMAKE_C_COMPILER} (OFF: static glibc)")
    endif()
    if(libc STREQUAL "" AND CMAKE_C_COMPILER_ID STREQUAL "GNU" AND LAMBDA_MUSL_SPECS)
        list(APPEND flags "-specs=${LAMBDA_MUSL_SPECS}")
        set(libc "static musl (${LAMBDA_MUSL_SPECS})")
    endif()
    if(libc STREQUAL "")
        # static glibc applies RELRO itself; only musl's start-up code ignores it
        list(REMOVE_ITEM flags "-Wl,-z,norelro")
        set(libc "static glibc")
        message(WARNING "lambda_add_bootstrap: no musl for ${cc_name} (${machine}); bootstraps are "
                        "linked with static glibc, about ten times larger. Install musl "
                        "(Debian: apt-get install musl-tools) or configure with CC=musl-gcc.")
    elseif(cpu STREQUAL "aarch64")
        # the default arm64 maximum page size (64 KiB) pads a static binary; Lambda uses 4 KiB
        list(APPEND flags "-Wl,-z,max-page-size=4096")
    endif()
    set(_lambda_flags "${flags}" PARENT_SCOPE)
    set(_lambda_libc "${libc}" PARENT_SCOPE)
endfunction()

function(lambda_add_bootstrap name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES")
    if(NOT arg_SOURCES)
        message(FATAL_ERROR "lambda_add_bootstrap(${name}): no SOURCES")
    endif()
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "lambda_add_bootstrap(${name}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
    endif()
    get_property(flags GLOBAL PROPERTY _LAMBDA_FLAGS)
    get_property(libc GLOBAL PROPERTY _LAMBDA_LIBC)
    if(NOT libc)
        _lambda_choose_libc()
        set(flags "${_lambda_flags}")
        set(libc "${_lambda_libc}")
        set_property(GLOBAL PROPERTY _LAMBDA_FLAGS "${flags}")
        set_property(GLOBAL PROPERTY _LAMBDA_LIBC "${libc}")
        message(STATUS "lambda_add_bootstrap: ${libc}")
    endif()

    # -DLAMBDA_STATIC makes the runtime's functions static: right for a one-file program only
    list(LENGTH arg_SOURCES nsources)
    if(nsources GREATER 1)
        list(REMOVE_ITEM flags -DLAMBDA_STATIC)
    endif()
    add_executable(${name} ${arg_SOURCES})
    target_include_directories(${name} PRIVATE "${LAMBDA_RUNTIME_DIR}")
    # the whole line at both steps, as one musl-gcc command would get it
    target_compile_options(${name} PRIVATE ${flags})
    target_link_options(${name} PRIVATE ${flags})
    # $<0:> keeps multi-configuration generators from adding a per-configuration directory
    set_target_properties(${name} PROPERTIES
        OUTPUT_NAME bootstrap
        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/${name}$<0:>")

    set(zip "${CMAKE_CURRENT_BINARY_DIR}/${name}.zip")
    add_custom_command(OUTPUT "${zip}"
        COMMAND sh "${LAMBDA_RUNTIME_DIR}/tools/lambda-zip" "${zip}" "bootstrap=$<TARGET_FILE:${name}>"
        DEPENDS ${name} "${LAMBDA_RUNTIME_DIR}/tools/lambda-zip"
        COMMENT "Packaging ${name}.zip"
        VERBATIM)
    add_custom_target(${name}-zip DEPENDS "${zip}")
endfunction()
